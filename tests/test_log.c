/*
 * test_log.c - the log: format, appends and commits, readers, recovery,
 * damage, trimming, the writer lock, and crashes of the writer.
 *
 * Records are made from their sequence number (rec_make), so any reader
 * can tell a right record from a wrong one without a copy of what was
 * written.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log/crc32c.h"
#include "log/log_internal.h"

#ifndef _WIN32
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/posix/sys_posix.h"
#endif

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

#define SMALL_SEG ((uint64_t)64 << 10)

/* The length of record seq: 0 to 300 bytes, every length mod 8 included. */
static size_t rec_len(uint64_t seq) { return (size_t)((seq * 7919u) % 301u); }

/* Record seq into buf (at least 300 bytes); returns its length. */
static size_t rec_make(uint64_t seq, unsigned char *buf) {
  size_t n = rec_len(seq);
  fill_pat(buf, seq * 1000u, n);
  return n;
}

/* The record at rec must be record seq. */
static void rec_check(uint64_t seq, const void *rec, size_t len) {
  unsigned char buf[512];
  size_t n = rec_make(seq, buf);
  test_context("record %" PRIu64, seq);
  ASSERT_EQ_U(len, n);
  ASSERT_MEMEQ(rec, buf, n);
  test_context_clear();
}

/* The log of a test: test_dir()/log, or another name a walk sets so each
 * of its runs starts from a fresh log. */
static char log_name[32] = "log";
static const char *logdir(void) { return test_path(log_name); }

static mmf_log *open_writer(uint64_t segment_size) {
  mmf_log *w = NULL;
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  o.segment_size = segment_size;
  o.flags = MMF_CREATE;
  ASSERT_OK(mmf_log_open(&w, logdir(), MMF_WRITE, &o));
  return w;
}

static mmf_log *open_reader(void) {
  mmf_log *r = NULL;
  ASSERT_OK(mmf_log_open(&r, logdir(), MMF_READ, NULL));
  return r;
}

/* Append records [from, to) and commit them at level (0: no commit). */
static void append_range(mmf_log *w, uint64_t from, uint64_t to, int level) {
  unsigned char buf[512];
  for (uint64_t s = from; s < to; s++) {
    uint64_t got = 0;
    size_t n = rec_make(s, buf);
    ASSERT_OK(mmf_log_append(w, buf, n, &got));
    ASSERT_EQ_U(got, s);
  }
  if (level)
    ASSERT_OK(mmf_log_commit(w, level));
}

/* Read records [from, to) in order, then nothing more. */
static void read_range(mmf_log *r, uint64_t from, uint64_t to) {
  const void *rec;
  size_t len;
  uint64_t seq;
  for (uint64_t s = from; s < to; s++) {
    test_context("reading record %" PRIu64, s);
    ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, 0));
    ASSERT_EQ_U(seq, s);
    rec_check(s, rec, len);
  }
  ASSERT_ERR(mmf_log_next(r, &rec, &len, &seq, 0), MMF_EAGAIN);
  ASSERT_NULL(rec);
}

/* Path of segment base in the test log. */
static const char *seg_path(uint64_t base) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "%s/%016llx.seg", logdir(),
           (unsigned long long)base);
  return buf;
}

/* File offset of record seq in segment base (walks the frames). */
static uint64_t frame_offset(uint64_t base, uint64_t seq) {
  uint64_t off = MMF__LOG_HEADER;
  for (uint64_t s = base; s < seq; s++)
    off += mmf__log_frame_size(rec_len(s));
  return off;
}

/* ------------------------------------------------------------------------ */
/* CRC-32C                                                                   */
/* ------------------------------------------------------------------------ */

TEST(crc32c_known_vectors) {
  /* The check value of CRC-32C, and the iSCSI test patterns (RFC 3720,
   * B.4). */
  unsigned char b[32];
  ASSERT_EQ_U(mmf__crc32c(0, "123456789", 9), 0xE3069283u);
  ASSERT_EQ_U(mmf__crc32c_portable(0, "123456789", 9), 0xE3069283u);
  ASSERT_EQ_U(mmf__crc32c(0, NULL, 0), 0);
  memset(b, 0, sizeof b);
  ASSERT_EQ_U(mmf__crc32c(0, b, 32), 0x8A9136AAu);
  memset(b, 0xff, sizeof b);
  ASSERT_EQ_U(mmf__crc32c(0, b, 32), 0x62A8AB43u);
  for (int i = 0; i < 32; i++)
    b[i] = (unsigned char)i;
  ASSERT_EQ_U(mmf__crc32c(0, b, 32), 0x46DD794Eu);
  for (int i = 0; i < 32; i++)
    b[i] = (unsigned char)(31 - i);
  ASSERT_EQ_U(mmf__crc32c(0, b, 32), 0x113FDB5Cu);
  test_note("variant in use: %s", mmf__crc32c_name());
}

TEST(crc32c_variants_agree) {
  /* Every length 0..600 at every alignment 0..15, and running CRCs split
   * anywhere: the hardware and the table versions agree bit for bit. */
  static unsigned char buf[1024];
  fill_pat(buf, 77, sizeof buf);
  const char *name = mmf__crc32c_name();
  mmf__crc32c_fn hw = strcmp(name, "sse4.2") == 0      ? mmf__crc32c_sse42
                      : strcmp(name, "armv8-crc") == 0 ? mmf__crc32c_arm
                                                       : NULL;
  ASSERT_TRUE(hw != NULL || strcmp(name, "portable") == 0);
  for (size_t a = 0; a < 16; a++)
    for (size_t n = 0; n <= 600; n++) {
      uint32_t p = mmf__crc32c_portable(0, buf + a, n);
      ASSERT_EQ_U(mmf__crc32c(0, buf + a, n), p);
      if (hw)
        ASSERT_EQ_U(hw(0, buf + a, n), p);
      size_t cut = n / 3;
      ASSERT_EQ_U(
          mmf__crc32c(mmf__crc32c(0, buf + a, cut), buf + a + cut, n - cut), p);
    }
  if (!hw)
    test_note("no hardware CRC-32C here: only the table version ran");
  else
    test_note("%s and the table agree", name);
}

TEST(crc32c_hardware_is_used_where_the_cpu_has_it) {
  /* The variant follows what the CPU runs: the ARMv8 instructions where
   * the backend reports them (on Linux, the AT_HWCAP bit, read through
   * the call table: a kernel that says "no CRC32" gets the table). */
  const char *name = mmf__crc32c_name();
  if (mmf__crc32c_arm && mmf__os_cpu_arm_crc32())
    ASSERT_STREQ(name, "armv8-crc");
  if (!mmf__crc32c_arm && !mmf__crc32c_sse42)
    ASSERT_STREQ(name, "portable");
#if defined(__linux__) && defined(__aarch64__)
  ASSERT_TRUE(mmf__sys.hwcap != NULL);
  unsigned long real = mmf__sys.hwcap();
  test_note("AT_HWCAP 0x%lx: %s", real, name);
  mmf__sys.hwcap = NULL;
  ASSERT_EQ(mmf__os_cpu_arm_crc32(), 0);
  mmf__sys = mmf__sys_real;
  ASSERT_EQ(mmf__os_cpu_arm_crc32(), (real & (1ul << 7)) != 0);
#else
  test_note("variant %s; no AT_HWCAP on this CPU and OS", name);
#endif
}

/* ------------------------------------------------------------------------ */
/* Format                                                                    */
/* ------------------------------------------------------------------------ */

TEST(format_bytes_are_as_documented) {
  /* One record "abc" in a new log: the segment header and the frame hold
   * exactly the bytes docs/log.md describes. */
  mmf_log *w = open_writer(SMALL_SEG);
  ASSERT_OK(mmf_log_append(w, "abc", 3, NULL));
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_SYNC));
  ASSERT_OK(mmf_log_close(w));
  ASSERT_EQ_U(file_size(seg_path(0)), SMALL_SEG);
  unsigned char h[64], f[40];
  read_at(seg_path(0), 0, h, sizeof h);
  ASSERT_MEMEQ(h, "mmf-log\n", 8);
  ASSERT_EQ_U(mmf__le32(h + 8), 1);     /* version */
  ASSERT_EQ_U(mmf__le32(h + 12), 4096); /* frames start */
  ASSERT_EQ_U(mmf__le64(h + 16), SMALL_SEG);
  ASSERT_EQ_U(mmf__le64(h + 24), 0); /* base */
  ASSERT_EQ_U(mmf__le32(h + 60), mmf__crc32c(0, h, 60));
  uint32_t salt = mmf__le32(h + 32);
  read_at(seg_path(0), 4096, f, sizeof f);
  ASSERT_EQ_U(mmf__le32(f + 0), 32); /* 24 + 3, rounded up to 8 */
  ASSERT_EQ_U(mmf__le32(f + 4), 3);
  ASSERT_EQ_U(mmf__le64(f + 8), 0);
  ASSERT_EQ_U(mmf__le32(f + 16), salt);
  uint32_t crc = mmf__crc32c(mmf__crc32c(0, f, 20), "abc", 3);
  ASSERT_EQ_U(mmf__le32(f + 20), crc);
  ASSERT_MEMEQ(f + 24, "abc\0\0\0\0\0", 8); /* payload, zero padding */
  ASSERT_EQ_U(mmf__le32(f + 32), 0);        /* no next frame */
}

/* ------------------------------------------------------------------------ */
/* Appending, committing, reading                                            */
/* ------------------------------------------------------------------------ */

TEST(append_commit_read) {
  mmf_log *w = open_writer(0);
  mmf_log *r = open_reader();
  append_range(w, 0, 1000, MMF_FLUSH_ASYNC);
  read_range(r, 0, 1000);
  ASSERT_EQ_U(mmf_log_segment_size(w), 64u << 20);
  ASSERT_OK(mmf_log_close(r));
  ASSERT_OK(mmf_log_close(w));
}

TEST(records_invisible_until_commit) {
  mmf_log *w = open_writer(SMALL_SEG);
  mmf_log *r = open_reader();
  const void *rec;
  size_t len;
  append_range(w, 0, 10, 0);
  ASSERT_ERR(mmf_log_next(r, &rec, &len, NULL, 0), MMF_EAGAIN);
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_ASYNC));
  read_range(r, 0, 10);
  /* Closing a writer drops what it did not commit; the next writer
   * starts where the commits ended. */
  append_range(w, 10, 20, 0);
  ASSERT_OK(mmf_log_close(w));
  w = open_writer(SMALL_SEG);
  uint64_t end = 0;
  ASSERT_OK(mmf_log_info(w, NULL, &end, NULL));
  ASSERT_EQ_U(end, 10);
  append_range(w, 10, 15, MMF_FLUSH_SYNC);
  read_range(r, 10, 15);
  ASSERT_OK(mmf_log_close(w));
  ASSERT_OK(mmf_log_close(r));
}

TEST(empty_and_largest_records) {
  mmf_log *w = open_writer(SMALL_SEG);
  size_t max = (size_t)mmf__log_max_record(SMALL_SEG);
  unsigned char *big = malloc(max + 1);
  uint64_t seq = 99;
  ASSERT_TRUE(big != NULL);
  fill_pat(big, 5, max + 1);
  ASSERT_OK(mmf_log_append(w, NULL, 0, &seq));
  ASSERT_EQ_U(seq, 0);
  /* Too long: refused, and no number used up. */
  ASSERT_ERR(mmf_log_append(w, big, max + 1, &seq), MMF_EFBIG);
  ASSERT_EQ_U(seq, 0);
  ASSERT_OK(mmf_log_append(w, big, max, &seq));
  ASSERT_EQ_U(seq, 1);
  ASSERT_OK(mmf_log_append(w, "x", 1, &seq));
  ASSERT_EQ_U(seq, 2);
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_SYNC));
  mmf_log *r = open_reader();
  const void *rec;
  size_t len;
  ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, 0));
  ASSERT_TRUE(rec != NULL);
  ASSERT_EQ_U(len, 0);
  ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, 0));
  ASSERT_EQ_U(len, max);
  ASSERT_MEMEQ(rec, big, max);
  ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, 0));
  ASSERT_EQ_U(seq, 2);
  ASSERT_MEMEQ(rec, "x", 1);
  uint64_t segs = 0;
  ASSERT_OK(mmf_log_info(r, NULL, NULL, &segs));
  ASSERT_EQ_U(segs, 3);
  free(big);
  ASSERT_OK(mmf_log_close(r));
  ASSERT_OK(mmf_log_close(w));
}

TEST(segments_roll_over) {
  mmf_log *w = open_writer(SMALL_SEG);
  mmf_log *r = open_reader();
  /* About 2,000 records of 150 bytes on average: several segments, with
   * commits both inside segments and across rolls. */
  for (uint64_t s = 0; s < 2000; s += 37)
    append_range(w, s, s + 37 < 2000 ? s + 37 : 2000,
                 (s / 37) % 2 ? MMF_FLUSH_ASYNC : MMF_FLUSH_SYNC);
  read_range(r, 0, 2000);
  uint64_t first = 9, end = 0, segs = 0;
  ASSERT_OK(mmf_log_info(w, &first, &end, &segs));
  ASSERT_EQ_U(first, 0);
  ASSERT_EQ_U(end, 2000);
  ASSERT_GE_U(segs, 4);
  ASSERT_OK(mmf_log_close(w));
  /* The same log, reopened: the writer goes on after record 1999. */
  w = open_writer(0);
  ASSERT_EQ_U(mmf_log_segment_size(w), SMALL_SEG);
  append_range(w, 2000, 2100, MMF_FLUSH_FULL);
  read_range(r, 2000, 2100);
  ASSERT_OK(mmf_log_close(w));
  ASSERT_OK(mmf_log_close(r));
  r = open_reader();
  read_range(r, 0, 2100);
  ASSERT_OK(mmf_log_close(r));
}

TEST(seek) {
  mmf_log *w = open_writer(SMALL_SEG);
  append_range(w, 0, 1500, MMF_FLUSH_ASYNC);
  mmf_log *r = open_reader();
  ASSERT_OK(mmf_log_seek(r, 1234));
  read_range(r, 1234, 1500);
  ASSERT_OK(mmf_log_seek(r, 0));
  read_range(r, 0, 1500);
  ASSERT_OK(mmf_log_seek(r, 1500)); /* the end */
  ASSERT_OK(mmf_log_seek(r, MMF_LOG_END));
  append_range(w, 1500, 1510, MMF_FLUSH_ASYNC);
  read_range(r, 1500, 1510);
  ASSERT_ERR(mmf_log_seek(r, 1511), MMF_ERANGE);
  ASSERT_OK(mmf_log_seek(r, 700));
  read_range(r, 700, 1510);
  ASSERT_OK(mmf_log_close(r));
  ASSERT_OK(mmf_log_close(w));
}

TEST(trim_drops_whole_segments) {
  mmf_log *w = open_writer(SMALL_SEG);
  append_range(w, 0, 2000, MMF_FLUSH_SYNC);
  mmf_log *early = open_reader(); /* inside a segment trim removes */
  uint64_t segs0 = 0, segs = 0, first = 0;
  ASSERT_OK(mmf_log_info(w, NULL, NULL, &segs0));
  ASSERT_ERR(mmf_log_trim(w, 2001), MMF_ERANGE);
  ASSERT_OK(mmf_log_trim(w, 1000));
#ifdef _WIN32
  /* Windows removes a file a reader maps only once the reader lets go
   * (DeleteFile fails, or leaves the name until then): trim stops in
   * front of it or leaves it pending, and a later trim finishes. */
  ASSERT_OK(mmf_log_close(early));
  early = NULL;
  ASSERT_OK(mmf_log_trim(w, 1000));
#endif
  ASSERT_OK(mmf_log_info(w, &first, NULL, &segs));
  ASSERT_LT_U(segs, segs0);
  ASSERT_LE_U(first, 1000);
  ASSERT_LT_U(0, first);
  /* The files are gone; record 1000 stays. */
  ASSERT_FALSE(test_exists(seg_path(0)));
  mmf_log *r = open_reader();
  ASSERT_ERR(mmf_log_seek(r, first - 1), MMF_ERANGE);
  ASSERT_OK(mmf_log_seek(r, 1000));
  read_range(r, 1000, 2000);
  ASSERT_OK(mmf_log_close(r));
  r = open_reader(); /* a new reader starts at the first record left */
  read_range(r, first, 2000);
  ASSERT_OK(mmf_log_close(r));
  /* Trimming everything keeps the segment being written. */
  ASSERT_OK(mmf_log_trim(w, 2000));
  ASSERT_OK(mmf_log_info(w, NULL, NULL, &segs));
  ASSERT_EQ_U(segs, 1);
  append_range(w, 2000, 2010, MMF_FLUSH_ASYNC);
  r = open_reader();
  ASSERT_OK(mmf_log_info(r, &first, NULL, NULL));
  read_range(r, first, 2010);
  ASSERT_OK(mmf_log_close(r));
#ifndef _WIN32
  /* A reader inside a removed segment finishes it (POSIX keeps the bytes
   * of an unlinked file while it is mapped). */
  const void *rec;
  size_t len;
  uint64_t seq;
  ASSERT_OK(mmf_log_next(early, &rec, &len, &seq, 0));
  ASSERT_EQ_U(seq, 0);
  rec_check(0, rec, len);
#endif
  ASSERT_OK(mmf_log_close(early));
  ASSERT_OK(mmf_log_close(w));
}

/* ------------------------------------------------------------------------ */
/* Arguments and modes                                                       */
/* ------------------------------------------------------------------------ */

TEST(arguments) {
  mmf_log *log = (mmf_log *)1;
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  ASSERT_ERR(mmf_log_open(NULL, logdir(), MMF_READ, NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_log_open(&log, NULL, MMF_READ, NULL), MMF_EINVAL);
  ASSERT_NULL(log);
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_COPY, NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_READ | MMF_WRITE, NULL),
             MMF_EINVAL);
  o.flags = MMF_CREATE;
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_READ, &o), MMF_EINVAL);
  o.flags = MMF_POPULATE;
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_WRITE, &o), MMF_EINVAL);
  o.flags = MMF_CREATE;
  o.segment_size = 4096;
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_WRITE, &o), MMF_EINVAL);
  o.segment_size = SMALL_SEG + 1;
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_WRITE, &o), MMF_EINVAL);
  o.segment_size = (2ull << 30);
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_WRITE, &o), MMF_EINVAL);
  /* No log there. */
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_READ, NULL), MMF_ENOENT);
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_WRITE, NULL), MMF_ENOENT);
  test_mkdir(logdir());
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_READ, NULL), MMF_ENOENT);
  ASSERT_ERR(mmf_log_open(&log, logdir(), MMF_WRITE, NULL), MMF_ENOENT);
  write_file(test_path("file"), "x", 1);
  o.segment_size = 0;
  ASSERT_ERR(mmf_log_open(&log, test_path("file"), MMF_WRITE, &o), MMF_ENOTDIR);
  ASSERT_NULL(log);

  /* Each handle does what its mode allows. */
  mmf_log *w = open_writer(SMALL_SEG);
  mmf_log *r = open_reader();
  const void *rec = (const void *)1;
  size_t len = 9;
  uint64_t seq = 9;
  ASSERT_ERR(mmf_log_append(NULL, "a", 1, &seq), MMF_EINVAL);
  ASSERT_ERR(mmf_log_append(w, NULL, 1, &seq), MMF_EINVAL);
  ASSERT_ERR(mmf_log_append(r, "a", 1, &seq), MMF_EACCES);
  ASSERT_EQ_U(seq, 0);
  ASSERT_ERR(mmf_log_commit(NULL, MMF_FLUSH_SYNC), MMF_EINVAL);
  ASSERT_ERR(mmf_log_commit(w, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_log_commit(r, MMF_FLUSH_SYNC), MMF_EACCES);
  ASSERT_ERR(mmf_log_next(NULL, &rec, &len, &seq, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_log_next(r, NULL, &len, &seq, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_log_next(r, &rec, NULL, &seq, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_log_next(w, &rec, &len, &seq, 0), MMF_EACCES);
  ASSERT_NULL(rec);
  ASSERT_EQ_U(len, 0);
  ASSERT_ERR(mmf_log_seek(NULL, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_log_seek(w, 0), MMF_EACCES);
  ASSERT_ERR(mmf_log_trim(NULL, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_log_trim(r, 0), MMF_EACCES);
  ASSERT_ERR(mmf_log_info(NULL, NULL, NULL, NULL), MMF_EINVAL);
  ASSERT_EQ_U(mmf_log_segment_size(NULL), 0);
  ASSERT_OK(mmf_log_close(NULL));
  ASSERT_OK(mmf_log_close(r));
  ASSERT_OK(mmf_log_close(w));
}

TEST_CHILD(try_second_writer) {
  mmf_log *w = NULL;
  (void)argc;
  int rc = mmf_log_open(&w, argv[1], MMF_WRITE, NULL);
  if (rc == MMF_EBUSY)
    return 0;
  mmf_log_close(w);
  return 1;
}

TEST(second_writer_is_busy) {
  mmf_log *w = open_writer(SMALL_SEG), *w2 = (mmf_log *)1;
  /* In this process (another open file of the same lock)... */
  ASSERT_ERR(mmf_log_open(&w2, logdir(), MMF_WRITE, NULL), MMF_EBUSY);
  ASSERT_NULL(w2);
  /* ...and in another one. */
  ASSERT_EQ(test_run_child("try_second_writer", logdir(), NULL), 0);
  /* Readers are welcome. */
  mmf_log *r = open_reader();
  ASSERT_OK(mmf_log_close(r));
  ASSERT_OK(mmf_log_close(w));
  w = open_writer(SMALL_SEG); /* the lock went with the first writer */
  ASSERT_OK(mmf_log_close(w));
}

/* ------------------------------------------------------------------------ */
/* Recovery and damage                                                       */
/* ------------------------------------------------------------------------ */

/* A log of n records in segments of SMALL_SEG, durable, writer closed. */
static void make_log(uint64_t n) {
  mmf_log *w = open_writer(SMALL_SEG);
  append_range(w, 0, n, MMF_FLUSH_SYNC);
  ASSERT_OK(mmf_log_close(w));
}

/* Flip one bit at file offset off of segment base. */
static void flip(uint64_t base, uint64_t off, unsigned bit) {
  unsigned char b;
  read_at(seg_path(base), off, &b, 1);
  b ^= (unsigned char)(1u << bit);
  write_at(seg_path(base), off, &b, 1);
}

/* Read from the start: records in order until the first failure, which
 * must be code at record expect_end (code MMF_EAGAIN: the clean end). */
static void read_until(uint64_t expect_end, int code) {
  mmf_log *r = open_reader();
  const void *rec;
  size_t len;
  uint64_t seq, s = 0;
  int rc;
  while ((rc = mmf_log_next(r, &rec, &len, &seq, 0)) == 0) {
    ASSERT_EQ_U(seq, s);
    rec_check(seq, rec, len);
    s++;
  }
  ASSERT_ERR(rc, code);
  ASSERT_EQ_U(s, expect_end);
  /* Nothing is consumed by a failure: the same answer again. */
  ASSERT_ERR(mmf_log_next(r, &rec, &len, &seq, 0), code);
  ASSERT_OK(mmf_log_close(r));
}

TEST(recovery_cuts_at_a_torn_tail) {
  /* A bit flipped in the payload of record 150 of the last segment is a
   * torn frame: readers stop in front of it with MMF_ECORRUPT; the next
   * writer cuts the log there, and the next append is record 150. */
  make_log(200);
  uint64_t segs = 0, base;
  mmf_log *w = open_writer(SMALL_SEG);
  ASSERT_OK(mmf_log_info(w, NULL, NULL, &segs));
  ASSERT_OK(mmf_log_close(w));
  ASSERT_EQ_U(segs, 1);
  base = 0;
  flip(base, frame_offset(base, 150) + MMF__LOG_FRAME + 3, 2);
  read_until(150, MMF_ECORRUPT);
  w = open_writer(SMALL_SEG);
  uint64_t end = 0;
  ASSERT_OK(mmf_log_info(w, NULL, &end, NULL));
  ASSERT_EQ_U(end, 150);
  /* Everything after the cut is zero now. */
  uint64_t cut = frame_offset(base, 150);
  unsigned char *rest = malloc(SMALL_SEG - cut);
  read_at(seg_path(base), cut, rest, SMALL_SEG - cut);
  ASSERT_ZERO(rest, SMALL_SEG - cut);
  free(rest);
  read_until(150, MMF_EAGAIN);
  append_range(w, 150, 160, MMF_FLUSH_SYNC);
  read_until(160, MMF_EAGAIN);
  ASSERT_OK(mmf_log_close(w));
}

TEST(stale_frames_after_a_cut_never_return) {
  /* Records 0..299 committed; the commit word of record 100 is lost (as
   * when its page never reached the disk) while 101..299 stay whole.
   * Recovery cuts at 100 and zeroes the rest; new records of the same
   * lengths then land exactly where the old ones were, and nothing of
   * the old run follows them. Negative control: without the zeroing
   * (bytes put back), the old record 101 would pass every check. */
  make_log(300);
  uint64_t off100 = frame_offset(0, 100), off101 = frame_offset(0, 101);
  unsigned char zero4[4] = {0, 0, 0, 0}, old101[512];
  size_t n101 = (size_t)mmf__log_frame_size(rec_len(101));
  read_at(seg_path(0), off101, old101, n101);
  write_at(seg_path(0), off100, zero4, 4);
  read_until(100, MMF_EAGAIN);
  mmf_log *w = open_writer(SMALL_SEG);
  append_range(w, 100, 101, MMF_FLUSH_SYNC);
  read_until(101, MMF_EAGAIN);
  /* The control: the old frame 101 put back passes as record 101. */
  write_at(seg_path(0), off101, old101, n101);
  read_until(102, MMF_EAGAIN);
  ASSERT_OK(mmf_log_close(w));
}

TEST(damage_in_the_middle_is_an_error_never_wrong_bytes) {
  /* Bit flips anywhere in the frames of an older segment (header, length,
   * sequence number, salt, CRC, payload): readers stop in front of the
   * damaged frame with MMF_ECORRUPT, having returned only right records;
   * the writer's recovery (which does not walk complete segments) leaves
   * older segments alone. */
  make_log(1200);
  uint64_t rec_in = 20; /* a record in segment 0 */
  uint64_t off = frame_offset(0, rec_in);
  size_t fsize = (size_t)mmf__log_frame_size(rec_len(rec_in));
  for (size_t at = 0; at < fsize; at += (at < 24 ? 1 : 7)) {
    test_context("flip at byte %zu of the frame", at);
    flip(0, off + at, (unsigned)(at % 8));
    if (at >= MMF__LOG_FRAME + rec_len(rec_in))
      read_until(1200, MMF_EAGAIN); /* padding: never handed out */
    else
      read_until(rec_in, MMF_ECORRUPT);
    flip(0, off + at, (unsigned)(at % 8));
  }
  read_until(1200, MMF_EAGAIN);
}

TEST(zeroed_page_truncated_and_missing_segments) {
  make_log(1200);
  uint64_t *bases = NULL;
  size_t n = 0;
  ASSERT_OK(mmf__log_list(logdir(), &bases, &n, NULL, NULL));
  ASSERT_GE_U(n, 3);
  uint64_t b1 = bases[1], b2 = bases[2];
  free(bases);
  /* A zeroed page in the middle of segment 0: the frame at the page is
   * torn (or its word reads 0, the end): readers stop before it. */
  unsigned char page[4096], zeros[4096];
  memset(zeros, 0, sizeof zeros);
  read_at(seg_path(0), 3 * 4096, page, sizeof page);
  write_at(seg_path(0), 3 * 4096, zeros, sizeof zeros);
  mmf_log *r = open_reader();
  const void *rec;
  size_t len;
  uint64_t seq, s = 0;
  int rc;
  while ((rc = mmf_log_next(r, &rec, &len, &seq, 0)) == 0)
    rec_check(s++, rec, len);
  ASSERT_TRUE(rc == MMF_ECORRUPT || rc == MMF_EAGAIN);
  ASSERT_LT_U(s, b1);
  ASSERT_OK(mmf_log_close(r));
  write_at(seg_path(0), 3 * 4096, page, sizeof page);
  read_until(1200, MMF_EAGAIN);

  /* A truncated middle segment: MMF_ECORRUPT when the reader gets there
   * (never a SIGBUS). */
  char saved[1024];
  snprintf(saved, sizeof saved, "%s", seg_path(b1));
  test_truncate(saved, SMALL_SEG / 2);
  read_until(b1, MMF_ECORRUPT);
  r = open_reader();
  ASSERT_ERR(mmf_log_seek(r, b1 + 1), MMF_ECORRUPT);
  ASSERT_OK(mmf_log_close(r));
  /* A missing one: the same. */
  test_unlink(saved);
  read_until(b1, MMF_ECORRUPT);
  (void)b2;
}

TEST(garbage_files_are_ignored) {
  make_log(50);
  write_file(test_path("log/notes.txt"), "hello", 5);
  write_file(test_path("log/0000000000000000.seg.bak"), "x", 1);
  write_file(test_path("log/ABCDEF0000000000.seg"), "x", 1); /* upper case */
  write_file(test_path("log/123.seg"), "x", 1);
  test_mkdir(test_path("log/subdir"));
  read_until(50, MMF_EAGAIN);
  mmf_log *w = open_writer(0);
  append_range(w, 50, 60, MMF_FLUSH_SYNC);
  ASSERT_OK(mmf_log_close(w));
  read_until(60, MMF_EAGAIN);
  ASSERT_TRUE(test_exists(test_path("log/notes.txt")));
}

TEST(bad_segment_headers) {
  make_log(1200);
  /* A segment that claims another segment size, or whose header fails
   * its CRC: the writer refuses the log, readers fail when they get
   * there. */
  uint64_t *bases = NULL;
  size_t n = 0;
  ASSERT_OK(mmf__log_list(logdir(), &bases, &n, NULL, NULL));
  uint64_t b1 = bases[1];
  free(bases);
  flip(b1, 40, 0); /* reserved byte, covered by the header CRC */
  mmf_log *w = (mmf_log *)1;
  ASSERT_ERR(mmf_log_open(&w, logdir(), MMF_WRITE, NULL), MMF_ECORRUPT);
  ASSERT_NULL(w);
  read_until(b1, MMF_ECORRUPT);
  flip(b1, 40, 0);
  read_until(1200, MMF_EAGAIN);
  /* A leftover of an interrupted segment creation is removed. */
  write_file(test_path("log/00000000000004b0.seg.tmp"), "x", 1);
  w = open_writer(0);
  ASSERT_FALSE(test_exists(test_path("log/00000000000004b0.seg.tmp")));
  ASSERT_OK(mmf_log_close(w));
}

TEST(lost_seal_is_repaired) {
  /* A segment whose seal never reached the disk, followed by the segment
   * that continues it: whole, not a cut. Recovery writes the seal again
   * and readers cross over. */
  make_log(1200);
  uint64_t *bases = NULL;
  size_t n = 0;
  ASSERT_OK(mmf__log_list(logdir(), &bases, &n, NULL, NULL));
  uint64_t b1 = bases[1];
  uint64_t seal_at = frame_offset(0, b1);
  unsigned char w4[4], zero4[4] = {0, 0, 0, 0};
  read_at(seg_path(0), seal_at, w4, 4);
  ASSERT_EQ_U(mmf__le32(w4), MMF__LOG_SEAL);
  write_at(seg_path(0), seal_at, zero4, 4);
  /* The "complete" marks never reached the disk either (they are written
   * after the sync, and nothing syncs them). */
  for (size_t i = 0; i < n; i++)
    write_at(seg_path(bases[i]), MMF__LOG_H_COMPLETE, zero4, 4);
  free(bases);
  read_until(b1, MMF_EAGAIN); /* a reader waits at the lost seal */
  mmf_log *w = open_writer(0);
  read_until(1200, MMF_EAGAIN);
  ASSERT_OK(mmf_log_close(w));
}

/* ------------------------------------------------------------------------ */
/* Latched errors                                                            */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
static int msync_failures; /* fail this many msync calls with EIO */
static int failing_msync(void *addr, size_t len, int flags) {
  if (msync_failures > 0) {
    msync_failures--;
    errno = EIO;
    return -1;
  }
  return mmf__sys_real.msync(addr, len, flags);
}
static int fdatasync_failures;
static int failing_fdatasync(int fd) {
  if (fdatasync_failures > 0) {
    fdatasync_failures--;
    errno = EIO;
    return -1;
  }
  return mmf__sys_real.fdatasync(fd);
}
#endif

TEST(failed_commit_is_latched) {
#ifdef _WIN32
  SKIP("fails msync through the POSIX call table");
#else
  /* msync fails once, then works again, as on a disk that failed one
   * write: the OS has marked the pages clean, so a retry "succeeds"
   * without the data. Every later commit must keep failing: 0 false
   * successes in 20 tries. */
  mmf_log *w = open_writer(SMALL_SEG);
  append_range(w, 0, 10, MMF_FLUSH_SYNC);
  append_range(w, 10, 20, 0);
  mmf__sys.msync = failing_msync;
  msync_failures = 1;
  ASSERT_ERR(mmf_log_commit(w, MMF_FLUSH_SYNC), MMF_EIO);
  ASSERT_EQ(msync_failures, 0);
  ASSERT_EQ(mmf_log_last_os_error(w), EIO);
  int false_successes = 0;
  for (int i = 0; i < 20; i++) {
    if (mmf_log_commit(w, i % 2 ? MMF_FLUSH_SYNC : MMF_FLUSH_ASYNC) == 0)
      false_successes++;
    ASSERT_ERR(mmf_log_append(w, "x", 1, NULL), MMF_EIO);
  }
  ASSERT_EQ(false_successes, 0);
  ASSERT_ERR(mmf_log_close(w), MMF_EIO);

  /* The negative control: a map flushed the same way, without the latch,
   * reports success on the retry. */
  mmf_map *m = NULL;
  write_file(test_path("plain"), NULL, 4096);
  ASSERT_OK(mmf_open(&m, test_path("plain"), MMF_WRITE, NULL));
  ((unsigned char *)mmf_data(m))[0] = 1;
  msync_failures = 1;
  ASSERT_ERR(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC), MMF_EIO);
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC)); /* the false success */
  ASSERT_OK(mmf_close(m));
  mmf__sys = mmf__sys_real;

  /* Reopened, the writer recovers from the file: records 0..9 were
   * durable; 10..19 are there too (the page cache kept them) or not. */
  w = open_writer(0);
  uint64_t end = 0;
  ASSERT_OK(mmf_log_info(w, NULL, &end, NULL));
  ASSERT_GE_U(end, 10);
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_SYNC));
  ASSERT_OK(mmf_log_close(w));
#endif
}

TEST(failed_segment_creation_is_an_append_error) {
#ifdef _WIN32
  SKIP("fails fdatasync through the POSIX call table");
#else
  /* A segment that cannot be made (its sync fails) fails the append that
   * needed it, uses up no number and leaves no file behind; the next
   * append tries again. Nothing was promised, so nothing is latched. */
  mmf_log *w = open_writer(SMALL_SEG);
  unsigned char big[20000];
  uint64_t seq = 0;
  memset(big, 7, sizeof big);
  for (int i = 0; i < 3; i++)
    ASSERT_OK(mmf_log_append(w, big, sizeof big, &seq));
  mmf__sys.fdatasync = failing_fdatasync;
  fdatasync_failures = 1;
  ASSERT_ERR(mmf_log_append(w, big, sizeof big, &seq), MMF_EIO);
  ASSERT_EQ_U(seq, 0);
  ASSERT_FALSE(test_exists(seg_path(3)));
  ASSERT_FALSE(test_exists(test_path("log/0000000000000003.seg.tmp")));
  mmf__sys = mmf__sys_real;
  ASSERT_OK(mmf_log_append(w, big, sizeof big, &seq));
  ASSERT_EQ_U(seq, 3);
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_SYNC));
  ASSERT_OK(mmf_log_close(w));
#endif
}

#ifndef _WIN32
static int enospc_fallocate(int fd, off_t off, off_t len) {
  (void)fd;
  (void)off;
  (void)len;
  return ENOSPC; /* this entry returns the error */
}
#endif

TEST(full_disk_at_segment_creation) {
#ifdef _WIN32
  SKIP("fails fallocate through the POSIX call table");
#else
  /* The disk is full when a segment is needed: MMF_ENOSPC from the
   * append, which uses up no number; the records before it are intact
   * and the log goes on once there is space. */
  mmf_log *w = open_writer(SMALL_SEG);
  unsigned char big[30000];
  uint64_t seq = 0;
  memset(big, 7, sizeof big);
  ASSERT_OK(mmf_log_append(w, big, sizeof big, NULL));
  ASSERT_OK(mmf_log_append(w, big, sizeof big, NULL));
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_SYNC));
  mmf__sys.fallocate = enospc_fallocate;
  ASSERT_ERR(mmf_log_append(w, big, sizeof big, &seq), MMF_ENOSPC);
  ASSERT_EQ_U(seq, 0);
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_SYNC)); /* nothing was lost */
  mmf__sys = mmf__sys_real;
  ASSERT_OK(mmf_log_append(w, big, sizeof big, &seq));
  ASSERT_EQ_U(seq, 2);
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_SYNC));
  ASSERT_OK(mmf_log_close(w));
#endif
}

/* ------------------------------------------------------------------------ */
/* kill -9 of the writer                                                     */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
typedef struct ack_job {
  int fd;      /* acknowledgements go here, 8 bytes each */
  int honest;  /* 1: acknowledge after the SYNC commit returned */
  unsigned rs; /* random seed for the record batch sizes */
} ack_job;

/* The writer process: appends records and acknowledges each to the
 * parent, until it is killed. The honest one acknowledges a record only
 * once its SYNC commit returned; the other one (the negative control)
 * right after the append, committing (ASYNC) every 16 records. */
static int ack_writer(void *arg) {
  ack_job *j = arg;
  mmf_log *w = NULL;
  unsigned char buf[512];
  uint64_t seq, pending[16];
  int np = 0;
  uint64_t next;
  if (mmf_log_open(&w, logdir(), MMF_WRITE, NULL) != 0 ||
      mmf_log_info(w, NULL, &next, NULL) != 0)
    return 3;
  for (int i = 0; i < 1000000; i++, next++) {
    j->rs = j->rs * 1103515245u + 12345u;
    size_t n = rec_make(next, buf);
    if (mmf_log_append(w, buf, n, &seq) != 0)
      return 4;
    if (!j->honest) {
      if (write(j->fd, &seq, sizeof seq) != (ssize_t)sizeof seq)
        return 5;
      if (++np == 16) {
        np = 0;
        if (mmf_log_commit(w, MMF_FLUSH_ASYNC) != 0)
          return 6;
      }
      continue;
    }
    pending[np++] = seq;
    /* Commit batches of 1 to 4 records. */
    if (np < (int)((j->rs >> 16) % 4 + 1))
      continue;
    if (mmf_log_commit(w, MMF_FLUSH_SYNC) != 0)
      return 6;
    for (int k = 0; k < np; k++)
      if (write(j->fd, &pending[k], sizeof pending[k]) !=
          (ssize_t)sizeof pending[k])
        return 5;
    np = 0;
  }
  return 0;
}

typedef struct crash_tally {
  int runs;
  uint64_t acked_lost; /* acknowledged records not found afterwards */
  uint64_t acked;      /* acknowledgements received */
} crash_tally;

/* One run: start a writer, let it acknowledge `after` records (plus a
 * random pause), kill it, recover, and check every acknowledged record.
 * tail follows the log across every run and must see each record once,
 * in order, and right. */
static void crash_run(int honest, unsigned seed, int after, mmf_log *tail,
                      uint64_t *tail_seq, crash_tally *t) {
  int fds[2];
  ack_job job;
  uint64_t ack, last_ack = 0, got = 0, end = 0;
  test_pipe(fds);
  job.fd = fds[1];
  job.honest = honest;
  job.rs = seed;
  pid_t pid = start_child(ack_writer, &job);
  close(fds[1]);
  while ((int)got < after && read(fds[0], &ack, sizeof ack) == sizeof ack) {
    last_ack = ack;
    got++;
  }
  if (seed % 3)
    test_sleep_ms(seed % 2); /* let it get into the middle of something */
  kill(pid, SIGKILL);
  int st = wait_child(pid);
  ASSERT_TRUE(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) == 0));
  /* Acknowledgements sent before the kill count too. */
  while (read(fds[0], &ack, sizeof ack) == sizeof ack) {
    last_ack = ack;
    got++;
  }
  close(fds[0]);
  t->acked += got;
  t->runs++;
  /* Recovery, by the next writer. */
  mmf_log *w = NULL;
  ASSERT_OK(mmf_log_open(&w, logdir(), MMF_WRITE, NULL));
  ASSERT_OK(mmf_log_info(w, NULL, &end, NULL));
  ASSERT_OK(mmf_log_close(w));
  if (got && last_ack >= end)
    t->acked_lost += last_ack - end + 1;
  /* The follower: every record up to the end, right, once, in order. */
  const void *rec;
  size_t len;
  uint64_t seq;
  int rc;
  while ((rc = mmf_log_next(tail, &rec, &len, &seq, 0)) == 0) {
    ASSERT_EQ_U(seq, *tail_seq);
    rec_check(seq, rec, len);
    (*tail_seq)++;
  }
  ASSERT_ERR(rc, MMF_EAGAIN);
  ASSERT_EQ_U(*tail_seq, end);
}

static void crash_series(int honest, int runs, crash_tally *t) {
  mmf_log *w = open_writer(SMALL_SEG), *tail;
  ASSERT_OK(mmf_log_close(w));
  tail = open_reader();
  uint64_t tail_seq = 0;
  unsigned seed = honest ? 12345u : 777u;
  for (int i = 0; i < runs; i++) {
    seed = seed * 1103515245u + 12345u;
    test_context("run %d", i);
    crash_run(honest, seed, (int)(seed >> 16) % 40 + 1, tail, &tail_seq, t);
  }
  test_context_clear();
  ASSERT_OK(mmf_log_close(tail));
}
#endif

TEST(kill9_writer_loses_no_acknowledged_record) {
#ifdef _WIN32
  SKIP("kills forked writers with SIGKILL");
#else
  /* 200 runs: 0 acknowledged-but-lost, no wrong or torn record ever read
   * (by a follower that lives through every kill and recovery). */
  crash_tally t = {0, 0, 0};
  crash_series(1, 200, &t);
  test_note("%d runs, %" PRIu64 " acknowledged, %" PRIu64
            " acknowledged but lost",
            t.runs, t.acked, t.acked_lost);
  ASSERT_EQ(t.runs, 200);
  ASSERT_EQ_U(t.acked_lost, 0);

  /* The negative control, on the same log: acknowledging before the
   * commit loses records under the same kills, so the check above can
   * fail. */
  crash_tally c = {0, 0, 0};
  crash_series(0, 20, &c);
  test_note("control: %d runs, %" PRIu64 " acknowledged, %" PRIu64
            " acknowledged but lost",
            c.runs, c.acked, c.acked_lost);
  ASSERT_LT_U(0, c.acked_lost);
#endif
}

/* ------------------------------------------------------------------------ */
/* A reader in another process                                               */
/* ------------------------------------------------------------------------ */

#define TAIL_RECORDS 1000000u

/* Small records for the million: the sequence number, then 0-23 pattern
 * bytes. */
static size_t tail_make(uint64_t seq, unsigned char *buf) {
  size_t n = (size_t)(seq % 24);
  memcpy(buf, &seq, 8);
  fill_pat(buf + 8, seq, n);
  return 8 + n;
}

TEST_CHILD(tail_writer) {
  mmf_log *w = NULL;
  unsigned char buf[64];
  unsigned rs = 99;
  if (argc < 3)
    return 2;
  uint64_t n = strtoull(argv[2], NULL, 10);
  if (mmf_log_open(&w, argv[1], MMF_WRITE, NULL) != 0)
    return 3;
  for (uint64_t s = 0; s < n; s++) {
    if (mmf_log_append(w, buf, tail_make(s, buf), NULL) != 0)
      return 4;
    /* Commit after 1 to 128 records, now and then durably. */
    rs = rs * 1103515245u + 12345u;
    if ((rs >> 16) % 64 == 0 &&
        mmf_log_commit(w, (rs >> 8) % 50 ? MMF_FLUSH_ASYNC : MMF_FLUSH_SYNC))
      return 5;
  }
  if (mmf_log_commit(w, MMF_FLUSH_ASYNC) != 0)
    return 5;
  return mmf_log_close(w) == 0 ? 0 : 6;
}

TEST(reader_in_another_process_sees_every_record_once) {
  mmf_log *w = open_writer(0), *r;
  ASSERT_OK(mmf_log_close(w));
  r = open_reader();
  /* Under Wine every wake and wait is a round trip to the wineserver:
   * a tenth of the records there. */
  uint64_t total = test_under_wine() ? TAIL_RECORDS / 10 : TAIL_RECORDS;
  char count[32];
  snprintf(count, sizeof count, "%" PRIu64, total);
  const char *args[] = {logdir(), count, NULL};
  test_proc p = test_spawn("tail_writer", args);
  unsigned char buf[64];
  uint64_t s = 0, waits = 0;
  while (s < total) {
    const void *rec;
    size_t len;
    uint64_t seq;
    int rc = mmf_log_next(r, &rec, &len, &seq, 1000000000);
    if (rc == MMF_EAGAIN) {
      waits++;
      continue;
    }
    ASSERT_OK(rc);
    if (seq != s)
      ASSERT_EQ_U(seq, s);
    size_t n = tail_make(s, buf);
    if (len != n || memcmp(rec, buf, n) != 0) {
      rec_check(s, rec, len);
      FAIL("record %" PRIu64 " is wrong", s);
    }
    s++;
  }
  ASSERT_EQ(test_wait(p), 0);
  const void *rec;
  size_t len;
  ASSERT_ERR(mmf_log_next(r, &rec, &len, NULL, 0), MMF_EAGAIN);
  test_note("%" PRIu64 " records in order, each once (%" PRIu64
            " timeouts of 1 s)",
            s, waits);
  ASSERT_OK(mmf_log_close(r));
}

/* ------------------------------------------------------------------------ */
/* Logs written elsewhere: other versions, word sizes and OSes               */
/* ------------------------------------------------------------------------ */

#define FIXTURE_RECORDS 1200u

/* The log every platform writes for the others: records 0..1199 in 64 KiB
 * segments (four of them), committed SYNC. */
static void fixture_write(const char *dir) {
  mmf_log *w = NULL;
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  unsigned char buf[512];
  o.segment_size = SMALL_SEG;
  o.flags = MMF_CREATE;
  ASSERT_OK(mmf_log_open(&w, dir, MMF_WRITE, &o));
  for (uint64_t s = 0; s < FIXTURE_RECORDS; s++)
    ASSERT_OK(mmf_log_append(w, buf, rec_make(s, buf), NULL));
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_SYNC));
  ASSERT_OK(mmf_log_close(w));
}

static void fixture_check(const char *dir) {
  mmf_log *r = NULL;
  const void *rec;
  size_t len;
  uint64_t seq;
  ASSERT_OK(mmf_log_open(&r, dir, MMF_READ, NULL));
  ASSERT_EQ_U(mmf_log_segment_size(r), SMALL_SEG);
  for (uint64_t s = 0; s < FIXTURE_RECORDS; s++) {
    ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, 0));
    ASSERT_EQ_U(seq, s);
    rec_check(s, rec, len);
  }
  ASSERT_ERR(mmf_log_next(r, &rec, &len, &seq, 0), MMF_EAGAIN);
  ASSERT_OK(mmf_log_seek(r, 777));
  ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, 0));
  rec_check(777, rec, len);
  ASSERT_OK(mmf_log_close(r));
}

TEST(reads_the_committed_log_of_version_1) {
  /* tests/data/log-v1: written by a 64-bit Linux build of the first
   * version of the format (fixture_write). Every build reads it: 32-bit,
   * Windows, later versions. Readers never write, so it stays as it is. */
  char src[1024];
  snprintf(src, sizeof src, "%s/tests/data/log-v1", MMF_SOURCE_DIR);
  if (!test_exists(src))
    SKIP("%s not found", src);
  fixture_check(src);
}

TEST(fixture_write_for_another_platform) {
  /* With MMF_LOG_FIXTURE_OUT=dir: write the fixture log there, for a build
   * of another word size or OS to read (scripts/check-m32.sh,
   * scripts/check-windows.sh). */
  const char *out = getenv("MMF_LOG_FIXTURE_OUT");
  if (!out || !*out)
    SKIP("MMF_LOG_FIXTURE_OUT not set (the cross-platform legs set it)");
  fixture_write(out);
  fixture_check(out);
}

TEST(fixture_read_from_another_platform) {
  /* With MMF_LOG_FIXTURE=dir: read a fixture log another build wrote. */
  const char *in = getenv("MMF_LOG_FIXTURE");
  if (!in || !*in)
    SKIP("MMF_LOG_FIXTURE not set (the cross-platform legs set it)");
  fixture_check(in);
}

TEST(segments_that_do_not_follow_each_other) {
  /* Segment 1's header says segment 0 ends elsewhere than where its seal
   * is (as when a segment of another run was put in place): readers stop
   * at the seal with MMF_ECORRUPT, and a writer whose recovery starts
   * after segment 0 refuses the log. */
  make_log(1200);
  uint64_t *bases = NULL;
  size_t n = 0;
  ASSERT_OK(mmf__log_list(logdir(), &bases, &n, NULL, NULL));
  uint64_t b1 = bases[1];
  unsigned char h[64];
  mmf__log_head head;
  read_at(seg_path(b1), 0, h, sizeof h);
  ASSERT_OK(mmf__log_head_decode(h, &head));
  ASSERT_EQ_U(head.prev_end, frame_offset(0, b1));
  head.prev_end += 8;
  mmf__log_head_encode(h, &head);
  write_at(seg_path(b1), 0, h, sizeof h);
  read_until(b1, MMF_ECORRUPT);
  /* Recovery walks from segment 1 on when segment 0 is the last
   * complete one. */
  unsigned char one[4] = {1, 0, 0, 0}, zero4[4] = {0, 0, 0, 0};
  write_at(seg_path(0), MMF__LOG_H_COMPLETE, one, 4);
  for (size_t i = 1; i < n; i++)
    write_at(seg_path(bases[i]), MMF__LOG_H_COMPLETE, zero4, 4);
  free(bases);
  mmf_log *w = (mmf_log *)1;
  ASSERT_ERR(mmf_log_open(&w, logdir(), MMF_WRITE, NULL), MMF_ECORRUPT);
  ASSERT_NULL(w);
}

/* ------------------------------------------------------------------------ */
/* Every system call of the log failing in turn                              */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
/* The N-th call (of the calls below, counted together) fails with the
 * errno of its kind; the rest work. */
static int inj_target, inj_calls, inj_hit;

static bool inj_now(void) {
  if (inj_target && ++inj_calls == inj_target) {
    inj_hit = 1;
    return true;
  }
  return false;
}

#define WRAP(ret, name, err, failval, params, args)                            \
  static ret w_##name params {                                                 \
    if (inj_now()) {                                                           \
      errno = err;                                                             \
      return failval;                                                          \
    }                                                                          \
    return mmf__sys_real.name args;                                            \
  }

WRAP(int, open, EMFILE, -1, (const char *p, int f, mode_t m), (p, f, m))
WRAP(int, fstat, EIO, -1, (int fd, struct stat *st), (fd, st))
WRAP(ssize_t, pread, EIO, -1, (int fd, void *b, size_t n, off_t o),
     (fd, b, n, o))
WRAP(int, ftruncate, EFBIG, -1, (int fd, off_t s), (fd, s))
WRAP(int, fsync, EIO, -1, (int fd), (fd))
WRAP(void *, mmap, ENOMEM, MAP_FAILED,
     (void *a, size_t l, int p, int f, int fd, off_t o), (a, l, p, f, fd, o))
WRAP(int, msync, EIO, -1, (void *a, size_t l, int f), (a, l, f))
WRAP(ssize_t, pwrite, ENOSPC, -1, (int fd, const void *b, size_t n, off_t o),
     (fd, b, n, o))
WRAP(int, fdatasync, EIO, -1, (int fd), (fd))
WRAP(int, mkdir, EACCES, -1, (const char *p, mode_t m), (p, m))
WRAP(int, unlink, EIO, -1, (const char *p), (p))
WRAP(int, rename, EIO, -1, (const char *a, const char *b), (a, b))
WRAP(DIR *, opendir, EMFILE, NULL, (const char *p), (p))
WRAP(int, lock_nowait, ENOLCK, -1, (int fd), (fd))

static int w_fallocate(int fd, off_t off, off_t len) {
  if (inj_now())
    return ENOSPC; /* this entry returns the error */
  return mmf__sys_real.fallocate(fd, off, len);
}

static struct dirent *w_readdir(DIR *d) {
  if (inj_now()) {
    errno = EIO;
    return NULL;
  }
  return mmf__sys_real.readdir(d);
}

static void inj_install(int target) {
  inj_target = target;
  inj_calls = 0;
  inj_hit = 0;
  mmf__sys.open = w_open;
  mmf__sys.fstat = w_fstat;
  mmf__sys.pread = w_pread;
  mmf__sys.ftruncate = w_ftruncate;
  mmf__sys.fallocate = w_fallocate;
  mmf__sys.fsync = w_fsync;
  mmf__sys.mmap = w_mmap;
  mmf__sys.msync = w_msync;
  mmf__sys.pwrite = w_pwrite;
  mmf__sys.fdatasync = w_fdatasync;
  mmf__sys.mkdir = w_mkdir;
  mmf__sys.unlink = w_unlink;
  mmf__sys.rename = w_rename;
  mmf__sys.opendir = w_opendir;
  mmf__sys.readdir = w_readdir;
  mmf__sys.lock_nowait = w_lock_nowait;
}

/* Only the system-call walk below has a use for these (the allocation
 * walk is the walker's case "log: commits SYNC and FULL, recover, trim,
 * seek"). */
static bool is_code(int rc) { return rc == 0 || test_is_mmf_error(rc); }

/* The scenario: create a log, append across segments with SYNC commits,
 * reopen (recovery), trim, read. Returns the number of records whose
 * commit returned 0 (they must all be there afterwards). */
static uint64_t inj_scenario(void) {
  mmf_log *w = NULL, *r = NULL;
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  unsigned char big[20000];
  uint64_t promised = 0, seq;
  const void *rec;
  size_t len;
  int rc;
  o.flags = MMF_CREATE;
  o.segment_size = SMALL_SEG;
  memset(big, 3, sizeof big);
  rc = mmf_log_open(&w, logdir(), MMF_WRITE, &o);
  ASSERT_TRUE(is_code(rc));
  if (rc == 0) {
    for (int i = 0; i < 8; i++) {
      rc = mmf_log_append(w, big, sizeof big, &seq);
      ASSERT_TRUE(is_code(rc));
      if (rc)
        break;
      rc = mmf_log_commit(w, i % 3 ? MMF_FLUSH_SYNC : MMF_FLUSH_FULL);
      ASSERT_TRUE(is_code(rc));
      if (rc)
        break;
      promised = seq + 1;
    }
    ASSERT_TRUE(is_code(mmf_log_close(w)));
  }
  rc = mmf_log_open(&w, logdir(), MMF_WRITE, &o);
  ASSERT_TRUE(is_code(rc));
  if (rc == 0) {
    ASSERT_TRUE(is_code(mmf_log_trim(w, 3)));
    ASSERT_TRUE(is_code(mmf_log_close(w)));
  }
  rc = mmf_log_open(&r, logdir(), MMF_READ, NULL);
  ASSERT_TRUE(is_code(rc));
  if (rc == 0) {
    ASSERT_TRUE(is_code(mmf_log_seek(r, 4)));
    while ((rc = mmf_log_next(r, &rec, &len, &seq, 0)) == 0)
      ASSERT_EQ_U(len, sizeof big);
    ASSERT_TRUE(is_code(rc));
    ASSERT_OK(mmf_log_close(r));
  }
  return promised;
}

#endif

TEST(every_failing_call_is_a_code_and_loses_nothing_promised) {
#ifdef _WIN32
  SKIP("fails calls through the POSIX call table");
#else
  /* For N = 1, 2, ...: the N-th system call of the scenario fails. Every
   * call must return 0 or an MMF_E* code, leak no descriptor, and every
   * record whose commit returned 0 must be found afterwards by a writer
   * and a reader working normally: 0 false successes. */
  int fds0 = count_open_fds(), n, runs = 0;
  for (n = 1; n < 2000; n++) {
    test_context("failing call %d", n);
    { /* a fresh log each time */
      char cmd[1100];
      snprintf(cmd, sizeof cmd, "rm -rf '%s'", logdir());
      ASSERT_EQ(system(cmd), 0);
    }
    inj_install(n);
    uint64_t promised = inj_scenario();
    int hit = inj_hit;
    mmf__sys = mmf__sys_real;
    ASSERT_EQ(count_open_fds(), fds0);
    runs++;
    /* Whatever was promised is there. */
    mmf_log *w = NULL, *r = NULL;
    if (promised) {
      ASSERT_OK(mmf_log_open(&w, logdir(), MMF_WRITE, NULL));
      uint64_t end = 0;
      ASSERT_OK(mmf_log_info(w, NULL, &end, NULL));
      ASSERT_GE_U(end, promised);
      ASSERT_OK(mmf_log_close(w));
      ASSERT_OK(mmf_log_open(&r, logdir(), MMF_READ, NULL));
      const void *rec;
      size_t len;
      uint64_t seq, got = 0, first = 0;
      ASSERT_OK(mmf_log_info(r, &first, NULL, NULL));
      while (mmf_log_next(r, &rec, &len, &seq, 0) == 0)
        got = seq + 1;
      ASSERT_GE_U(got, promised);
      ASSERT_OK(mmf_log_close(r));
    }
    if (!hit)
      break; /* the scenario ran out of calls: every one was failed once */
  }
  test_context_clear();
  test_note("%d runs, each failing one more call", runs);
  ASSERT_LT(n, 2000);
  ASSERT_GT(runs, 50);
#endif
}

/* ------------------------------------------------------------------------ */
/* Readers sleep                                                             */
/* ------------------------------------------------------------------------ */

TEST_CHILD(late_writer) {
  mmf_log *w = NULL;
  (void)argc;
  if (mmf_log_open(&w, argv[1], MMF_WRITE, NULL) != 0)
    return 3;
  test_sleep_ms(300);
  if (mmf_log_append(w, "late", 4, NULL) != 0 ||
      mmf_log_commit(w, MMF_FLUSH_ASYNC) != 0)
    return 4;
  /* Then enough to fill the segment, so the reader sleeps at a seal. */
  unsigned char big[30000];
  memset(big, 1, sizeof big);
  test_sleep_ms(100);
  for (int i = 0; i < 3; i++)
    if (mmf_log_append(w, big, sizeof big, NULL) != 0 ||
        mmf_log_commit(w, MMF_FLUSH_ASYNC) != 0)
      return 5;
  return mmf_log_close(w) == 0 ? 0 : 6;
}

typedef struct late_reader {
  mmf_log *r;
  _Atomic int rc;
} late_reader;

static void *read_next_within_10s(void *arg) {
  late_reader *lr = arg;
  const void *rec;
  size_t len;
  uint64_t seq;
  atomic_store(&lr->rc,
               mmf_log_next(lr->r, &rec, &len, &seq, 10000 * 1000000ll));
  return NULL;
}

/* A reader asleep at the end of a segment the writer made by rolling over
 * is woken by the writer's next commit there. On Windows both name the
 * objects of the wait after the segment file's volume serial and index:
 * the writer must see the same serial through its handle as the reader
 * (under Wine a handle opened under the temporary name reads 0 once the
 * file is renamed, and the reader slept until its timeout). */
TEST(reader_in_a_new_segment_is_woken_by_a_commit) {
  mmf_log *w = open_writer(SMALL_SEG), *r;
  unsigned char big[30000];
  memset(big, 1, sizeof big);
  for (int i = 0; i < 3; i++)
    ASSERT_OK(mmf_log_append(w, big, sizeof big, NULL));
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_ASYNC));
  r = open_reader();
  const void *rec;
  size_t len;
  uint64_t seq;
  for (uint64_t k = 0; k < 3; k++) {
    ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, 0));
    ASSERT_EQ_U(seq, k);
  }
  ASSERT_ERR(mmf_log_next(r, &rec, &len, &seq, 0), MMF_EAGAIN);
  late_reader lr = {.r = r};
  test_thread t = test_thread_start(read_next_within_10s, &lr);
  test_sleep_ms(300); /* asleep in the writer's second segment */
  const uint64_t t0 = mmf__os_now_ns();
  ASSERT_OK(mmf_log_append(w, "next", 4, NULL));
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_ASYNC));
  test_thread_join(t);
  const double ms = (double)(mmf__os_now_ns() - t0) / 1e6;
  test_note("the reader returned %s %.0f ms after the commit",
            mmf_errname(atomic_load(&lr.rc)), ms);
  ASSERT_OK(atomic_load(&lr.rc));
  ASSERT_TRUE(ms < 5000);
  ASSERT_OK(mmf_log_close(r));
  ASSERT_OK(mmf_log_close(w));
}

TEST(next_sleeps_until_a_commit_and_times_out) {
  mmf_log *w = open_writer(SMALL_SEG), *r;
  ASSERT_OK(mmf_log_close(w));
  r = open_reader();
  const void *rec;
  size_t len;
  uint64_t seq;
  /* Nothing comes: MMF_EAGAIN after the timeout, with the CPU idle. */
  clock_t c0 = clock();
  ASSERT_ERR(mmf_log_next(r, &rec, &len, &seq, 200 * 1000000ll), MMF_EAGAIN);
  double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
#ifndef _WIN32 /* clock() is wall time there */
  test_note("CPU time of a 200 ms wait: %.1f ms", cpu * 1000);
  ASSERT_TRUE(cpu < 0.1);
#else
  (void)cpu;
#endif
  /* A commit in another process wakes a reader waiting for ever, also
   * across a segment change. */
  const char *args[] = {logdir(), NULL};
  test_proc p = test_spawn("late_writer", args);
  ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, -1));
  ASSERT_EQ_U(seq, 0);
  ASSERT_MEMEQ(rec, "late", 4);
  for (uint64_t s = 1; s <= 3; s++) {
    ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, -1));
    ASSERT_EQ_U(seq, s);
    ASSERT_EQ_U(len, 30000);
  }
  ASSERT_EQ(test_wait(p), 0);
  ASSERT_OK(mmf_log_close(r));
}
