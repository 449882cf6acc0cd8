/*
 * cli_progress.c - a one-line progress bar on stderr, for terminals only.
 *
 * Scripts and logs never see it: it is drawn only when stderr is a
 * terminal, for work of at least 64 MiB, at most ten times a second, and
 * it erases itself at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MIN_TOTAL ((uint64_t)64 << 20)
#define BAR_WIDTH 30

void cli_progress_begin(cli_progress *p, const char *label, uint64_t total) {
  const char *env = getenv("MMF_CLI_PROGRESS");
  memset(p, 0, sizeof *p);
  p->label = label;
  p->total = total;
  if (env && strcmp(env, "never") == 0)
    p->on = 0;
  else if (env && strcmp(env, "always") == 0)
    p->on = 1;
  else
    p->on = total >= MIN_TOTAL && cli_os_isatty(2);
  p->last_draw = -1.0;
}

static void draw(cli_progress *p, uint64_t done) {
  char bar[BAR_WIDTH + 1], a[32], b[32];
  size_t fill, i;
  double frac = p->total ? (double)done / (double)p->total : 1.0;
  if (frac > 1.0)
    frac = 1.0;
  fill = (size_t)(frac * BAR_WIDTH);
  for (i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  cli_human_size(done, a, sizeof a);
  cli_human_size(p->total, b, sizeof b);
  /* \r and "erase to end of line": the label may be long. */
  fprintf(stderr, "\r%s [%s] %3d%% %s/%s\033[K", p->label, bar,
          (int)(frac * 100.0), a, b);
  fflush(stderr);
}

void cli_progress_update(cli_progress *p, uint64_t done) {
  double now;
  if (!p->on)
    return;
  now = cli_os_now();
  if (p->last_draw >= 0.0 && now - p->last_draw < 0.1 && done < p->total)
    return;
  p->last_draw = now;
  draw(p, done);
}

void cli_progress_end(cli_progress *p) {
  if (!p->on)
    return;
  if (p->last_draw >= 0.0) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
  p->on = 0;
}
