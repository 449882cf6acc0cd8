/*
 * cli.h - what the parts of the mmf tool share: the subcommands, exit
 * codes, messages, number parsing, inputs for the library's scans, the
 * byte reader and the progress bar.
 *
 * The tool uses only the public API in mmf.h. What the library has no call
 * for (posix_fadvise, clocks, signals, isatty, /proc/self/smaps) lives
 * behind cli_os.h, so that a port touches one file.
 */
#ifndef MMF_CLI_H
#define MMF_CLI_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "mmf.h"
#include "cli_os.h"

/* printf-style checking of the tool's message functions. mingw-w64 says
 * which printf its stdio is (its own C99 one, or msvcrt's). */
#if defined(__MINGW_PRINTF_FORMAT)
#define CLI_PRINTF(f, a) __attribute__((format(__MINGW_PRINTF_FORMAT, f, a)))
#elif defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* Exit codes, as grep uses them. */
enum {
  CLI_OK = 0,    /* success; find: at least one occurrence */
  CLI_NONE = 1,  /* find: no occurrence */
  CLI_ERROR = 2, /* usage error, or any file failed */
};

/* One subcommand: argv[0] is the subcommand's name. Returns an exit code. */
int cmd_lines(int argc, char **argv);
int cmd_find(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_peek(int argc, char **argv);
int cmd_poke(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_touch(int argc, char **argv);
int cmd_evict(int argc, char **argv);
int cmd_lock(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_shm(int argc, char **argv);
int cmd_locks(int argc, char **argv);

/* ------------------------------------------------------------------------ */
/* Messages (cli_out.c)                                                      */
/* ------------------------------------------------------------------------ */

/* "mmf: FILE: message" on stderr (without "FILE: " when file is NULL). A
 * FILE with control characters (a newline...) is quoted as
 * cli_shell_quote() does, so that one message stays one line. */
void cli_error(const char *file, const char *fmt, ...) CLI_PRINTF(2, 3);

/* cli_error with the message of an MMF_E* code: the C library's words for
 * the codes that stand for an errno value ("No such file or directory"),
 * mmf_strerror() for the others. Returns CLI_ERROR. */
int cli_fail(const char *file, int code);

/* cli_fail for a failed read or scan, with oserr the raw OS error behind
 * it: an MMF_EINVAL the system gave (the tool's own arguments were
 * checked) says what it means, that the input refuses reads of the sizes
 * or at the offsets asked. Returns CLI_ERROR. */
int cli_fail_io(const char *file, int code, int oserr);

/* strerror(err), with the POSIX text for errno values whose text the C
 * runtime lacks or garbles (msvcrt: ENOTSUP is "Unknown error", EBUSY
 * "Resource device"). */
const char *cli_strerror(int err);

/* cli_error with cli_strerror(err). Returns CLI_ERROR. */
int cli_fail_os(const char *file, int err);

/* A usage error of subcommand cmd: the message, then a pointer to --help.
 * Returns CLI_ERROR. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/*
 * Reports getopt_long's verdict on a bad option (it runs with opterr = 0):
 * c is what getopt_long returned ('?' or ':'), argv and optind as it left
 * them. Returns CLI_ERROR.
 */
int cli_bad_option(const char *cmd, int c, char **argv);

/* Whether colour may be written to f: a terminal, and NO_COLOR unset or
 * empty (https://no-color.org). */
int cli_color(FILE *f);

/* ANSI sequences, or "" when colour is off for f. */
const char *cli_sgr(FILE *f, const char *seq);
#define CLI_BOLD "1"
#define CLI_RED "31"
#define CLI_GREEN "32"
#define CLI_RESET "0"

/* Flushes stdout and reports a write error (a full disk, a closed pipe) as
 * an error. Returns status, or CLI_ERROR if writing failed. */
int cli_finish_output(int status);

/* A size like vmtouch prints it: 123, 4K, 56M, 7G (truncated). */
void cli_human_size(uint64_t bytes, char *buf, size_t cap);

/* ------------------------------------------------------------------------ */
/* Quoting names (cli_quote.c)                                               */
/* ------------------------------------------------------------------------ */

/*
 * Write name to f in single quotes, as GNU coreutils quote a file name in
 * the shell-escape style (wc, ls --quoting-style=shell-escape-always):
 * 'new'$'\n''line'. Characters the locale cannot print are written as C
 * escapes inside $'...' (\n, \t, ...; octal \ooo for the others), a
 * single quote as '\''. The result is a shell word that gives back the
 * exact bytes.
 */
void cli_shell_quote(FILE *f, const char *name);

/* Whether name holds a control character (below 0x20, or 0x7f). */
int cli_has_control(const char *name);

/* ------------------------------------------------------------------------ */
/* Numbers (cli_num.c)                                                       */
/* ------------------------------------------------------------------------ */

/* The value of a hex digit (decimal and octal digits included), or -1. */
int cli_hex_digit(char c);

/*
 * Parse a size or offset the way util-linux tools (hexdump -s/-n) do: a
 * decimal number, 0x... hexadecimal, 0... octal, optionally followed by
 * K, M, G, T, P or E (powers of 1024, also as KiB, MiB, ...) or KB, MB, ...
 * (powers of 1000). No sign, no spaces, nothing after the suffix. Values
 * above max are refused. Returns 0, or -1 with a reason in *why ("not a
 * number", "negative", "too large").
 */
int cli_parse_size(const char *s, uint64_t max, uint64_t *out,
                   const char **why);

/* cli_parse_size that prints "mmf: CMD: invalid WHAT 'S': why". */
int cli_get_size(const char *cmd, const char *what, const char *s, uint64_t max,
                 uint64_t *out);

/*
 * getopt takes "-1" for an option. Before it runs, report a negative number
 * given where a number operand is expected ("mmf peek f -1") as
 * cli_get_size reports "mmf peek f -- -1": names[k] (k < nnames) says what
 * the k-th operand is ("offset"), NULL for one that is not a number;
 * value_opts lists the options whose value is the next argument ("-s",
 * "--string"), NULL-terminated. Returns CLI_ERROR after printing, else 0.
 */
int cli_negative_operand(const char *cmd, int argc, char **argv,
                         const char *const *names, size_t nnames,
                         const char *const *value_opts);

/* The largest file offset: 2^63 - 1. */
#define CLI_MAX_OFFSET ((uint64_t)INT64_MAX)

/* ------------------------------------------------------------------------ */
/* Inputs for the library's scans (cli_scan.c)                               */
/* ------------------------------------------------------------------------ */

/*
 * An input named on the command line: a path, which the library opens
 * itself, or standard input ("-", or no FILE at all), which it reads from
 * descriptor 0. A regular file on standard input is read from its current
 * position (a shell may have read part of it already), as wc and grep do;
 * offsets are then counted from there.
 */
typedef struct cli_source {
  const char *name; /* for messages and output: the argument, or "-" */
  const char *path; /* NULL: standard input */
  int fd;           /* standard input's descriptor */
  int kind;         /* standard input's enum cli_kind (0 for a path) */
  uint64_t start;   /* standard input: file offset of its position */
} cli_source;

/* Name the input arg (NULL or "-": standard input). Prints the error and
 * returns CLI_ERROR when standard input cannot be described. */
int cli_source_of(const char *arg, cli_source *s);

/*
 * The scan options of every command: the default io and budget, unless
 * the tests' MMF_CLI_WINDOW (budget in bytes, at least two granularity
 * units) or MMF_CLI_IO ("read", "map" or "auto") say otherwise; offset
 * where s starts.
 */
void cli_scan_options(const cli_source *s, mmf_scan_options *o);

/*
 * Threads per scan (-j, --threads): what cli_scan_options puts in
 * mmf_scan_options.threads. 0 until a command sets it; at most
 * CLI_MAX_THREADS. cli_get_threads parses the option's value (1 to
 * CLI_MAX_THREADS), printing "mmf: CMD: invalid threads ..." otherwise.
 */
#define CLI_MAX_THREADS 64
extern unsigned cli_scan_threads;
int cli_get_threads(const char *cmd, const char *s, unsigned *out);

/* The default of -j: the processors online, at most CLI_DEFAULT_THREADS
 * (docs/mmf.1 says why). */
#define CLI_DEFAULT_THREADS 8
unsigned cli_default_threads(void);

/* fn(i, ctx) for every i below n, on up to `threads` threads (the calling
 * one among them), i taken in increasing order (cli_each.c). */
void cli_for_each(size_t n, unsigned threads, void (*fn)(size_t i, void *ctx),
                  void *ctx);

/* mmf_count_byte_path or _fd over s. On failure *count is the count so
 * far and *oserr the raw OS error. */
int cli_count_byte(const cli_source *s, int byte, uint64_t *count, int *oserr);

/* mmf_count_matches_path or _fd over s; as cli_count_byte. */
int cli_count_matches(const cli_source *s, const void *needle, size_t nlen,
                      uint64_t *count, int *oserr);

/* mmf_matches_open or _open_fd over s, with extra scan flags. */
int cli_matches_open(const cli_source *s, unsigned flags, const void *needle,
                     size_t nlen, mmf_matches **it, int *oserr);

/* ------------------------------------------------------------------------ */
/* Reading bytes in order (cli_read.c)                                       */
/* ------------------------------------------------------------------------ */

/*
 * An input read front to back, for dump and peek: a window cursor
 * (mmf_window_open_fd) over the file or stream. Bytes are copied out of
 * the cursor's spans under its fault guard; for a mapped file the size is
 * checked after every copy, because the bytes past a new end of file in
 * its last page read as zeros without any fault: only bytes that are
 * still below the end are handed out.
 */
typedef struct cli_reader {
  cli_source src;
  cli_file file; /* the descriptor the cursor was made from */
  int owns_fd;   /* close file.fd at the end (not standard input) */
  mmf_window *w; /* the cursor */
  int mapped;    /* mmf_window_is_mapped */
  uint64_t pos;  /* input position (from src.start) of the next byte */
  const unsigned char *span; /* the current span, bytes [used, n) unread */
  size_t n, used;
} cli_reader;

/* Open arg (NULL or "-": standard input). On failure prints the error and
 * returns CLI_ERROR; nothing is left open. */
int cli_reader_open(cli_reader *r, const char *arg);
void cli_reader_close(cli_reader *r);

/*
 * Skip up to `want` bytes; *skipped says how many the input had. A
 * regular file's length is its size at open (as hexdump -s judges it)
 * and the skip is a jump; a stream is moved by the cursor's seek, which
 * jumps where the device allows it (/dev/zero) and reads and discards the
 * bytes where it does not (a pipe); a /proc file is read, since only
 * reading tells its length.
 */
int cli_reader_skip(cli_reader *r, uint64_t want, uint64_t *skipped);

/* Copy the next n bytes into buf; *got < n at the end of the input, or
 * on failure (then *got bytes are good: a file cut under the reader is
 * MMF_ETRUNCATED with the bytes that were still in it). */
int cli_reader_read(cli_reader *r, void *buf, size_t n, size_t *got);

/* Tests only: sleep MMF_CLI_TEST_DELAY_MS after mapping a piece, so that a
 * test can truncate the file under the command; first write "mapped" to
 * the file MMF_CLI_TEST_MARK, if set, so that the test knows when (a
 * fixed head start is not enough for a slow start, as under Wine). */
void cli_test_delay(void);

/* Largest window: 1 GiB on 64-bit systems, 64 MiB on 32-bit ones, or
 * MMF_CLI_WINDOW bytes when that is set (tests use tiny windows). */
uint64_t cli_window_budget(void);

/* ------------------------------------------------------------------------ */
/* Page-cache helpers (cli_cache.c)                                          */
/* ------------------------------------------------------------------------ */

typedef struct cli_progress cli_progress;

/*
 * The options of touch, evict and lock: -q and -h. Returns -1 when the
 * command goes on with the files at argv[optind..] (at least one), else
 * the exit status (after --help, a bad option or no FILE). more_help, if
 * not NULL, prints what follows the usage text.
 */
int cli_cache_options(const char *cmd, const char *usage,
                      void (*more_help)(void), int argc, char **argv,
                      int *quiet);

/* Open a regular file (looked at first: a FIFO is refused, not waited
 * on). Prints the error and returns CLI_ERROR on failure. */
int cli_open_regular(const char *path, int writable, cli_file *f);

/*
 * Map f in windows of at most the budget and call fn(ctx, map, offset)
 * for each, in order (the map is closed afterwards); while the address
 * space refuses a window (ulimit -v), windows of half the size, down to
 * 2 MiB. Stops at the first non-zero return and returns it; a file that
 * shrank meanwhile is MMF_ETRUNCATED.
 */
int cli_each_window(cli_file *f, unsigned flags,
                    int (*fn)(void *ctx, mmf_map *m, uint64_t off), void *ctx);

/* Read one byte of every page of m, under the fault guard, reporting
 * progress as done + bytes touched so far. Loads the file into the page
 * cache (what vmtouch -t does). */
int cli_touch_pages(mmf_map *m, cli_progress *p, uint64_t done);

/* Resident pages of f (mincore), into *pages. */
int cli_resident_pages(cli_file *f, uint64_t *pages);

/* The "Files: N" style summary lines of vmtouch. */
void cli_summary_line(const char *label, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ------------------------------------------------------------------------ */
/* Progress bar (cli_progress.c)                                             */
/* ------------------------------------------------------------------------ */

/* A progress bar on stderr, drawn only when stderr is a terminal and the
 * work is large (MMF_CLI_PROGRESS=always forces it, =never hides it). */
struct cli_progress {
  int on;
  const char *label;
  uint64_t total;
  double last_draw;
};

void cli_progress_begin(cli_progress *p, const char *label, uint64_t total);
void cli_progress_update(cli_progress *p, uint64_t done);
void cli_progress_end(cli_progress *p);

#endif /* MMF_CLI_H */
