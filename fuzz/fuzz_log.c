/*
 * fuzz_log.c - libFuzzer target for the log's frame checks and recovery.
 *
 * The input becomes one or two segment files of a log in a scratch
 * directory; then a writer opens the log (recovery), a reader reads it
 * through, the writer appends and commits one record, and a new reader
 * must find that record at the end. Nothing may crash, hang or leak,
 * and every record a reader returns must be the one its frame holds.
 *
 * Input layout: byte 0 holds mode bits, the rest is segment bytes.
 *   bit 0  write a valid segment header (base 0) over the first bytes, so
 *          the frames behind it are reached
 *   bit 1  recompute the CRC of every frame that is otherwise well formed,
 *          so the checks past the CRC (sequence numbers, seals, segment
 *          changes) are reached too
 *   bit 2  split the bytes into two segments
 * Segments are 64 KiB; shorter inputs are padded with zeros.
 *
 * Build with clang -fsanitize=fuzzer,address (plus the library sources);
 * fuzz/replay.c runs the committed corpus (fuzz/corpus/log) in CTest.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/crc32c.h"
#include "log/log_internal.h"
#include "mmf.h"

#define SEG (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256];

static void scratch(void) {
  const char *t = getenv("TMPDIR");
  if (dir[0])
    return;
  snprintf(dir, sizeof dir, "%s/mmf-fuzz-log-XXXXXX", t && *t ? t : "/tmp");
  if (!mkdtemp(dir))
    abort();
}

/* Empty the scratch directory: an input's log must not meet the segments
 * the last one left (recovery and appends create files). */
static void clear_dir(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[512];
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  if (d)
    closedir(d);
}

/* Recompute the CRCs of the frames that are well formed but for it;
 * returns where the frames end. */
static uint64_t fix_crcs(unsigned char *seg, uint64_t base, uint32_t salt) {
  uint64_t off = MMF__LOG_HEADER, seq = base;
  while (off + MMF__LOG_TAIL <= SEG) {
    unsigned char *p = seg + off;
    uint32_t word = mmf__le32(p), len = mmf__le32(p + MMF__LOG_F_LEN);
    if (word == 0 || word == MMF__LOG_SEAL || (word & 7) ||
        word < MMF__LOG_FRAME || word > SEG - off - MMF__LOG_TAIL ||
        mmf__log_frame_size(len) != word)
      return off;
    mmf__put_le64(p + MMF__LOG_F_SEQ, seq);
    mmf__put_le32(p + MMF__LOG_F_SALT, salt);
    uint32_t crc = mmf__crc32c(0, p, MMF__LOG_F_CRC);
    mmf__put_le32(p + MMF__LOG_F_CRC,
                  mmf__crc32c(crc, p + MMF__LOG_FRAME, len));
    off += word;
    seq++;
  }
  return off;
}

/* Write segment base; returns where its frames end (0 when unknown), for
 * the next segment's header. */
static uint64_t put_segment(const unsigned char *bytes, size_t n, uint64_t base,
                            uint64_t prev_end, unsigned mode) {
  static unsigned char seg[SEG];
  char p[512];
  FILE *f;
  uint64_t end = 0;
  memset(seg, 0, sizeof seg);
  memcpy(seg, bytes, n < SEG ? n : SEG);
  if (mode & 1) {
    mmf__log_head h = {SEG, base, prev_end, 0x5eed0000u ^ (uint32_t)base, 0};
    mmf__log_head_encode(seg, &h);
    if (mode & 2)
      end = fix_crcs(seg, base, h.salt);
  }
  snprintf(p, sizeof p, "%s/%016llx.seg", dir, (unsigned long long)base);
  f = fopen(p, "wb");
  if (!f || fwrite(seg, 1, sizeof seg, f) != sizeof seg)
    abort();
  fclose(f);
  return end;
}

/* Read the log through; returns the last record's sequence number + 1 and
 * its bytes (when it ended cleanly). */
static int read_all(uint64_t *end, const void **last, size_t *last_len,
                    unsigned char *copy) {
  mmf_log *r;
  const void *rec;
  size_t len;
  uint64_t seq, expect = 0;
  int rc = mmf_log_open(&r, dir, MMF_READ, NULL), first = 1;
  *last = NULL;
  *last_len = 0;
  if (rc)
    return rc;
  while ((rc = mmf_log_next(r, &rec, &len, &seq, 0)) == 0) {
    if (!first && seq != expect)
      abort(); /* records come in order, without gaps */
    first = 0;
    expect = seq + 1;
    if (len > SEG)
      abort();
    *last_len = len < 64 ? len : 64;
    memcpy(copy, rec, *last_len);
    *last = copy;
  }
  *end = expect;
  mmf_log_close(r);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned mode;
  mmf_log *w;
  unsigned char copy[64];
  const void *last;
  size_t last_len;
  uint64_t end = 0, next = 0;
  if (size < 1)
    return 0;
  scratch();
  clear_dir();
  mode = data[0];
  data++;
  size--;
  /* Any input can be split: a threshold of half a segment would need
   * inputs longer than make fuzz lets the fuzzer write (-max_len). */
  if ((mode & 4) && size >= 2) {
    uint64_t seal = put_segment(data, size / 2, 0, 0, mode);
    put_segment(data + size / 2, size - size / 2, 0x100, seal, mode);
  } else {
    put_segment(data, size, 0, 0, mode);
  }
  (void)read_all(&end, &last, &last_len, copy);
  if (mmf_log_open(&w, dir, MMF_WRITE, NULL) != 0)
    return 0; /* refused: damage recovery cannot cut */
  if (mmf_log_info(w, NULL, &next, NULL) != 0 ||
      mmf_log_append(w, "fuzz", 4, NULL) != 0 ||
      mmf_log_commit(w, MMF_FLUSH_ASYNC) != 0) {
    mmf_log_close(w);
    return 0;
  }
  mmf_log_close(w);
  /* A reader that gets to the end finds the new record there. */
  if (read_all(&end, &last, &last_len, copy) == MMF_EAGAIN &&
      (end != next + 1 || last_len != 4 || memcmp(last, "fuzz", 4) != 0)) {
    if (getenv("MMF_FUZZ_KEEP"))
      return fprintf(stderr, "next %llu end %llu dir %s\n",
                     (unsigned long long)next, (unsigned long long)end, dir),
             0;
    abort();
  }
  return 0;
}
