/*
 * inject_cases.c - the public-function cases every backend's failure
 * injection walks (see inject_walk.h): opens of files, streams and
 * anonymous memory, resizes, flushes and the other controls, closes.
 * Each is an operation plus what must hold after it, whether it failed
 * or not. Cases that need one OS (its devices, its address-space tricks)
 * live in that backend's test file.
 */
#include "inject_walk.h"

#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "scan/scan_job.h"

#define FSIZE INJ_FSIZE
#define MIB INJ_MIB

const char *inject_file(void) { return test_path("f"); }

/* ------------------------------------------------------------------------ */
/* Shared setups and checks                                                  */
/* ------------------------------------------------------------------------ */

void inject_setup_file(inject_ctx *c) {
  write_pattern(inject_file(), FSIZE);
  c->fsize0 = FSIZE;
}

void inject_setup_nothing(inject_ctx *c) { (void)c; }

void inject_open_for_handle(inject_ctx *c, int mode, const mmf_options *o) {
  inject_setup_file(c);
  ASSERT_OK(mmf_open(&c->m, inject_file(), mode, o));
  c->size0 = mmf_size(c->m);
}

void inject_check_bytes(const inject_ctx *c, uint64_t off, uint64_t n) {
  ASSERT_TRUE(c->m != NULL);
  ASSERT_EQ_U(mmf_size(c->m), n);
  ASSERT_EQ_U(mmf_offset(c->m), off);
  ASSERT_PAT(mmf_data(c->m), off, n);
}

static void check_usable(inject_ctx *c, uint64_t off) {
  int r = mmf_flush(c->m, 0, 0, MMF_FLUSH_ASYNC);
  if (r == MMF_EPOISONED)
    return;
  ASSERT_OK(r);
  ASSERT_EQ_U(mmf_size(c->m), c->size0);
  ASSERT_PAT(mmf_data(c->m), off, c->size0);
}

void inject_verify_handle(inject_ctx *c, int rc) {
  (void)rc;
  check_usable(c, mmf_offset(c->m));
}

void inject_verify_resize(inject_ctx *c, int rc, uint64_t new_size) {
  const uint64_t off = mmf_offset(c->m);
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), new_size);
    if (mmf_mode(c->m) == MMF_WRITE)
      ASSERT_EQ_U(file_size(inject_file()), off + new_size);
    uint64_t keep = new_size < c->size0 ? new_size : c->size0;
    uint64_t fkeep = c->fsize0 > off ? c->fsize0 - off : 0;
    if (keep > fkeep)
      keep = fkeep;
    ASSERT_PAT(mmf_data(c->m), off, keep > 100 ? 100 : keep);
    return;
  }
  int r = mmf_flush(c->m, 0, 0, MMF_FLUSH_ASYNC);
  if (r == MMF_EPOISONED)
    return;
  ASSERT_OK(r);
  ASSERT_EQ_U(mmf_size(c->m), c->size0);
  /* The file still holds every mapped byte: touching them is safe. */
  ASSERT_GE_U(file_size(inject_file()), off + c->size0);
  if (mmf_mode(c->m) == MMF_WRITE)
    ASSERT_EQ_U(file_size(inject_file()), c->fsize0);
  ASSERT_PAT(mmf_data(c->m), off, c->size0 > 100 ? 100 : c->size0);
  volatile unsigned char *last = (unsigned char *)mmf_data(c->m) + c->size0 - 1;
  (void)*last;
}

/* ------------------------------------------------------------------------ */
/* Opens of a regular file                                                   */
/* ------------------------------------------------------------------------ */

static void verify_whole(inject_ctx *c, int rc) {
  if (rc == 0)
    inject_check_bytes(c, 0, FSIZE);
  ASSERT_EQ_U(file_size(inject_file()), FSIZE);
}

static int op_open_read(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_READ, NULL);
}
static int op_open_copy(inject_ctx *c) {
  int rc = mmf_open(&c->m, inject_file(), MMF_COPY, NULL);
  if (rc == 0)
    ((unsigned char *)mmf_data(c->m))[0] = pat(0); /* writable */
  return rc;
}
static int op_open_write(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_WRITE, NULL);
}
static int op_open_flags(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_READ,
                  &(mmf_options){.flags = MMF_POPULATE | MMF_SEQUENTIAL |
                                          MMF_HUGE | MMF_LOCKED});
}
static int op_open_copy_flags(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_COPY,
                  &(mmf_options){.flags = MMF_RANDOM | MMF_LOCKED});
}
static int op_open_fd_read(inject_ctx *c) {
  int fd = test_open(inject_file(), O_RDONLY);
  int rc = mmf_open_fd(&c->m, fd, MMF_READ, NULL);
  close(fd);
  return rc;
}
static int op_open_fd_write(inject_ctx *c) {
  int fd = test_open(inject_file(), O_RDWR);
  int rc = mmf_open_fd(&c->m, fd, MMF_WRITE, NULL);
  close(fd);
  return rc;
}

static int op_open_offset(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_READ,
                  &(mmf_options){.offset = 4096 + 7, .length = 4096});
}
static void verify_offset(inject_ctx *c, int rc) {
  if (rc == 0)
    inject_check_bytes(c, 4096 + 7, 4096);
}

/* MMF_WRITE growing the file: a failed open leaves the file as it was. */
static int op_open_grow(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_WRITE,
                  &(mmf_options){.offset = 4096 + 1, .length = 5 * 4096});
}
static void verify_grow(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(file_size(inject_file()), 4096 + 1 + 5 * 4096);
    ASSERT_EQ_U(mmf_size(c->m), 5 * 4096);
    ASSERT_PAT(mmf_data(c->m), 4096 + 1, FSIZE - 4096 - 1);
    ASSERT_ZERO((unsigned char *)mmf_data(c->m) + FSIZE - 4096 - 1,
                5 * 4096 - (FSIZE - 4096 - 1));
  } else {
    ASSERT_EQ_U(file_size(inject_file()), FSIZE);
  }
}

static int op_open_prealloc(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_WRITE,
                  &(mmf_options){.size = 8 * 4096,
                                 .flags = MMF_PREALLOCATE | MMF_SYNC_ON_CLOSE});
}
static void verify_prealloc(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(file_size(inject_file()), 8 * 4096);
    ASSERT_PAT(mmf_data(c->m), 0, FSIZE);
  } else {
    ASSERT_EQ_U(file_size(inject_file()), FSIZE);
  }
}

/* Offset past the end even after growing to size: the growth is undone. */
static int op_open_grow_erange(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_WRITE,
                  &(mmf_options){.offset = 9 * 4096, .size = 8 * 4096});
}
static void verify_unchanged_file(inject_ctx *c, int rc) {
  (void)c;
  (void)rc;
  ASSERT_EQ_U(file_size(inject_file()), FSIZE);
}

static void setup_missing(inject_ctx *c) {
  test_unlink(inject_file());
  c->fsize0 = 0;
}
static int op_open_create(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_WRITE,
                  &(mmf_options){.flags = MMF_CREATE, .size = 2 * 4096});
}
static void verify_create(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 2 * 4096);
    ASSERT_ZERO(mmf_data(c->m), 2 * 4096);
    ASSERT_EQ_U(file_size(inject_file()), 2 * 4096);
  }
}

static void setup_empty(inject_ctx *c) {
  write_file(inject_file(), NULL, 0);
  c->fsize0 = 0;
}
static int op_open_empty(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_COPY, NULL);
}
static void verify_empty(inject_ctx *c, int rc) {
  if (rc == 0)
    ASSERT_EQ_U(mmf_size(c->m), 0);
}

static int op_open_dir(inject_ctx *c) {
  return mmf_open(&c->m, test_dir(), MMF_READ, NULL);
}

/* A large map: reservation, placed mapping, trimming. */
static void setup_big(inject_ctx *c) {
  make_sparse(inject_file(), 16 * MIB);
  write_at(inject_file(), 4096 + 123, "big", 3);
  c->fsize0 = 16 * MIB;
}
static int op_open_big(inject_ctx *c) {
  return mmf_open(&c->m, inject_file(), MMF_READ,
                  &(mmf_options){.offset = 4096 + 123, .length = 8 * MIB});
}
static void verify_big(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 8 * MIB);
    ASSERT_MEMEQ(mmf_data(c->m), "big", 3);
    if (mmf_is_mapped(c->m) &&
        (inject_current()->placement_survives_failure || !inject_hit()))
      ASSERT_EQ_U(((uintptr_t)mmf_data(c->m) - (4096 + 123)) % (2 * MIB), 0);
  }
}

/* ------------------------------------------------------------------------ */
/* Streams, read into memory                                                 */
/* ------------------------------------------------------------------------ */

static void setup_fifo(inject_ctx *c) {
  test_fifo_start(&c->fifo, "fifo", 200000);
  c->fifo_live = true;
}
static int op_open_fifo(inject_ctx *c) {
  return mmf_open(&c->m, c->fifo.path, MMF_READ, NULL);
}
static void verify_fifo(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_FALSE(mmf_is_mapped(c->m));
    inject_check_bytes(c, 0, 200000);
  }
}
static int op_open_fifo_offset(inject_ctx *c) {
  return mmf_open(&c->m, c->fifo.path, MMF_COPY,
                  &(mmf_options){.offset = 70001, .length = 100000});
}
static void verify_fifo_offset(inject_ctx *c, int rc) {
  if (rc == 0)
    inject_check_bytes(c, 70001, 100000);
}

static int op_open_pipe(inject_ctx *c) {
  int fds[2];
  unsigned char buf[30000];
  test_pipe(fds);
  fill_pat(buf, 0, sizeof buf);
  ASSERT_EQ(write(fds[1], buf, sizeof buf), (int)sizeof buf);
  close(fds[1]);
  int rc = mmf_open_fd(&c->m, fds[0], MMF_READ, NULL);
  close(fds[0]);
  return rc;
}
static void verify_pipe(inject_ctx *c, int rc) {
  if (rc == 0)
    inject_check_bytes(c, 0, 30000);
}

/* ------------------------------------------------------------------------ */
/* Anonymous memory                                                          */
/* ------------------------------------------------------------------------ */

static int op_anon_private(inject_ctx *c) {
  return mmf_anon(&c->m, 3 * 4096, 0);
}
static int op_anon_shared(inject_ctx *c) {
  return mmf_anon(&c->m, 3 * 4096, MMF_SHARED | MMF_POPULATE);
}
static int op_anon_shared_locked(inject_ctx *c) {
  return mmf_anon(&c->m, 3 * 4096, MMF_SHARED | MMF_POPULATE | MMF_LOCKED);
}
static int op_anon_huge(inject_ctx *c) {
  return mmf_anon(&c->m, 4 * MIB, MMF_HUGE);
}
static int op_anon_huge_locked(inject_ctx *c) {
  return mmf_anon(&c->m, 4 * MIB, MMF_HUGE | MMF_LOCKED);
}
static void verify_anon(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_ZERO(mmf_data(c->m), mmf_size(c->m));
    memset(mmf_data(c->m), 1, mmf_size(c->m));
  }
}

/* ------------------------------------------------------------------------ */
/* Resizes                                                                   */
/* ------------------------------------------------------------------------ */

void inject_setup_write_map(inject_ctx *c) {
  inject_open_for_handle(c, MMF_WRITE, NULL);
}
static void setup_read_map(inject_ctx *c) {
  inject_open_for_handle(c, MMF_READ, &(mmf_options){.length = 4096});
}
static void setup_copy_map(inject_ctx *c) {
  inject_open_for_handle(c, MMF_COPY,
                         &(mmf_options){.offset = 5, .length = 4096});
}
static void setup_locked_map(inject_ctx *c) {
  inject_open_for_handle(c, MMF_WRITE, &(mmf_options){.flags = MMF_LOCKED});
}
static void setup_prealloc_map(inject_ctx *c) {
  inject_open_for_handle(
      c, MMF_WRITE,
      &(mmf_options){.flags = MMF_PREALLOCATE | MMF_SYNC_ON_CLOSE});
}
static void setup_anon_map(inject_ctx *c) {
  ASSERT_OK(mmf_anon(&c->m, 4096, 0));
  memset(mmf_data(c->m), 0xa5, 4096);
  c->size0 = 4096;
}

static int op_resize_grow(inject_ctx *c) {
  return mmf_resize(c->m, 5 * 4096 + 9);
}
static void verify_resize_grow(inject_ctx *c, int rc) {
  inject_verify_resize(c, rc, 5 * 4096 + 9);
}
static int op_resize_shrink(inject_ctx *c) {
  return mmf_resize(c->m, 4096 + 1);
}
static void verify_resize_shrink(inject_ctx *c, int rc) {
  inject_verify_resize(c, rc, 4096 + 1);
}
static int op_resize_zero_and_back(inject_ctx *c) {
  int rc = mmf_resize(c->m, 0);
  if (rc == 0)
    rc = mmf_resize(c->m, FSIZE);
  return rc;
}
static void verify_resize_zero_and_back(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), FSIZE);
    ASSERT_EQ_U(file_size(inject_file()), FSIZE);
    return;
  }
  /* Either step may have failed: the map is empty or whole, and usable. */
  int r = mmf_flush(c->m, 0, 0, MMF_FLUSH_ASYNC);
  if (r == MMF_EPOISONED)
    return;
  ASSERT_OK(r);
  ASSERT_GE_U(file_size(inject_file()), mmf_size(c->m));
  ASSERT_TRUE(mmf_size(c->m) == 0 || mmf_size(c->m) == FSIZE);
  ASSERT_PAT(mmf_data(c->m), 0, mmf_size(c->m) > 100 ? 100 : mmf_size(c->m));
}
static int op_resize_read_grow(inject_ctx *c) {
  return mmf_resize(c->m, FSIZE);
}
static void verify_resize_read_grow(inject_ctx *c, int rc) {
  inject_verify_resize(c, rc, FSIZE);
}
static int op_resize_copy_grow(inject_ctx *c) {
  ((unsigned char *)mmf_data(c->m))[0] = pat(5); /* a private page */
  return mmf_resize(c->m, FSIZE - 5);
}
static void verify_resize_copy_grow(inject_ctx *c, int rc) {
  inject_verify_resize(c, rc, FSIZE - 5);
}
static int op_resize_anon(inject_ctx *c) {
  int rc = mmf_resize(c->m, 3 * MIB);
  if (rc == 0)
    rc = mmf_resize(c->m, 100);
  return rc;
}
static void verify_resize_anon(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 100);
    ASSERT_EQ(((unsigned char *)mmf_data(c->m))[99], 0xa5);
    return;
  }
  int r = mmf_flush(c->m, 0, 0, MMF_FLUSH_ASYNC);
  if (r == MMF_EPOISONED)
    return;
  ASSERT_TRUE(mmf_size(c->m) == 4096 || mmf_size(c->m) == 3 * MIB);
  ASSERT_EQ(((unsigned char *)mmf_data(c->m))[4095], 0xa5);
}

/* ------------------------------------------------------------------------ */
/* Flush, advise, protect, lock, resident                                    */
/* ------------------------------------------------------------------------ */

static int op_flush_async(inject_ctx *c) {
  ((unsigned char *)mmf_data(c->m))[1] = pat(1);
  return mmf_flush(c->m, 1, 4096, MMF_FLUSH_ASYNC);
}
static int op_flush_sync(inject_ctx *c) {
  return mmf_flush(c->m, 0, 0, MMF_FLUSH_SYNC);
}
static int op_flush_full(inject_ctx *c) {
  return mmf_flush(c->m, 4095, 2, MMF_FLUSH_FULL);
}

/* The first full flush of a created file syncs its directory too. */
static void setup_created_map(inject_ctx *c) {
  setup_missing(c);
  ASSERT_OK(mmf_open(&c->m, inject_file(), MMF_WRITE,
                     &(mmf_options){.flags = MMF_CREATE, .size = 10}));
  c->size0 = 10;
}
static int op_flush_full_created(inject_ctx *c) {
  return mmf_flush(c->m, 0, 0, MMF_FLUSH_FULL);
}
static void verify_flush_created(inject_ctx *c, int rc) {
  (void)rc;
  /* A retry after a failed flush works. */
  ASSERT_OK(mmf_flush(c->m, 0, 0, MMF_FLUSH_FULL));
  ASSERT_EQ_U(mmf_size(c->m), 10);
}

/* Every advice the OS takes. */
static int op_advise_all(inject_ctx *c) {
  for (int a = MMF_ADV_NORMAL; a <= inject_current()->last_advice; a++) {
    int rc = mmf_advise(c->m, 1, 2 * 4096, a);
    if (rc)
      return rc;
  }
  return 0;
}
static int op_protect(inject_ctx *c) {
  int rc = mmf_protect(c->m, 4096, 1, MMF_PROT_NONE);
  if (rc == 0)
    rc = mmf_protect(c->m, 0, 0, MMF_PROT_READ);
  if (rc == 0)
    rc = mmf_protect(c->m, 0, 0, MMF_PROT_WRITE);
  return rc;
}
static void verify_protect(inject_ctx *c, int rc) {
  /* Whatever failed, restore access with the calls themselves. */
  (void)rc;
  ASSERT_OK(mmf_protect(c->m, 0, 0, MMF_PROT_WRITE));
  check_usable(c, 0);
}
static int op_lock(inject_ctx *c) {
  int rc = mmf_lock_memory(c->m, 0, 0);
  if (rc == 0)
    rc = mmf_unlock_memory(c->m, 1, 4096);
  if (rc == 0)
    rc = mmf_unlock_memory(c->m, 0, 0);
  return rc;
}
static int op_resident(inject_ctx *c) {
  c->bytes = 12345;
  return mmf_resident(c->m, 3, 0, &c->bytes);
}
static void verify_resident(inject_ctx *c, int rc) {
  if (rc == 0)
    ASSERT_LE_U(c->bytes, mmf_size(c->m) - 3);
  else
    ASSERT_EQ_U(c->bytes, 0);
  check_usable(c, 0);
}

/* ------------------------------------------------------------------------ */
/* Close                                                                     */
/* ------------------------------------------------------------------------ */

static int op_close(inject_ctx *c) {
  int rc = mmf_close(c->m);
  c->m = NULL;
  return rc;
}
static void setup_sync_close_map(inject_ctx *c) {
  inject_open_for_handle(c, MMF_WRITE,
                         &(mmf_options){.flags = MMF_SYNC_ON_CLOSE});
  memcpy(mmf_data(c->m), "dirty", 5);
}
static void setup_fallback_map(inject_ctx *c) {
  ASSERT_OK(op_open_pipe(c));
  ASSERT_FALSE(mmf_is_mapped(c->m));
}

/* ------------------------------------------------------------------------ */
/* Sharing: wait and wake                                                    */
/* ------------------------------------------------------------------------ */

/* The 32-bit word at offset 8 of the map. */
static uint32_t word8(inject_ctx *c) {
  uint32_t w;
  memcpy(&w, (unsigned char *)mmf_data(c->m) + 8, sizeof w);
  return w;
}
static void set_word8(inject_ctx *c, uint32_t w) {
  memcpy((unsigned char *)mmf_data(c->m) + 8, &w, sizeof w);
}

static int op_wait_timeout(inject_ctx *c) {
  return mmf_wait(c->m, 8, word8(c), 20000000);
}
static int op_wake(inject_ctx *c) { return mmf_wake(c->m, 8, INT_MAX); }

/* A thread that waits until the word at 8 changes from the value it had
 * (c->bytes). Its calls are not the operation's: only the arming
 * thread's calls count. */
typedef struct waiter {
  inject_ctx *c;
  test_thread thread;
  atomic_int done;
} waiter;

static void *wait_for_change(void *arg) {
  waiter *w = arg;
  while (word8(w->c) == (uint32_t)w->c->bytes)
    (void)mmf_wait(w->c->m, 8, (uint32_t)w->c->bytes, 30000000000);
  atomic_store(&w->done, 1);
  return NULL;
}
/* End the waiter: a wake that failed left it asleep, so change the word
 * and wake it for real until it is gone. */
static void finish_waiter(inject_ctx *c) {
  waiter *w = c->aux;
  set_word8(c, (uint32_t)c->bytes + 1);
  while (!atomic_load(&w->done)) {
    ASSERT_OK(mmf_wake(c->m, 8, INT_MAX));
    test_sleep_ms(10);
  }
  test_thread_join(w->thread);
  free(w);
  c->aux = NULL;
}
static void release_waiter(inject_ctx *c) {
  if (c->aux != NULL)
    finish_waiter(c);
}
static void setup_waiter(inject_ctx *c) {
  inject_setup_write_map(c);
  c->bytes = word8(c);
  waiter *w = calloc(1, sizeof *w);
  ASSERT_TRUE(w != NULL);
  w->c = c;
  w->thread = test_thread_start(wait_for_change, w);
  c->aux = w;
  c->release = release_waiter;
  test_sleep_ms(50); /* most likely asleep by now; either way it ends */
}
static int op_change_and_wake(inject_ctx *c) {
  set_word8(c, (uint32_t)c->bytes + 1);
  return mmf_wake(c->m, 8, INT_MAX);
}
static void verify_waiter_ends(inject_ctx *c, int rc) {
  (void)rc;
  finish_waiter(c);
  set_word8(c, (uint32_t)c->bytes);
  check_usable(c, 0);
}

/* ------------------------------------------------------------------------ */
/* Sharing: the robust mutex                                                 */
/* ------------------------------------------------------------------------ */

/* The mutex lives at INJ_MUTEX of the pattern file: zeroed by the setup,
 * the pattern put back by the checks (so check_usable sees the file). */
static void put_pattern_back(inject_ctx *c) {
  fill_pat((unsigned char *)mmf_data(c->m) + INJ_MUTEX, INJ_MUTEX, 64);
}

void inject_setup_mutex_map(inject_ctx *c) {
  inject_setup_write_map(c);
  memset((unsigned char *)mmf_data(c->m) + INJ_MUTEX, 0, 64);
}

static int op_mutex_lock_unlock(inject_ctx *c) {
  int rc = mmf_mutex_lock(c->m, INJ_MUTEX, -1);
  if (rc == 0)
    rc = mmf_mutex_unlock(c->m, INJ_MUTEX);
  return rc;
}

void inject_verify_mutex(inject_ctx *c, int rc) {
  /* Whatever happened, a later lock and unlock work: taking over from a
   * dead owner, or still owning it after an unlock that failed. */
  (void)rc;
  int r = mmf_mutex_lock(c->m, INJ_MUTEX, 0);
  if (r == MMF_EOWNERDEAD)
    r = mmf_mutex_consistent(c->m, INJ_MUTEX);
  if (r == MMF_EDEADLK)
    r = 0;
  ASSERT_OK(r);
  ASSERT_OK(mmf_mutex_unlock(c->m, INJ_MUTEX));
  put_pattern_back(c);
  check_usable(c, 0);
}

int inject_op_mutex_take_over(inject_ctx *c) {
  int rc = mmf_mutex_lock(c->m, INJ_MUTEX, -1);
  if (rc == MMF_EOWNERDEAD) {
    int r = mmf_mutex_consistent(c->m, INJ_MUTEX);
    if (r == 0)
      r = mmf_mutex_unlock(c->m, INJ_MUTEX);
    if (r)
      return r;
  }
  return rc;
}

int inject_op_mutex_unlock(inject_ctx *c) {
  return mmf_mutex_unlock(c->m, INJ_MUTEX);
}

void inject_verify_not_recoverable(inject_ctx *c, int rc) {
  /* An unlock that failed before it let go leaves the mutex ours (Windows:
   * the kernel object and its handle): the retry lets go. One that failed
   * after (waking the sleepers) has let go: the retry is not the owner's. */
  if (rc != 0) {
    int r = mmf_mutex_unlock(c->m, INJ_MUTEX);
    if (r != MMF_EPERM)
      ASSERT_OK(r);
  }
  ASSERT_ERR(mmf_mutex_lock(c->m, INJ_MUTEX, 0), MMF_ENOTRECOVERABLE);
  put_pattern_back(c);
  check_usable(c, 0);
}

/* A holder: another process that maps the file (argv[1]) and takes the
 * mutex (argv[2] "mutex") or a lock on the whole file ("file"), says so
 * by creating the file argv[3], and holds on until it is killed. Its
 * calls are its own: the walk fails only the step's. */
TEST_CHILD(inject_holder) {
  mmf_map *m = NULL;
  ASSERT_EQ(argc, 4);
  ASSERT_OK(mmf_open(&m, argv[1], MMF_WRITE, NULL));
  if (strcmp(argv[2], "mutex") == 0)
    ASSERT_OK(mmf_mutex_lock(m, INJ_MUTEX, -1));
  else
    ASSERT_OK(mmf_lock_file(m, 0, 0, MMF_LOCK_EXCLUSIVE));
  write_file(argv[3], "held", 4);
  for (;;)
    test_sleep_ms(1000);
}

typedef struct holder {
  test_proc proc;
} holder;

static void release_holder(inject_ctx *c) {
  holder *h = c->aux;
  if (h == NULL)
    return;
  test_kill(h->proc);
  free(h);
  c->aux = NULL;
}

static void start_holder(inject_ctx *c, const char *what) {
  const char *held = test_path("inject.held");
  holder *h = calloc(1, sizeof *h);
  ASSERT_TRUE(h != NULL);
  test_unlink(held);
  h->proc = test_spawn("inject_holder",
                       (const char *[]){inject_file(), what, held, NULL});
  c->aux = h;
  c->release = release_holder;
  for (int i = 0; !test_exists(held); i++) {
    if (i == 60000)
      FAIL("the holder did not take the %s lock in 60 s", what);
    test_sleep_ms(1);
  }
}

static void setup_mutex_held(inject_ctx *c) {
  inject_setup_mutex_map(c);
  start_holder(c, "mutex");
}
static int op_mutex_try_held(inject_ctx *c) {
  return mmf_mutex_lock(c->m, INJ_MUTEX, 0);
}
static int op_mutex_timed_held(inject_ctx *c) {
  return mmf_mutex_lock(c->m, INJ_MUTEX, 3000000);
}
/* The holder killed: the mutex is taken over from it. */
static void verify_holder_killed(inject_ctx *c, int rc) {
  release_holder(c);
  inject_verify_mutex(c, rc);
}

/* ------------------------------------------------------------------------ */
/* Sharing: file locks                                                       */
/* ------------------------------------------------------------------------ */

int inject_op_lock_file(inject_ctx *c) {
  int rc = mmf_lock_file(c->m, 10, 100, MMF_LOCK_EXCLUSIVE);
  if (rc == 0)
    rc = mmf_unlock_file(c->m, 10, 100);
  if (rc == 0)
    rc = mmf_lock_file(c->m, 0, 0, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT);
  if (rc == 0)
    rc = mmf_unlock_file(c->m, 0, 0);
  return rc;
}

void inject_verify_lock_file(inject_ctx *c, int rc) {
  (void)rc;
  /* Whatever was left locked, the map can lock it all again. */
  (void)mmf_unlock_file(c->m, 0, 0);
  (void)mmf_unlock_file(c->m, 10, 100);
  ASSERT_OK(mmf_lock_file(c->m, 0, 0, MMF_LOCK_EXCLUSIVE | MMF_LOCK_NOWAIT));
  ASSERT_OK(mmf_unlock_file(c->m, 0, 0));
  check_usable(c, 0);
}

static void setup_file_lock_held(inject_ctx *c) {
  inject_setup_write_map(c);
  start_holder(c, "file");
}
static int op_lock_file_busy(inject_ctx *c) {
  return mmf_lock_file(c->m, 1, 1, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT);
}
static void verify_file_lock_busy(inject_ctx *c, int rc) {
  (void)rc;
  release_holder(c);
  check_usable(c, 0);
}

/* ------------------------------------------------------------------------ */
/* Sharing: named shared memory                                              */
/* ------------------------------------------------------------------------ */

/* A name of the run's own (walks run in parallel). */
static const char *shm_name(void) {
  static char name[64];
  snprintf(name, sizeof name, "mmf-inject-%lu", (unsigned long)getpid());
  return name;
}

/* A map kept open beside the operation's: a Windows region lives only
 * while it is mapped. */
static void release_shm(inject_ctx *c) {
  if (c->aux != NULL)
    ASSERT_OK(mmf_close(c->aux));
  c->aux = NULL;
  (void)mmf_shm_unlink(shm_name());
}
static void setup_no_shm(inject_ctx *c) {
  (void)mmf_shm_unlink(shm_name());
  c->release = release_shm;
}
static void setup_shm(inject_ctx *c) {
  mmf_map *keep = NULL;
  setup_no_shm(c);
  ASSERT_OK(mmf_shm_open(&keep, shm_name(), MMF_WRITE,
                         &(mmf_options){.size = FSIZE, .flags = MMF_CREATE}));
  fill_pat(mmf_data(keep), 0, FSIZE);
  c->aux = keep;
}

static int op_shm_create(inject_ctx *c) {
  return mmf_shm_open(
      &c->m, shm_name(), MMF_WRITE,
      &(mmf_options){.size = 3 * 4096 + 5,
                     .flags = MMF_CREATE | MMF_EXCLUSIVE | MMF_PREALLOCATE});
}
/* A failed create leaves no region behind. */
static void verify_shm_create(inject_ctx *c, int rc) {
  mmf_map *m = NULL;
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 3 * 4096 + 5);
    ASSERT_ZERO(mmf_data(c->m), 3 * 4096 + 5);
  } else {
    ASSERT_ERR(mmf_shm_open(&m, shm_name(), MMF_READ, NULL), MMF_ENOENT);
  }
}

static int op_shm_open(inject_ctx *c) {
  return mmf_shm_open(&c->m, shm_name(), MMF_READ,
                      &(mmf_options){.offset = 4096 + 7});
}
static void verify_shm_open(inject_ctx *c, int rc) {
  if (rc == 0)
    inject_check_bytes(c, 4096 + 7, FSIZE - 4096 - 7);
}

static int op_shm_unlink(inject_ctx *c) {
  (void)c;
  return mmf_shm_unlink(shm_name());
}
/* Unlinked, the name is gone; a Windows region lives on with its map. */
static void verify_shm_unlink(inject_ctx *c, int rc) {
  mmf_map *m = NULL;
  (void)c;
  if (rc != 0)
    return;
  if (!inject_current()->shm_lives_with_maps) {
    ASSERT_ERR(mmf_shm_open(&m, shm_name(), MMF_READ, NULL), MMF_ENOENT);
    return;
  }
  ASSERT_OK(mmf_shm_open(&m, shm_name(), MMF_READ, NULL));
  ASSERT_PAT(mmf_data(m), 0, FSIZE);
  ASSERT_OK(mmf_close(m));
}

/* ------------------------------------------------------------------------ */
/* Negative controls: what the walk must catch                               */
/* ------------------------------------------------------------------------ */

/* An open that, when it fails, leaves a descriptor (handle) open. */
static int leaked_fd = -1;
static void release_leak(inject_ctx *c) {
  (void)c;
  leaked_fd = -1; /* left open: that is the leak the walk must see */
}
static void setup_leak(inject_ctx *c) {
  inject_setup_file(c);
  c->release = release_leak;
}
static int op_open_leaking(inject_ctx *c) {
  int rc = mmf_open(&c->m, inject_file(), MMF_READ, NULL);
  if (rc != 0)
    leaked_fd = test_open(inject_file(), O_RDONLY);
  return rc;
}
/* An open that, when it fails, leaves *out set. */
static int op_open_out_set(inject_ctx *c) {
  static char not_a_map;
  int rc = mmf_open(&c->m, inject_file(), MMF_READ, NULL);
  if (rc != 0)
    c->m = (mmf_map *)&not_a_map;
  return rc;
}
/* An open that, when it fails, reports a code of its own. */
static int op_open_wrong_code(inject_ctx *c) {
  int rc = mmf_open(&c->m, inject_file(), MMF_READ, NULL);
  return rc != 0 ? MMF_ENOTRECOVERABLE : 0;
}

/* ------------------------------------------------------------------------ */
/* The window cursor and the scans                                           */
/* ------------------------------------------------------------------------ */

/* Five granularity units and a bit, walked in windows of two units. */
static uint64_t windows_size(void) {
  return 5 * (uint64_t)mmf_granularity() + 123;
}
static void setup_windows_file(inject_ctx *c) {
  write_pattern(inject_file(), windows_size());
  c->fsize0 = windows_size();
}
static void setup_windows_fifo(inject_ctx *c) {
  test_fifo_start(&c->fifo, "fifo", windows_size());
  c->fifo_live = true;
}

/* A close that fails after everything else worked: what it reports, and
 * no OS error to compare (the handle is gone). */
static int closed(inject_ctx *c, int rc, int close_rc) {
  if (rc == 0 && close_rc != 0) {
    c->os_error = -1;
    return close_rc;
  }
  return rc;
}

/* Open a cursor with windows of two units, walk every span checking its
 * bytes, close. c->bytes: the bytes walked. */
static int window_walk(inject_ctx *c, const char *path) {
  mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
  mmf_window *w = NULL;
  void *p = NULL;
  size_t n = 0;
  o.budget = 2 * mmf_granularity();
  int rc = mmf_window_open(&w, path, &o);
  if (rc != 0) {
    ASSERT_NULL(w);
    c->os_error = mmf_window_last_os_error(NULL);
    return rc;
  }
  c->bytes = 0;
  while ((rc = mmf_window_next(w, &p, &n)) == 0 && n > 0) {
    ASSERT_PAT(p, c->bytes, n);
    c->bytes += n;
  }
  if (rc != 0) {
    ASSERT_NULL(p);
    ASSERT_EQ_U(n, 0);
    c->os_error = mmf_window_last_os_error(w);
  }
  return closed(c, rc, mmf_window_close(w));
}
static int op_window_file(inject_ctx *c) {
  return window_walk(c, inject_file());
}
static int op_window_fifo(inject_ctx *c) {
  return window_walk(c, c->fifo.path);
}
static void verify_walked(inject_ctx *c, int rc) {
  if (rc == 0)
    ASSERT_EQ_U(c->bytes, windows_size());
}

/* The lines of a file: the pattern has a '\n' wherever it has one. */
static uint64_t pattern_newlines(void) {
  static uint64_t lines = UINT64_MAX;
  if (lines == UINT64_MAX) {
    lines = 0;
    for (uint64_t off = 0; off < windows_size(); off++)
      lines += pat(off) == '\n';
  }
  return lines;
}

static int count_newlines(inject_ctx *c, const char *path, int io) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  o.io = io;
  o.budget = 2 * mmf_granularity();
  c->bytes = 12345;
  int rc = mmf_count_byte_path(path, &o, '\n', &c->bytes);
  if (rc != 0)
    c->os_error = mmf_last_os_error(NULL);
  return rc;
}
static int op_count_mapped(inject_ctx *c) {
  return count_newlines(c, inject_file(), MMF_SCAN_MAP);
}
static int op_count_read(inject_ctx *c) {
  return count_newlines(c, inject_file(), MMF_SCAN_READ);
}
static int op_count_fifo(inject_ctx *c) {
  return count_newlines(c, c->fifo.path, MMF_SCAN_AUTO);
}
/* The direct engine (reads around the page cache): forced; and chosen by
 * MMF_SCAN_AUTO for a file the setup dropped from the cache (the size
 * threshold lowered to a page), after its look at what is resident. A
 * range, so that the scan does not read the file's start first. */
extern uint64_t mmf__scan_cold_min;
static int op_count_direct(inject_ctx *c) {
  return count_newlines(c, inject_file(), MMF_SCAN_DIRECT);
}
static void restore_cold_min(inject_ctx *c) {
  (void)c;
  mmf__scan_cold_min = (uint64_t)64 << 20;
}
static void setup_cold_file(inject_ctx *c) {
  setup_windows_file(c);
#ifndef _WIN32
  int fd = test_open(inject_file(), O_RDONLY);
  ASSERT_TRUE(fd >= 0);
  ASSERT_EQ(fsync(fd), 0);
#if defined(POSIX_FADV_DONTNEED) /* not on macOS: the file stays cached */
  ASSERT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
#endif
  close(fd);
#endif
  mmf__scan_cold_min = 4096;
  c->release = restore_cold_min;
}
static int op_count_cold(inject_ctx *c) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  o.length = windows_size();
  c->bytes = 12345;
  int rc = mmf_count_byte_path(inject_file(), &o, '\n', &c->bytes);
  if (rc != 0)
    c->os_error = mmf_last_os_error(NULL);
  return rc;
}

/* On failure the count is what was counted before it: a lower bound. */
static void verify_count(inject_ctx *c, int rc) {
  if (rc == 0)
    ASSERT_EQ_U(c->bytes, pattern_newlines());
  else
    ASSERT_LE_U(c->bytes, pattern_newlines());
}

/* Find the bytes at an odd offset past the first window, from a
 * descriptor, starting the scan at 7. */
static int op_find_fd(inject_ctx *c) {
  unsigned char needle[16];
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  o.offset = 7;
  o.budget = 2 * mmf_granularity();
  fill_pat(needle, windows_size() - 100, sizeof needle);
  int fd = test_open(inject_file(), O_RDONLY);
  c->bytes = 12345;
  int rc = mmf_find_fd(fd, &o, needle, sizeof needle, &c->bytes);
  if (rc != 0)
    c->os_error = mmf_last_os_error(NULL);
  close(fd);
  return rc;
}
static void verify_found(inject_ctx *c, int rc) {
  if (rc != 0) {
    ASSERT_EQ_U(c->bytes, MMF_NPOS);
    return;
  }
  /* The first occurrence: at the place it was taken from, or before. */
  ASSERT_LE_U(c->bytes, windows_size() - 100);
  unsigned char got[16], want[16];
  read_at(inject_file(), c->bytes, got, sizeof got);
  fill_pat(want, windows_size() - 100, sizeof want);
  ASSERT_MEMEQ(got, want, sizeof got);
}

/* Every line of the file through an iterator. */
static int op_lines(inject_ctx *c) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  mmf_lines *it = NULL;
  const char *line = NULL;
  size_t n = 0;
  o.budget = 2 * mmf_granularity();
  o.flags = MMF_SCAN_SPLIT_LONG;
  int rc = mmf_lines_open(&it, inject_file(), &o);
  if (rc != 0) {
    ASSERT_NULL(it);
    c->os_error = mmf_lines_last_os_error(NULL);
    return rc;
  }
  c->bytes = 0;
  while ((rc = mmf_lines_next(it, &line, &n)) == 0 && line != NULL)
    c->bytes += n;
  if (rc != 0) {
    ASSERT_NULL(line);
    ASSERT_EQ_U(n, 0);
    c->os_error = mmf_lines_last_os_error(it);
  }
  return closed(c, rc, mmf_lines_close(it));
}

/* Scans split over 4 threads, the split unit lowered to 4 KiB so that
 * the file splits in pieces of a few units. The walk fails the calling
 * thread's calls: opening the scan, starting and joining the workers, and
 * the pieces it takes itself (a worker's own calls, its signal mask on
 * POSIX, are the thread tests' part). A thread the OS refuses is no
 * error; a failed join is the call's code, with every worker done. */
extern uint64_t mmf__scan_split_unit;

static int threaded_scan(inject_ctx *c, int op, int io) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t unit = mmf__scan_split_unit;
  unsigned char needle[16];
  int rc;
  o.io = io;
  o.threads = 4;
  o.budget = 2 * mmf_granularity();
  fill_pat(needle, windows_size() - 100, sizeof needle);
  mmf__scan_split_unit = 4096;
  c->bytes = 12345;
  if (op == 0)
    rc = mmf_count_byte_path(inject_file(), &o, '\n', &c->bytes);
  else if (op == 1)
    rc = mmf_find_path(inject_file(), &o, needle, sizeof needle, &c->bytes);
  else
    rc = mmf_count_matches_path(inject_file(), &o, needle, 2, &c->bytes);
  mmf__scan_split_unit = unit;
  if (rc != 0)
    c->os_error = mmf_last_os_error(NULL);
  return rc;
}
static int op_threads_count_read(inject_ctx *c) {
  return threaded_scan(c, 0, MMF_SCAN_READ);
}
static int op_threads_count_mapped(inject_ctx *c) {
  return threaded_scan(c, 0, MMF_SCAN_MAP);
}
static int op_threads_find(inject_ctx *c) {
  return threaded_scan(c, 1, MMF_SCAN_AUTO);
}
static int op_threads_matches(inject_ctx *c) {
  return threaded_scan(c, 2, MMF_SCAN_READ);
}
static int op_threads_direct(inject_ctx *c) {
  return threaded_scan(c, 2, MMF_SCAN_DIRECT);
}

/* Non-overlapping occurrences of the first 2 bytes of the needle. */
static uint64_t pattern_pairs(void) {
  static uint64_t n = UINT64_MAX;
  if (n == UINT64_MAX) {
    unsigned char x[2];
    fill_pat(x, windows_size() - 100, 2);
    n = 0;
    for (uint64_t off = 0; off + 1 < windows_size(); off++)
      if (pat(off) == x[0] && pat(off + 1) == x[1]) {
        n++;
        off++;
      }
  }
  return n;
}
static void verify_pairs(inject_ctx *c, int rc) {
  if (rc == 0)
    ASSERT_EQ_U(c->bytes, pattern_pairs());
  else
    ASSERT_LE_U(c->bytes, pattern_pairs());
}

/* The occurrences of a needle taken from the pattern, counted over the
 * pattern in memory: what every scan of the walks' file must find. */
#define NEEDLE_AT 1000
#define NEEDLE_LEN 2
static void needle(unsigned char *n) { fill_pat(n, NEEDLE_AT, NEEDLE_LEN); }
static uint64_t pattern_matches(void) {
  static uint64_t count = UINT64_MAX;
  if (count == UINT64_MAX) {
    size_t n = (size_t)windows_size();
    unsigned char *p = malloc(n), x[NEEDLE_LEN];
    ASSERT_TRUE(p != NULL);
    fill_pat(p, 0, n);
    needle(x);
    ASSERT_OK(mmf_count_matches_mem(p, n, x, sizeof x, &count, NULL));
    free(p);
  }
  return count;
}

/* Every occurrence through the match iterator, with line numbers: in
 * order, each one the needle. c->bytes: how many. */
static int op_matches(inject_ctx *c) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  mmf_matches *it = NULL;
  unsigned char x[NEEDLE_LEN], got[NEEDLE_LEN];
  uint64_t pos = 0, prev = 0;
  o.budget = 2 * mmf_granularity();
  o.flags = MMF_SCAN_LINE_NUMBERS;
  needle(x);
  int rc = mmf_matches_open(&it, inject_file(), &o, x, sizeof x);
  if (rc != 0) {
    ASSERT_NULL(it);
    c->os_error = mmf_matches_last_os_error(NULL);
    return rc;
  }
  c->bytes = 0;
  while ((rc = mmf_matches_next(it, &pos)) == 0 && pos != MMF_NPOS) {
    ASSERT_TRUE(c->bytes == 0 || pos >= prev + NEEDLE_LEN);
    fill_pat(got, pos, sizeof got);
    ASSERT_MEMEQ(got, x, sizeof x);
    prev = pos;
    c->bytes++;
  }
  if (rc != 0)
    c->os_error = mmf_matches_last_os_error(it);
  return closed(c, rc, mmf_matches_close(it));
}
static void verify_matches(inject_ctx *c, int rc) {
  if (rc == 0)
    ASSERT_EQ_U(c->bytes, pattern_matches());
}

/* Scans split over threads: pieces of one page, so that the walks' small
 * file is split at all. */
static void restore_split_unit(inject_ctx *c) {
  (void)c;
  mmf__scan_split_unit = MMF__HUGE_ALIGN;
}
static void setup_split_file(inject_ctx *c) {
  setup_windows_file(c);
  mmf__scan_split_unit = 4096;
  c->release = restore_split_unit;
}
/* Read pieces of 4 KiB, six of them for three threads: the workers get
 * pieces however late they start (of two pieces the caller often takes
 * both on a busy machine, and the workers allocate nothing). */
static void setup_split_file_small(inject_ctx *c) {
  setup_windows_file(c);
  mmf__scan_split_unit = 1024;
  c->release = restore_split_unit;
}
static int op_count_matches_threads(inject_ctx *c) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  unsigned char x[NEEDLE_LEN];
  o.io = MMF_SCAN_READ;
  o.threads = 3;
  needle(x);
  c->bytes = 12345;
  int rc = mmf_count_matches_path(inject_file(), &o, x, sizeof x, &c->bytes);
  if (rc != 0)
    c->os_error = mmf_last_os_error(NULL);
  return rc;
}
static void verify_count_matches(inject_ctx *c, int rc) {
  if (rc == 0)
    ASSERT_EQ_U(c->bytes, pattern_matches());
  else
    ASSERT_LE_U(c->bytes, pattern_matches());
}
static int op_count_lines_threads(inject_ctx *c) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  o.io = MMF_SCAN_MAP;
  o.threads = 2;
  o.budget = 2 * mmf_granularity();
  c->bytes = 12345;
  int rc = mmf_count_byte_path(inject_file(), &o, '\n', &c->bytes);
  if (rc != 0)
    c->os_error = mmf_last_os_error(NULL);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* The log                                                                   */
/* ------------------------------------------------------------------------ */

/* A directory of its own for every run of the operation. Runs are
 * processes of their own, one after the other, and process ids come back
 * (soon under Wine): the count is kept in a file. */
static const char *fresh_log_dir(void) {
  static char dir[512];
  const char *counter = test_path("log.count");
  uint32_t runs = 0;
  char name[32];
  if (test_exists(counter))
    read_at(counter, 0, &runs, sizeof runs);
  runs++;
  write_file(counter, &runs, sizeof runs);
  snprintf(name, sizeof name, "log%lu", (unsigned long)runs);
  snprintf(dir, sizeof dir, "%s", test_path(name));
  return dir;
}

/* A failure of one log call: its OS error, from the handle it failed on
 * (NULL for an open). */
static int log_failed(inject_ctx *c, const mmf_log *log, int rc) {
  c->os_error = mmf_log_last_os_error(log);
  return rc;
}

/* Segments of 64 KiB, so that three records of 30000 bytes roll over to a
 * second one; the records committed, read back by a reader, the first
 * segment trimmed. c->bytes: the records read. */
#define LOG_RECORD 30000
static int log_walk(inject_ctx *c, mmf_log *w, const char *dir) {
  unsigned char rec[LOG_RECORD];
  mmf_log *r = NULL;
  const void *got = NULL;
  size_t len = 0;
  uint64_t seq = 0;
  int rc = 0;
  fill_pat(rec, 0, sizeof rec);
  for (int i = 0; i < 3 && rc == 0; i++)
    rc = mmf_log_append(w, rec, sizeof rec, NULL);
  if (rc == 0)
    rc = mmf_log_commit(w, MMF_FLUSH_SYNC);
  if (rc != 0)
    return log_failed(c, w, rc);
  rc = mmf_log_open(&r, dir, MMF_READ, NULL);
  if (rc != 0) {
    ASSERT_NULL(r);
    return log_failed(c, NULL, rc);
  }
  c->bytes = 0;
  /* Reading on into the next segment: one that cannot be opened because
   * it is not there is damage to the reader. */
  c->instead = MMF_ECORRUPT;
  while ((rc = mmf_log_next(r, &got, &len, &seq, 0)) == 0) {
    ASSERT_EQ_U(len, sizeof rec);
    ASSERT_MEMEQ(got, rec, sizeof rec);
    c->bytes++;
  }
  if (rc == MMF_EAGAIN)
    rc = 0; /* the end */
  else
    (void)log_failed(c, r, rc);
  if (rc != MMF_ECORRUPT)
    c->instead = 0;
  rc = closed(c, rc, mmf_log_close(r));
  if (rc == 0 && (rc = mmf_log_trim(w, 2)) != 0)
    (void)log_failed(c, w, rc);
  return rc;
}
static int op_log(inject_ctx *c) {
  mmf_log_options lo = MMF_LOG_OPTIONS_INIT;
  mmf_log *w = NULL;
  const char *dir = fresh_log_dir();
  lo.segment_size = 64 * 1024;
  lo.flags = MMF_CREATE;
  int rc = mmf_log_open(&w, dir, MMF_WRITE, &lo);
  if (rc != 0) {
    ASSERT_NULL(w);
    return log_failed(c, NULL, rc);
  }
  rc = log_walk(c, w, dir);
  return closed(c, rc, mmf_log_close(w));
}
static void verify_log(inject_ctx *c, int rc) {
  if (rc == 0)
    ASSERT_EQ_U(c->bytes, 3);
}

/* Records of 20000 bytes committed one by one, SYNC and FULL in turn,
 * over segments of 64 KiB; the log closed, reopened (recovery), trimmed
 * before record 3, closed; a reader from record 4 to the end. c->bytes:
 * the records whose commit returned 0, which must all be found afterwards
 * whatever failed later (verify_log_promised). */
#define LOG_BIG 20000
static int op_log_commits(inject_ctx *c) {
  static unsigned char big[LOG_BIG];
  mmf_log_options lo = MMF_LOG_OPTIONS_INIT;
  mmf_log *w = NULL, *r = NULL;
  const char *dir = fresh_log_dir();
  const void *rec = NULL;
  size_t len = 0;
  uint64_t seq = 0;
  int rc;
  c->aux = (void *)dir;
  c->bytes = 0;
  lo.segment_size = 64 * 1024;
  lo.flags = MMF_CREATE;
  memset(big, 3, sizeof big);
  if ((rc = mmf_log_open(&w, dir, MMF_WRITE, &lo)) != 0)
    return log_failed(c, NULL, rc);
  for (int i = 0; i < 8 && rc == 0; i++) {
    if ((rc = mmf_log_append(w, big, sizeof big, &seq)) == 0 &&
        (rc = mmf_log_commit(w, i % 3 ? MMF_FLUSH_SYNC : MMF_FLUSH_FULL)) == 0)
      c->bytes = seq + 1;
  }
  if (rc != 0)
    (void)log_failed(c, w, rc);
  if ((rc = closed(c, rc, mmf_log_close(w))) != 0)
    return rc;
  /* Recovery, and a trim. */
  if ((rc = mmf_log_open(&w, dir, MMF_WRITE, &lo)) != 0)
    return log_failed(c, NULL, rc);
  if ((rc = mmf_log_trim(w, 3)) != 0)
    (void)log_failed(c, w, rc);
  if ((rc = closed(c, rc, mmf_log_close(w))) != 0)
    return rc;
  if ((rc = mmf_log_open(&r, dir, MMF_READ, NULL)) != 0)
    return log_failed(c, NULL, rc);
  c->instead = MMF_ECORRUPT; /* a segment missing in the middle: damage */
  if ((rc = mmf_log_seek(r, 4)) == 0) {
    while ((rc = mmf_log_next(r, &rec, &len, &seq, 0)) == 0)
      ASSERT_EQ_U(len, sizeof big);
    if (rc == MMF_EAGAIN)
      rc = 0; /* the end */
  }
  if (rc != 0)
    (void)log_failed(c, r, rc);
  if (rc != MMF_ECORRUPT)
    c->instead = 0;
  return closed(c, rc, mmf_log_close(r));
}
/* Every record whose commit returned 0 is there, for a writer that opens
 * the log and for a reader. */
static void verify_log_promised(inject_ctx *c, int rc) {
  const char *dir = c->aux;
  mmf_log *w = NULL, *r = NULL;
  const void *rec;
  size_t len;
  uint64_t end = 0, seq, got = 0;
  if (rc == 0)
    ASSERT_EQ_U(c->bytes, 8);
  if (c->bytes == 0)
    return;
  ASSERT_OK(mmf_log_open(&w, dir, MMF_WRITE, NULL));
  ASSERT_OK(mmf_log_info(w, NULL, &end, NULL));
  ASSERT_GE_U(end, c->bytes);
  ASSERT_OK(mmf_log_close(w));
  ASSERT_OK(mmf_log_open(&r, dir, MMF_READ, NULL));
  while (mmf_log_next(r, &rec, &len, &seq, 0) == 0)
    got = seq + 1;
  ASSERT_GE_U(got, c->bytes);
  ASSERT_OK(mmf_log_close(r));
}

/* ------------------------------------------------------------------------ */
/* The table                                                                 */
/* ------------------------------------------------------------------------ */

const inject_case inject_cases[] = {
    {"open READ", "open", INJ_OPENS, 0, inject_setup_file, op_open_read,
     verify_whole},
    {"open COPY", "open", INJ_OPENS, 0, inject_setup_file, op_open_copy,
     verify_whole},
    {"open WRITE", "open", INJ_OPENS, 0, inject_setup_file, op_open_write,
     verify_whole},
    {"open READ POPULATE|SEQUENTIAL|HUGE|LOCKED", "open", INJ_OPENS, 0,
     inject_setup_file, op_open_flags, verify_whole},
    {"open COPY RANDOM|LOCKED", "open", INJ_OPENS, 0, inject_setup_file,
     op_open_copy_flags, verify_whole},
    {"open_fd READ", "open", INJ_OPENS, 0, inject_setup_file, op_open_fd_read,
     verify_whole},
    {"open_fd WRITE", "open", INJ_OPENS, 0, inject_setup_file, op_open_fd_write,
     verify_whole},
    {"open READ at offset", "open", INJ_OPENS, 0, inject_setup_file,
     op_open_offset, verify_offset},
    {"open WRITE growing", "open", INJ_OPENS, 0, inject_setup_file,
     op_open_grow, verify_grow},
    {"open WRITE PREALLOCATE", "open", INJ_OPENS, 0, inject_setup_file,
     op_open_prealloc, verify_prealloc},
    {"open WRITE offset past size", "open", INJ_OPENS, MMF_ERANGE,
     inject_setup_file, op_open_grow_erange, verify_unchanged_file},
    {"open WRITE CREATE", "open", INJ_OPENS, 0, setup_missing, op_open_create,
     verify_create},
    {"open empty file", "open", INJ_OPENS, 0, setup_empty, op_open_empty,
     verify_empty},
    {"open directory", "open", INJ_OPENS, MMF_EISDIR, inject_setup_nothing,
     op_open_dir, NULL},
    {"open large placed", "open", INJ_OPENS, 0, setup_big, op_open_big,
     verify_big},
    {"open FIFO", "fallback", INJ_OPENS, 0, setup_fifo, op_open_fifo,
     verify_fifo},
    {"open FIFO at offset", "fallback", INJ_OPENS, 0, setup_fifo,
     op_open_fifo_offset, verify_fifo_offset},
    {"open_fd pipe", "fallback", INJ_OPENS, 0, inject_setup_nothing,
     op_open_pipe, verify_pipe},
    {"anon private", "anon", INJ_OPENS, 0, inject_setup_nothing,
     op_anon_private, verify_anon},
    {"anon SHARED|POPULATE", "anon", INJ_OPENS, 0, inject_setup_nothing,
     op_anon_shared, verify_anon},
    {"anon SHARED|POPULATE|LOCKED", "anon", INJ_OPENS, 0, inject_setup_nothing,
     op_anon_shared_locked, verify_anon},
    {"anon HUGE 4 MiB", "anon", INJ_OPENS, 0, inject_setup_nothing,
     op_anon_huge, verify_anon},
    {"anon HUGE|LOCKED 4 MiB", "anon", INJ_OPENS, 0, inject_setup_nothing,
     op_anon_huge_locked, verify_anon},
    {"resize WRITE grow", "resize", INJ_HANDLE, 0, inject_setup_write_map,
     op_resize_grow, verify_resize_grow},
    {"resize WRITE shrink", "resize", INJ_HANDLE, 0, inject_setup_write_map,
     op_resize_shrink, verify_resize_shrink},
    {"resize WRITE to 0 and back", "resize", INJ_HANDLE, 0,
     inject_setup_write_map, op_resize_zero_and_back,
     verify_resize_zero_and_back},
    {"resize WRITE LOCKED grow", "resize", INJ_HANDLE, 0, setup_locked_map,
     op_resize_grow, verify_resize_grow},
    {"resize WRITE PREALLOCATE grow", "resize", INJ_HANDLE, 0,
     setup_prealloc_map, op_resize_grow, verify_resize_grow},
    {"resize READ grow", "resize", INJ_HANDLE, 0, setup_read_map,
     op_resize_read_grow, verify_resize_read_grow},
    {"resize COPY grow", "resize", INJ_HANDLE, 0, setup_copy_map,
     op_resize_copy_grow, verify_resize_copy_grow},
    {"resize anon", "resize", INJ_HANDLE, 0, setup_anon_map, op_resize_anon,
     verify_resize_anon},
    {"flush ASYNC", "control", INJ_HANDLE, 0, inject_setup_write_map,
     op_flush_async, inject_verify_handle},
    {"flush SYNC", "control", INJ_HANDLE, 0, inject_setup_write_map,
     op_flush_sync, inject_verify_handle},
    {"flush FULL", "control", INJ_HANDLE, 0, inject_setup_write_map,
     op_flush_full, inject_verify_handle},
    {"flush FULL of a created file", "control", INJ_HANDLE, 0,
     setup_created_map, op_flush_full_created, verify_flush_created},
    {"advise every advice", "control", INJ_HANDLE, 0, inject_setup_write_map,
     op_advise_all, inject_verify_handle},
    {"protect", "control", INJ_HANDLE, 0, inject_setup_write_map, op_protect,
     verify_protect},
    {"lock and unlock", "control", INJ_HANDLE, 0, inject_setup_write_map,
     op_lock, inject_verify_handle},
    {"resident", "control", INJ_HANDLE, 0, inject_setup_write_map, op_resident,
     verify_resident},
    {"wait with timeout", "share", INJ_SHARED, MMF_ETIMEDOUT,
     inject_setup_write_map, op_wait_timeout, inject_verify_handle},
    {"wake, nobody waiting", "share", INJ_SHARED, 0, inject_setup_write_map,
     op_wake, inject_verify_handle},
    {"wake a waiting thread", "share", INJ_SHARED, 0, setup_waiter,
     op_change_and_wake, verify_waiter_ends},
    {"mutex lock and unlock", "share", INJ_SHARED, 0, inject_setup_mutex_map,
     op_mutex_lock_unlock, inject_verify_mutex},
    {"mutex try, owner alive", "share", INJ_SHARED, MMF_ETIMEDOUT,
     setup_mutex_held, op_mutex_try_held, verify_holder_killed},
    {"mutex timed lock, owner alive", "share", INJ_SHARED, MMF_ETIMEDOUT,
     setup_mutex_held, op_mutex_timed_held, verify_holder_killed},
    {"lock_file", "share", INJ_SHARED, 0, inject_setup_write_map,
     inject_op_lock_file, inject_verify_lock_file},
    {"lock_file held elsewhere", "share", INJ_SHARED, MMF_EBUSY,
     setup_file_lock_held, op_lock_file_busy, verify_file_lock_busy},
    {"shm create", "share", INJ_OPENS, 0, setup_no_shm, op_shm_create,
     verify_shm_create},
    {"shm open existing", "share", INJ_OPENS, 0, setup_shm, op_shm_open,
     verify_shm_open},
    {"shm unlink", "share", INJ_OPENS, 0, setup_shm, op_shm_unlink,
     verify_shm_unlink},
    {"leaks a descriptor on failure", "bad leak", INJ_OPENS, 0, setup_leak,
     op_open_leaking, NULL},
    {"leaves *out set on failure", "bad out", INJ_OPENS, 0, inject_setup_file,
     op_open_out_set, NULL},
    {"returns a wrong code on failure", "bad code", INJ_OPENS, 0,
     inject_setup_file, op_open_wrong_code, NULL},
    {"window over a file", "window", INJ_CALL, 0, setup_windows_file,
     op_window_file, verify_walked},
    {"window over a FIFO", "window", INJ_CALL, 0, setup_windows_fifo,
     op_window_fifo, verify_walked},
    {"count lines, mapped", "scan", INJ_CALL, 0, setup_windows_file,
     op_count_mapped, verify_count},
    {"count lines, read", "scan", INJ_CALL, 0, setup_windows_file,
     op_count_read, verify_count},
    {"count lines of a FIFO", "scan", INJ_CALL, 0, setup_windows_fifo,
     op_count_fifo, verify_count},
    {"find from a descriptor", "scan", INJ_CALL, 0, setup_windows_file,
     op_find_fd, verify_found},
    {"lines of a file", "scan", INJ_CALL, 0, setup_windows_file, op_lines,
     NULL},
    {"count lines over threads, read", INJECT_THREADS_GROUP, INJ_CALL, 0,
     setup_windows_file, op_threads_count_read, verify_count},
    {"count lines over threads, mapped", INJECT_THREADS_GROUP, INJ_CALL, 0,
     setup_windows_file, op_threads_count_mapped, verify_count},
    {"find over threads", INJECT_THREADS_GROUP, INJ_CALL, 0, setup_windows_file,
     op_threads_find, verify_found},
    {"count matches over threads", INJECT_THREADS_GROUP, INJ_CALL, 0,
     setup_windows_file, op_threads_matches, verify_pairs},
    {"count matches over threads, direct", INJECT_THREADS_GROUP, INJ_CALL, 0,
     setup_windows_file, op_threads_direct, verify_pairs},
    {"count lines, direct", "scan", INJ_CALL, 0, setup_windows_file,
     op_count_direct, verify_count},
    {"count lines of a cold file", "scan", INJ_CALL, 0, setup_cold_file,
     op_count_cold, verify_count},
    {"matches of a file, with lines", "scan", INJ_CALL, 0, setup_windows_file,
     op_matches, verify_matches},
    {"count matches, 3 threads, read", INJECT_THREADS_GROUP, INJ_CALL, 0,
     setup_split_file_small, op_count_matches_threads, verify_count_matches},
    {"count lines, 2 threads, mapped", INJECT_THREADS_GROUP, INJ_CALL, 0,
     setup_split_file, op_count_lines_threads, verify_count},
    {"log: write, roll over, read, trim", "log", INJ_CALL, 0,
     inject_setup_nothing, op_log, verify_log},
    {"log: commits SYNC and FULL, recover, trim, seek", "log", INJ_CALL, 0,
     inject_setup_nothing, op_log_commits, verify_log_promised},
    {"close", "close", INJ_CLOSES, 0, inject_setup_write_map, op_close,
     verify_unchanged_file},
    {"close SYNC_ON_CLOSE", "close", INJ_CLOSES, 0, setup_sync_close_map,
     op_close, verify_unchanged_file},
    {"close fallback copy", "close", INJ_CLOSES, 0, setup_fallback_map,
     op_close, NULL},
};

const int inject_n_cases = (int)(sizeof inject_cases / sizeof inject_cases[0]);
