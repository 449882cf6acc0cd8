/*
 * cli_each.c - one piece of work per input, on up to N threads (the
 * calling one among them), inputs taken in argument order so that the
 * early ones, which print first, are done first. Each result goes to the
 * input's own slot; the command prints them in order afterwards.
 */
#include <stdatomic.h>

#include "cli.h"

typedef struct each {
  size_t n;
  _Atomic size_t next;
  void (*fn)(size_t i, void *ctx);
  void *ctx;
} each;

static void run(void *arg) {
  each *e = arg;
  size_t i;
  while ((i = atomic_fetch_add(&e->next, 1)) < e->n)
    e->fn(i, e->ctx);
}

void cli_for_each(size_t n, unsigned threads, void (*fn)(size_t i, void *ctx),
                  void *ctx) {
  cli_thread th[CLI_MAX_THREADS];
  unsigned started = 0, i;
  each e;
  e.n = n;
  atomic_init(&e.next, 0);
  e.fn = fn;
  e.ctx = ctx;
  if (threads > CLI_MAX_THREADS)
    threads = CLI_MAX_THREADS;
  if (threads > n)
    threads = (unsigned)n;
  /* A thread the system refuses is no error: the others take its share. */
  for (i = 1; i < threads; i++) {
    if (cli_os_thread_start(&th[started], run, &e) != 0)
      break;
    started++;
  }
  run(&e);
  for (i = 0; i < started; i++)
    cli_os_thread_join(&th[i]);
}
