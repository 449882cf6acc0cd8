/*
 * fuzz_window.c - the window cursor (mmf_window_*) over a file built from
 * the input, with a fuzzed budget, delimiter, MMF_WINDOW_RECORDS and
 * MMF_WINDOW_SPLIT_LONG, driven by a fuzzed script of next, seek and at
 * calls, against what the file holds: each span's bytes, where it starts
 * and ends (whole records, pieces of exactly the limit), the partial
 * flag, MMF_EFBIG and MMF_ERANGE where the header promises them; then a
 * walk from 0 to the end whose spans, joined, equal the file.
 *
 * Input: flags (byte: bit 0 RECORDS, bit 1 SPLIT_LONG, bit 2 repeat the
 * content), delimiter (byte), budget in granularity units (byte; 0: the
 * default), repeat count (byte), script length (byte), the script (3
 * bytes a call: what, and a u16 that places it), then the file's content.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mmf.h"

/* Several windows at the smallest budgets, and a fast fuzzer. */
#define MAX_FILE ((size_t)64 << 10)

typedef struct model {
  const uint8_t *file;
  uint64_t total;
  size_t limit, budget;
  int records, split, delim;
  uint64_t pos;  /* the cursor's position, as the model sees it */
  int in_record; /* the last span was a piece of a too-long record */
} model;

/* The record at pos: through its delimiter, or to the end. */
FUZZ_ORACLE
static uint64_t record_length(const model *md, uint64_t pos) {
  const uint8_t *p = md->file + pos;
  const uint8_t *d = memchr(p, md->delim, (size_t)(md->total - pos));
  return d ? (uint64_t)(d - p) + 1 : md->total - pos;
}

static void check_next(mmf_window *w, model *md) {
  void *ptr = (void *)1;
  size_t len = 1;
  int rc = mmf_window_next(w, &ptr, &len);
  if (md->pos == md->total) {
    FUZZ_CHECK_RC(rc, 0);
    FUZZ_CHECK(ptr == NULL && len == 0);
    return;
  }
  if (!md->records) {
    FUZZ_CHECK_RC(rc, 0);
    FUZZ_CHECK(len >= 1 && len <= md->budget && len <= md->total - md->pos);
  } else {
    uint64_t r = record_length(md, md->pos);
    if (r > md->limit && !md->split) {
      /* Too long: refused, nothing consumed, refused again. */
      FUZZ_CHECK_RC(rc, MMF_EFBIG);
      FUZZ_CHECK(ptr == NULL && len == 0);
      FUZZ_CHECK(mmf_window_tell(w) == md->pos);
      FUZZ_CHECK_RC(mmf_window_next(w, &ptr, &len), MMF_EFBIG);
      return;
    }
    FUZZ_CHECK_RC(rc, 0);
    if (r > md->limit) {
      FUZZ_CHECK(len == md->limit);
      FUZZ_CHECK(mmf_window_partial(w));
    } else if (md->in_record) {
      /* The last piece of a long record: the record's rest, alone. */
      FUZZ_CHECK(len == r);
      FUZZ_CHECK(!mmf_window_partial(w));
    } else {
      /* Whole records: at least this one, ending after a delimiter or
       * at the end. */
      uint64_t end = md->pos + len;
      FUZZ_CHECK(len >= r && len <= md->budget && end <= md->total);
      FUZZ_CHECK(end == md->total || md->file[end - 1] == md->delim);
      FUZZ_CHECK(!mmf_window_partial(w));
    }
    md->in_record = r > md->limit;
  }
  FUZZ_CHECK(memcmp(ptr, md->file + md->pos, len) == 0);
  FUZZ_CHECK(mmf_window_offset(w) == md->pos);
  md->pos += len;
  FUZZ_CHECK(mmf_window_tell(w) == md->pos);
}

static void check_seek(mmf_window *w, model *md, uint64_t to) {
  int rc = mmf_window_seek(w, to);
  if (to > md->total) {
    /* Refused; the position stays where it was. */
    FUZZ_CHECK_RC(rc, MMF_ERANGE);
    FUZZ_CHECK(mmf_window_tell(w) == md->pos);
    return;
  }
  FUZZ_CHECK_RC(rc, 0);
  FUZZ_CHECK(mmf_window_tell(w) == to);
  FUZZ_CHECK(!mmf_window_partial(w));
  md->pos = to;
  md->in_record = 0;
}

static void check_at(mmf_window *w, model *md, uint64_t off, size_t len) {
  void *ptr = (void *)1;
  int rc = mmf_window_at(w, off, len, &ptr);
  uint64_t n = len ? len : (off <= md->total ? md->total - off : 0);
  int range = off > md->total || n > md->total - off;
  int big = n > md->limit;
  if (range && big)
    FUZZ_CHECK(rc == MMF_ERANGE || rc == MMF_EFBIG);
  else if (range)
    FUZZ_CHECK_RC(rc, MMF_ERANGE);
  else if (big)
    FUZZ_CHECK_RC(rc, MMF_EFBIG);
  else
    FUZZ_CHECK_RC(rc, 0);
  if (rc != 0 || n == 0) {
    FUZZ_CHECK(ptr == NULL);
  } else {
    FUZZ_CHECK(memcmp(ptr, md->file + off, (size_t)n) == 0);
  }
  /* The position of next() does not move. */
  FUZZ_CHECK(mmf_window_tell(w) == md->pos);
}

/* From 0 to the end: the spans, joined, are the file. */
static void check_walk(mmf_window *w, model *md) {
  uint64_t joined = 0;
  check_seek(w, md, 0);
  while (md->pos < md->total) {
    uint64_t before = md->pos;
    if (md->records && !md->split && !md->in_record &&
        record_length(md, md->pos) > md->limit) {
      check_next(w, md); /* MMF_EFBIG, checked */
      return;
    }
    check_next(w, md);
    FUZZ_CHECK(md->pos > before);
    joined += md->pos - before;
  }
  check_next(w, md); /* the end */
  FUZZ_CHECK(joined == md->total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size};
  const uint8_t flags = fuzz_u8(&in);
  const uint8_t delim = fuzz_u8(&in);
  const uint8_t units = fuzz_u8(&in);
  const uint8_t repeat = fuzz_u8(&in);
  const uint8_t *script, *content;
  size_t steps = fuzz_bytes(&in, 3 * (size_t)fuzz_u8(&in), &script) / 3;
  size_t n = fuzz_bytes(&in, in.n, &content), fsize;
  mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
  mmf_window *w;
  model md;
  const uint8_t *file;
  int rc;

  /* A large file from a small input: the content repeated. */
  file = fuzz_repeat(content, n, (flags & 4) ? 1 + (size_t)repeat * 16 : 1,
                     MAX_FILE, &fsize);

  if (flags & 1) {
    o.flags |= MMF_WINDOW_RECORDS;
    o.delimiter = delim;
  }
  if (flags & 2)
    o.flags |= MMF_WINDOW_SPLIT_LONG;
  if (units)
    o.budget = (uint64_t)(2 + units % 16) * mmf_granularity();
  const char *path = fuzz_write_file("window.in", file, fsize);
  if (!path)
    return 0;
  rc = mmf_window_open(&w, path, &o);
  FUZZ_CHECK_RC(rc, 0);
  FUZZ_CHECK(mmf_window_is_mapped(w));
  FUZZ_CHECK(mmf_window_total(w) == fsize);
  memset(&md, 0, sizeof md);
  md.file = file;
  md.total = fsize;
  md.limit = mmf_window_limit(w);
  md.budget = md.limit + mmf_granularity();
  md.records = (flags & 1) != 0;
  md.split = (flags & 2) != 0;
  md.delim = delim;
  FUZZ_CHECK(!units || md.budget == o.budget);

  for (size_t i = 0; i < steps; i++) {
    const uint8_t *s = script + 3 * i;
    uint64_t where = (uint64_t)(s[1] | s[2] << 8) * (fsize + 2) / 65536;
    switch (s[0] % 4) {
    case 0:
    case 1:
      check_next(w, &md);
      break;
    case 2:
      check_seek(w, &md, where);
      break;
    default:
      /* Lengths around the limit matter most. */
      check_at(w, &md, where,
               s[0] & 4 ? (size_t)(md.limit + (s[0] >> 3) % 3) - 1
                        : (size_t)(s[0] >> 3) * 97);
      break;
    }
  }
  check_walk(w, &md);
  FUZZ_CHECK_RC(mmf_window_close(w), 0);
  return 0;
}
