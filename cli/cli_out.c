/*
 * cli_out.c - error messages, colour and small formatting helpers.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_color(FILE *f) {
  const char *no = getenv("NO_COLOR");
  if (no && no[0])
    return 0;
  return cli_os_isatty(fileno(f));
}

const char *cli_sgr(FILE *f, const char *seq) {
  static char buf[4][16];
  static int next;
  char *b;
  if (!cli_color(f))
    return "";
  b = buf[next++ % 4];
  snprintf(b, sizeof buf[0], "\033[%sm", seq);
  return b;
}

static void verror(const char *file, const char *fmt, va_list ap) {
  fflush(stdout); /* keep stdout and stderr in order on a terminal */
  fprintf(stderr, "%smmf:%s ", cli_sgr(stderr, CLI_RED),
          cli_sgr(stderr, CLI_RESET));
  if (file && cli_has_control(file)) {
    cli_shell_quote(stderr, file);
    fputs(": ", stderr);
  } else if (file) {
    fprintf(stderr, "%s: ", file);
  }
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void cli_error(const char *file, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  verror(file, fmt, ap);
  va_end(ap);
}

/* The codes that stand for an errno value, in the C library's (POSIX)
 * words, the same on every platform: messages then read as those of wc,
 * grep and hexdump. */
static const char *posix_words(int code) {
  switch (code) {
  case MMF_ENOENT:
    return "No such file or directory";
  case MMF_EACCES:
    return "Permission denied";
  case MMF_ENOTDIR:
    return "Not a directory";
  case MMF_ELOOP:
    return "Too many levels of symbolic links";
  case MMF_ENAMETOOLONG:
    return "File name too long";
  case MMF_EMFILE:
    return "Too many open files";
  case MMF_EEXIST:
    return "File exists";
  default:
    return NULL;
  }
}

int cli_fail(const char *file, int code) {
  const char *words = posix_words(code);
  cli_error(file, "%s", words ? words : mmf_strerror(code));
  return CLI_ERROR;
}

int cli_fail_io(const char *file, int code, int oserr) {
  if (code == MMF_EINVAL && oserr != 0) {
    cli_error(file,
              "the system refused to read it (invalid argument): it takes "
              "only reads of certain sizes or at certain offsets, as "
              "/proc/PID/pagemap does");
    return CLI_ERROR;
  }
  return cli_fail(file, code);
}

const char *cli_strerror(int err) {
#if defined(ENOTSUP)
  if (err == ENOTSUP)
    return "Operation not supported";
#endif
#if defined(_WIN32)
  if (err == EBUSY) /* msvcrt says "Resource device" */
    return "Device or resource busy";
#endif
  return strerror(err);
}

int cli_fail_os(const char *file, int err) {
  cli_error(file, "%s", cli_strerror(err));
  return CLI_ERROR;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "mmf: %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'mmf %s --help'.\n", cmd);
  return CLI_ERROR;
}

int cli_bad_option(const char *cmd, int c, char **argv) {
  /* musl's getopt leaves optind past the end after a last short option
   * that lacks its value: argv[optind - 1] is then the terminating NULL,
   * and optopt names the option. */
  const char *arg = argv[optind - 1] ? argv[optind - 1] : "";
  int is_long = strncmp(arg, "--", 2) == 0;
  if (c == ':' && !is_long && optopt > 0 && optopt < 256)
    return cli_usage_error(cmd, "option '-%c' needs a value", optopt);
  if (c == ':')
    return cli_usage_error(cmd, "option '%s' needs a value", arg);
  if (optopt && !is_long)
    return cli_usage_error(cmd, "unknown option '-%c'", optopt);
  return cli_usage_error(cmd, "unknown or ambiguous option '%s'", arg);
}

int cli_finish_output(int status) {
  if (fflush(stdout) != 0 || ferror(stdout)) {
    cli_error(NULL, "write error on standard output");
    return CLI_ERROR;
  }
  return status;
}

void cli_human_size(uint64_t bytes, char *buf, size_t cap) {
  static const char units[] = "KMGTPE";
  size_t u = 0;
  if (bytes < 1024) {
    snprintf(buf, cap, "%llu", (unsigned long long)bytes);
    return;
  }
  bytes /= 1024;
  while (bytes >= 1024 && u + 1 < sizeof units - 1) {
    bytes /= 1024;
    u++;
  }
  snprintf(buf, cap, "%llu%c", (unsigned long long)bytes, units[u]);
}
