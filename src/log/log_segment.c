/*
 * log_segment.c - segment files: names, listing, creation, mapping.
 *
 * A segment is named after the sequence number of its first record, in 16
 * lowercase hex digits, so names sort like numbers and a reader finds the
 * next segment from the next sequence number alone. Other files in the
 * directory are none of the log's business and are left alone.
 *
 * Creation never exposes a half-made segment: the file is made under a
 * temporary name, sized, preallocated, given its header and synced, then
 * renamed into place and its directory synced. A crash leaves either no
 * segment or a whole one (and perhaps a temporary file, which the next
 * writer removes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "log/log_internal.h"
#include "mmf_internal.h"

#define SEG_SUFFIX ".seg"
#define TMP_SUFFIX ".seg.tmp"
#define HEX_DIGITS 16

static char *join(const char *dir, uint64_t base, const char *suffix) {
  size_t n = strlen(dir) + 1 + HEX_DIGITS + strlen(suffix) + 1;
  char *p = mmf__alloc.malloc(n);
  if (p)
    snprintf(p, n, "%s/%016llx%s", dir, (unsigned long long)base, suffix);
  return p;
}

char *mmf__log_seg_path(const char *dir, uint64_t base) {
  return join(dir, base, SEG_SUFFIX);
}

/* Parse 16 lowercase hex digits followed by suffix. */
static int parse(const char *name, const char *suffix, uint64_t *base) {
  uint64_t v = 0;
  int i;
  for (i = 0; i < HEX_DIGITS; i++) {
    char c = name[i];
    if (c >= '0' && c <= '9')
      v = v << 4 | (uint64_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v = v << 4 | (uint64_t)(c - 'a' + 10);
    else
      return 0;
  }
  if (strcmp(name + HEX_DIGITS, suffix) != 0)
    return 0;
  *base = v;
  return 1;
}

int mmf__log_seg_name(const char *name, uint64_t *base) {
  return parse(name, SEG_SUFFIX, base);
}

typedef struct listing {
  uint64_t *bases;
  size_t n, cap, tmps;
} listing;

static int collect(void *ctx, const char *name) {
  listing *l = ctx;
  uint64_t base;
  if (parse(name, TMP_SUFFIX, &base)) {
    l->tmps++;
    return 0;
  }
  if (!mmf__log_seg_name(name, &base))
    return 0;
  if (l->n == l->cap) {
    uint64_t *b = mmf__grow(l->bases, &l->cap, sizeof *b, 16);
    if (!b)
      return MMF_ENOMEM;
    l->bases = b;
  }
  l->bases[l->n++] = base;
  return 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int mmf__log_list(const char *dir, uint64_t **bases, size_t *n, size_t *tmps,
                  int *oserr) {
  listing l = {NULL, 0, 0, 0};
  int rc = mmf__os_list_dir(dir, collect, &l, oserr);
  *bases = NULL;
  *n = 0;
  if (tmps)
    *tmps = 0;
  if (rc) {
    mmf__alloc.free(l.bases);
    return rc;
  }
  if (l.n)
    qsort(l.bases, l.n, sizeof *l.bases, cmp_u64);
  *bases = l.bases;
  *n = l.n;
  if (tmps)
    *tmps = l.tmps;
  return 0;
}

typedef struct tmp_sweep {
  const char *dir;
  int rc, oserr;
} tmp_sweep;

static int remove_tmp(void *ctx, const char *name) {
  tmp_sweep *t = ctx;
  uint64_t base;
  char *path;
  if (!parse(name, TMP_SUFFIX, &base))
    return 0;
  path = join(t->dir, base, TMP_SUFFIX);
  if (!path)
    return MMF_ENOMEM;
  if (!t->rc)
    t->rc = mmf__os_remove(path, &t->oserr);
  mmf__alloc.free(path);
  return 0;
}

int mmf__log_remove_tmps(const char *dir, int *oserr) {
  tmp_sweep t = {dir, 0, 0};
  int rc = mmf__os_list_dir(dir, remove_tmp, &t, oserr);
  if (!rc && t.rc) {
    rc = t.rc;
    if (oserr)
      *oserr = t.oserr;
  }
  return rc;
}

/* Read n bytes at off of segment base (all of them, or MMF_ECORRUPT for a
 * file that ends sooner); *fsize gets the file's size. */
static int read_seg(const char *dir, uint64_t base, uint64_t off, void *buf,
                    size_t n, uint64_t *fsize, int *oserr) {
  char *path = mmf__log_seg_path(dir, base);
  mmf__file f;
  size_t got = 0;
  int rc, created, kind;
  *fsize = 0;
  if (!path)
    return MMF_ENOMEM;
  rc = mmf__os_open(path, 0, &f, &created, oserr);
  mmf__alloc.free(path);
  if (rc)
    return rc;
  rc = mmf__os_stat(f, &kind, fsize, oserr);
  if (!rc)
    rc = mmf__os_read(f, (int64_t)off, buf, n, &got, oserr);
  mmf__os_close(&f);
  if (!rc && got != n)
    rc = MMF_ECORRUPT;
  return rc;
}

int mmf__log_seg_read_head(const char *dir, uint64_t base, mmf__log_head *h,
                           int *oserr) {
  unsigned char buf[MMF__LOG_H_COMPLETE + 4];
  uint64_t fsize;
  int rc = read_seg(dir, base, 0, buf, sizeof buf, &fsize, oserr);
  memset(h, 0, sizeof *h);
  if (rc)
    return rc;
  if (mmf__log_head_decode(buf, h) != 0 || h->base != base ||
      fsize != h->segment_size) {
    memset(h, 0, sizeof *h);
    return MMF_ECORRUPT;
  }
  h->complete = mmf__le32(buf + MMF__LOG_H_COMPLETE) == 1;
  return 0;
}

int mmf__log_seg_read_word(const char *dir, uint64_t base, uint64_t off,
                           uint32_t *word, int *oserr) {
  unsigned char b[4];
  uint64_t fsize;
  int rc = read_seg(dir, base, off, b, sizeof b, &fsize, oserr);
  *word = rc ? 0 : mmf__le32(b);
  return rc;
}

/* Map the open segment file f for mode into *s. The map owns f. */
static int map_seg(mmf__file f, int mode, const mmf__log_head *h,
                   mmf__log_seg *s, int *oserr) {
  mmf_options o = MMF_OPTIONS_INIT;
  mmf_map *m;
  int rc;
  memset(s, 0, sizeof *s);
  o.length = h->segment_size;
  rc = mmf__map_file(&m, f, mode, &o, NULL);
  if (rc) {
    if (oserr)
      *oserr = mmf_last_os_error(NULL);
    return rc;
  }
  s->map = m;
  s->base = mmf_data(m);
  s->size = h->segment_size;
  s->first = h->base;
  s->salt = h->salt;
  s->end = s->published = s->synced = MMF__LOG_HEADER;
  s->next_seq = h->base;
  return 0;
}

int mmf__log_seg_open(const char *dir, uint64_t base, const mmf__log_head *h,
                      int mode, mmf__file *f, int *oserr) {
  char *path = mmf__log_seg_path(dir, base);
  uint64_t fsize;
  int rc, created, kind;
  f->h = MMF__NO_FILE;
  if (!path)
    return MMF_ENOMEM;
  rc = mmf__os_open(path, mode == MMF_WRITE ? MMF__OPEN_WRITE : 0, f, &created,
                    oserr);
  mmf__alloc.free(path);
  if (rc)
    return rc;
  /* A segment cut short since its header was read would fault. */
  rc = mmf__os_stat(*f, &kind, &fsize, oserr);
  if (!rc && fsize != h->segment_size)
    rc = MMF_ECORRUPT;
  if (rc)
    mmf__os_close(f);
  return rc;
}

int mmf__log_seg_map(const char *dir, uint64_t base, const mmf__log_head *h,
                     int mode, mmf__log_seg *s, int *oserr) {
  mmf__file f;
  int rc;
  memset(s, 0, sizeof *s);
  rc = mmf__log_seg_open(dir, base, h, mode, &f, oserr);
  return rc ? rc : map_seg(f, mode, h, s, oserr);
}

int mmf__log_seg_unmap(mmf__log_seg *s) {
  int rc = mmf_close(s->map);
  memset(s, 0, sizeof *s);
  return rc;
}

/* Make the temporary file of a new segment: sized, preallocated, with its
 * header, synced. Closes f on failure. */
static int make_tmp(mmf__file *f, const mmf__log_head *h, int *oserr) {
  unsigned char head[MMF__LOG_H_FIXED];
  int rc;
  mmf__log_head_encode(head, h);
  rc = mmf__os_set_size(*f, h->segment_size, oserr);
  /* Allocate every block now: a full disk is this error, not a SIGBUS at
   * the first append into an unallocated page. */
  if (!rc)
    rc = mmf__os_preallocate(*f, 0, h->segment_size, oserr);
  if (!rc)
    rc = mmf__os_write(*f, 0, head, sizeof head, oserr);
  if (!rc)
    rc = mmf__os_sync_data(*f, oserr);
  return rc;
}

int mmf__log_seg_create(const char *dir, uint64_t base, uint64_t size,
                        uint64_t prev_end, mmf__log_seg *s, int *oserr) {
  mmf__log_head h;
  char *tmp = join(dir, base, TMP_SUFFIX), *path = mmf__log_seg_path(dir, base);
  mmf__file f = {MMF__NO_FILE};
  int rc, created;
  memset(s, 0, sizeof *s);
  if (!tmp || !path) {
    rc = MMF_ENOMEM;
    goto out;
  }
  h.segment_size = size;
  h.base = base;
  h.prev_end = prev_end;
  h.salt = mmf__log_new_salt(base);
  /* A leftover of this name from a failed attempt holds old bytes. */
  (void)mmf__os_remove(tmp, NULL);
  rc = mmf__os_open(tmp,
                    MMF__OPEN_WRITE | MMF__OPEN_CREATE | MMF__OPEN_EXCLUSIVE,
                    &f, &created, oserr);
  if (rc)
    goto out;
  rc = make_tmp(&f, &h, oserr);
  if (!rc)
    rc = mmf__os_rename(tmp, path, oserr);
  if (rc) {
    mmf__os_close(&f);
    (void)mmf__os_remove(tmp, NULL);
    goto out;
  }
  /* The new name must be durable before any record in it is promised. */
  rc = mmf__os_sync_dir(dir, oserr);
  mmf__os_close(&f);
  /* Mapped through a handle opened by the segment's own name, as readers
   * do: the handle that made it under the temporary name can say less
   * about the file once it is renamed (Wine reports its volume serial as
   * 0), and the Windows wait objects readers sleep on are named after the
   * volume serial and file index; a writer naming them differently would
   * never wake a reader asleep in this segment. */
  if (!rc)
    rc = mmf__log_seg_map(dir, base, &h, MMF_WRITE, s, oserr);
  if (rc)
    (void)mmf__os_remove(path, NULL);
out:
  mmf__alloc.free(tmp);
  mmf__alloc.free(path);
  return rc;
}
