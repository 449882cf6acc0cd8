/*
 * source_direct.c - the direct engine: a file's range read around the
 * page cache in large aligned pieces (source.h).
 *
 * Why. A cold file read through the cache comes in at the pace of the
 * kernel's readahead and is copied twice (device to cache, cache to the
 * reader, or faulted in page by page when mapped); on the project's
 * virtual disk such reads (mmap, read(), wc, cat) varied tenfold between
 * identical runs. Read around the cache, 4 MiB at a time on two threads,
 * `mmf lines` took half of fio's time for its 32-deep O_DIRECT reads of
 * the same evicted 2 GiB file (docs/BENCHMARKS.md, "Threads"). Several
 * reads are in flight when a scan is split over threads: each thread
 * reads its pieces this way, one 4 MiB read at a time, so N threads keep
 * N reads in flight, and no thread is started that the caller did not
 * ask for.
 *
 * Alignment. Uncached reads must start at aligned file offsets, land at
 * aligned addresses and ask for aligned lengths. The buffer is an
 * anonymous map; reads land at buf + room, room being the aligned space
 * in front for the bytes a caller keeps. A range that starts unaligned
 * is read from the aligned offset below it; one that ends unaligned
 * asks for the aligned length above its end (the read stops at the
 * file's end with a short count). Where a read comes back short before
 * the end wanted, the rest of the piece is read through the cache (the
 * offset is no longer aligned); where the file system refuses an
 * uncached read (EINVAL), the rest of the range is.
 */
#include <string.h>

#include "source.h"

/* Each read: 4 MiB (8 MiB reads on two threads were slower here). */
#define DIRECT_CHUNK ((size_t)4 << 20)
/* The most a caller may keep for this engine to be chosen. */
#define DIRECT_KEEP_MAX ((size_t)1 << 20)

int mmf__src_open_direct(mmf__src *s, const char *path) {
  int oserr = 0;
  /* Any refusal (the OS, the file system, no descriptor left) is no
   * error: the range is read through the cache instead. */
  if (!s->borrowed && s->uncached.h == MMF__NO_FILE &&
      s->keep_max <= DIRECT_KEEP_MAX && mmf__os_size_is_exact(s->file))
    (void)mmf__os_open_uncached(path, s->file, &s->uncached, &s->align, &oserr);
  if (s->uncached.h == MMF__NO_FILE) {
    s->io = MMF_SCAN_READ;
    return MMF_ENOTSUP;
  }
  s->engine = &mmf__direct_engine;
  s->io = MMF_SCAN_DIRECT;
  return 0;
}

/* Room for the kept bytes and the largest read of the range from the
 * aligned offset pos on: DIRECT_CHUNK, or less for a short range. A
 * range of a few KiB (a piece of a split scan, a small file read with
 * MMF_SCAN_DIRECT) took a buffer of 4 MiB, whose first touch faulted in
 * and cleared a whole 2 MiB huge page. */
static int take_buffer(mmf__src *s, uint64_t pos) {
  mmf__src_direct *d = &s->dr;
  size_t a = s->align, room = (s->keep_max + a - 1) / a * a;
  uint64_t left = s->at.end - pos;
  size_t chunk = left < DIRECT_CHUNK ? (size_t)left : DIRECT_CHUNK;
  void *p;
  int oserr = 0, rc;
  chunk = (chunk + a - 1) / a * a;
  /* Huge pages where the kernel gives them: the reads pin the buffer's
   * pages, two of them instead of a thousand. */
  rc = mmf__os_map_anon(room + chunk, 0, MMF_HUGE, &p, &oserr);
  if (rc)
    return mmf__src_fail(s, rc, oserr);
  d->buf = p;
  d->len = room + chunk;
  d->room = room;
  return 0;
}

/* Read [pos, pos + want) into buf + room; *have is what came before the
 * file's end. */
static int read_piece(mmf__src *s, uint64_t pos, size_t want, size_t *have) {
  mmf__src_direct *d = &s->dr;
  unsigned char *to = d->buf + d->room;
  size_t got;
  int oserr = 0, rc, direct;
  *have = 0;
  while (*have < want) {
    direct = !d->cached && *have % s->align == 0;
    rc = mmf__os_read(direct ? s->uncached : s->file, (int64_t)(pos + *have),
                      to + *have, want - *have, &got, &oserr);
    if (rc == MMF_EINVAL && direct) {
      d->cached = 1; /* refused uncached: through the cache from here */
      continue;
    }
    if (rc)
      return mmf__src_fail(s, rc, oserr);
    if (got == 0)
      break;
    *have += got;
  }
  return 0;
}

static int direct_next(mmf__src *s, size_t keep, mmf__span *sp) {
  mmf__src_direct *d = &s->dr;
  mmf__src_at *at = &s->at;
  const uint64_t from = at->next - keep;
  const unsigned char *kept = keep ? s->cur.p + s->cur.n - keep : NULL;
  uint64_t pos, left;
  size_t skip, copy, want, have;
  int rc;
  if (at->ended || at->next >= at->end) {
    at->ended = 1; /* nothing new: the kept bytes */
    mmf__span_set(sp, kept, keep, from, keep, 1);
    return 0;
  }
  /* The read starts at the aligned offset at or below at.next, so the
   * skip bytes before at.next come again; kept bytes before those go in
   * front, into the room. Later reads start further on, so the first
   * one's length bounds theirs. */
  pos = at->next - at->next % s->align;
  if (!d->buf) {
    rc = take_buffer(s, pos);
    if (rc)
      return rc;
  }
  skip = (size_t)(at->next - pos);
  copy = keep > skip ? keep - skip : 0;
  if (copy)
    memmove(d->buf + d->room - copy, kept, copy);
  left = at->end - pos;
  want = left < DIRECT_CHUNK ? (size_t)left : DIRECT_CHUNK;
  want = (want + s->align - 1) / s->align * s->align;
  rc = read_piece(s, pos, want, &have);
  if (rc)
    return rc;
  if (have < want && have < left)
    return mmf__src_fail(s, MMF_ETRUNCATED, 0); /* cut since the size */
  at->next = pos + (have < left ? have : left);
  at->ended = at->next == at->end;
  mmf__span_set(sp, d->buf + d->room + skip - keep, (size_t)(at->next - from),
                from, keep, at->ended);
  return 0;
}

/* A buffer needs no guard: fn simply runs. */
static int direct_guard(mmf__src *s, int (*fn)(void *ctx), void *ctx) {
  (void)s;
  return fn(ctx);
}

static int direct_close(mmf__src *s) {
  mmf__src_direct *d = &s->dr;
  int oserr = 0, rc = 0;
  if (d->buf)
    rc = mmf__os_unmap(d->buf, d->len, &oserr);
  d->buf = NULL;
  return rc;
}

const mmf__engine mmf__direct_engine = {direct_next, direct_guard,
                                        direct_close};
