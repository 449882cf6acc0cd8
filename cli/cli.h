/*
 * cli.h - what the parts of the mmf tool share: the subcommands, exit
 * codes, messages, number parsing, the input reader and the progress bar.
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

/* "mmf: FILE: message" on stderr (without "FILE: " when file is NULL). */
void cli_error(const char *file, const char *fmt, ...) CLI_PRINTF(2, 3);

/* cli_error with the message of an MMF_E* code. Returns CLI_ERROR. */
int cli_fail(const char *file, int code);

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
/* Numbers (cli_num.c)                                                       */
/* ------------------------------------------------------------------------ */

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

/* The largest file offset: 2^63 - 1. */
#define CLI_MAX_OFFSET ((uint64_t)INT64_MAX)

/* ------------------------------------------------------------------------ */
/* Reading input (cli_input.c)                                               */
/* ------------------------------------------------------------------------ */

/*
 * A run of consecutive input bytes: span byte i is input byte pos + i, and
 * lives at offset off + i of map (a window of a file) or at p[off + i] (a
 * span of the window cursor, for streams). Valid until the next call on
 * its input. Read it only through cli_span_*(), which are guarded.
 */
typedef struct cli_span {
  mmf_map *map;
  const unsigned char *p;
  size_t off, len;
  uint64_t pos;
} cli_span;

/*
 * An input to scan or dump: a file, or a stream (stdin, a pipe, a FIFO, a
 * /proc file), read front to back in spans. Regular files are mapped in
 * windows of at most the address-space budget; streams go through the
 * window cursor. Every access to the bytes runs under the fault guard: a
 * file truncated meanwhile gives MMF_ETRUNCATED, never SIGBUS.
 */
typedef struct cli_input {
  const char *name; /* for messages */
  cli_file file;
  int owns_fd;        /* close file.fd at the end (not stdin) */
  int streamed;       /* through the window cursor */
  uint64_t start;     /* file offset of input position 0 (stdin's) */
  uint64_t size;      /* files: bytes from start to EOF, at open */
  uint64_t budget;    /* largest file window, in bytes */
  uint64_t next;      /* input position of the next span */
  int ended;          /* files: the last window was handed out */
  mmf_map *map;       /* files: the current window */
  mmf_window *cursor; /* streams */
  cli_span cur;       /* cli_input_read()'s span, and */
  size_t cur_off;     /* how much of it was consumed */
} cli_input;

/* Open path ("-" or NULL: standard input). On failure prints the error
 * and returns CLI_ERROR; *in is then closed. A directory opens (as with
 * wc, the error comes when reading): cli_input_next says MMF_EISDIR. */
int cli_input_open(cli_input *in, const char *path);
void cli_input_close(cli_input *in);

/* The next span (s->len == 0 at the end). Returns 0 or an MMF_E* code; a
 * file that shrank is MMF_ETRUNCATED. */
int cli_input_next(cli_input *in, cli_span *s);

/* Skip up to `want` bytes; *skipped says how many the input had. For
 * regular files the length is the size at open (as hexdump -s judges it),
 * for streams what the stream holds. */
int cli_input_skip(cli_input *in, uint64_t want, uint64_t *skipped);

/* Copy the next n bytes into buf; *got < n only at the end. */
int cli_input_read(cli_input *in, void *buf, size_t n, size_t *got);

/* Guarded access to span bytes [off, off + len) (off relative to the
 * span): count a byte, find a string (*pos relative to the span, SIZE_MAX
 * if absent), copy. */
int cli_span_count(cli_input *in, const cli_span *s, size_t off, size_t len,
                   int byte, uint64_t *count);
int cli_span_find(cli_input *in, const cli_span *s, size_t off,
                  const void *needle, size_t nlen, size_t *pos);
int cli_span_copy(cli_input *in, const cli_span *s, size_t off, void *dst,
                  size_t n);

/* Largest window: 1 GiB on 64-bit systems, 64 MiB on 32-bit ones, or
 * MMF_CLI_WINDOW bytes when that is set (tests use tiny windows). */
uint64_t cli_window_budget(void);

/* Tests only: sleep MMF_CLI_TEST_DELAY_MS after mapping a piece, so that a
 * test can truncate the file under the command; first write "mapped" to
 * the file MMF_CLI_TEST_MARK, if set, so that the test knows when (a
 * fixed head start is not enough for a slow start, as under Wine). */
void cli_test_delay(void);

/* ------------------------------------------------------------------------ */
/* Page-cache helpers (cli_cache.c)                                          */
/* ------------------------------------------------------------------------ */

typedef struct cli_progress cli_progress;

/* Open a regular file (looked at first: a FIFO is refused, not waited
 * on). Prints the error and returns CLI_ERROR on failure. */
int cli_open_regular(const char *path, int writable, cli_file *f);

/*
 * Map f in windows of at most the budget and call fn(ctx, map, offset)
 * for each, in order (the map is closed afterwards). Stops at the first
 * non-zero return and returns it; a file that shrank meanwhile is
 * MMF_ETRUNCATED.
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
