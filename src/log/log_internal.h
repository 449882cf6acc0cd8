/*
 * log_internal.h - the log's handle, its segments, and the byte format.
 *
 * docs/log.md documents the format byte by byte; the constants here are
 * that format and must not change without a new version number. Every
 * multi-byte field is little-endian, at a fixed offset, of a fixed width,
 * so 32- and 64-bit processes on any OS read the same bytes.
 */
#ifndef MMF_LOG_INTERNAL_H
#define MMF_LOG_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mmf.h"
#include "mmf_internal.h"
#include "os/os.h"

/* ---- Segment header: the first MMF__LOG_HEADER bytes of a segment ---- */

#define MMF__LOG_MAGIC "mmf-log\n" /* 8 bytes, no terminator stored */
#define MMF__LOG_VERSION 1u
#define MMF__LOG_HEADER 4096u /* frames start here */
/* Offsets in the header. Bytes [0, 64) are written once when the segment
 * is created and covered by the header CRC. */
#define MMF__LOG_H_MAGIC 0
#define MMF__LOG_H_VERSION 8
#define MMF__LOG_H_HEADER_SIZE 12
#define MMF__LOG_H_SEGMENT_SIZE 16
#define MMF__LOG_H_BASE 24 /* sequence number of the first frame */
#define MMF__LOG_H_SALT 32
/* Where the previous segment's frames end (its seal), 0 for the first
 * segment of a log: lets recovery and readers check that two segments
 * really follow each other without walking the earlier one. */
#define MMF__LOG_H_PREV_END 40
#define MMF__LOG_H_CRC 60 /* CRC-32C of bytes [0, 60) */
#define MMF__LOG_H_FIXED 64
/* Live words after the fixed part: not checksummed, never relied on after
 * a crash. */
#define MMF__LOG_H_COMMITS 64  /* bumped by every commit here: the wait word */
#define MMF__LOG_H_COMPLETE 68 /* 1: sealed and synced, recovery skips it */

/* ---- Frames: 8-byte aligned, from MMF__LOG_HEADER on ---- */

#define MMF__LOG_FRAME 24u /* header bytes of a frame */
#define MMF__LOG_F_SIZE 0  /* the commit word: whole frame bytes, 0, SEAL */
#define MMF__LOG_F_LEN 4   /* payload bytes */
#define MMF__LOG_F_SEQ 8
#define MMF__LOG_F_SALT 16
#define MMF__LOG_F_CRC 20 /* CRC-32C of bytes [0, 20) and the payload */
/* The commit word of the place after a segment's last frame once the log
 * goes on in the next segment. Frame sizes are multiples of 8, so 1 is
 * never one. */
#define MMF__LOG_SEAL 1u
/* A writer always leaves this much room after its last frame, so a seal
 * fits. */
#define MMF__LOG_TAIL 8u

#define MMF__LOG_MIN_SEGMENT ((uint64_t)64 << 10)
#define MMF__LOG_MAX_SEGMENT ((uint64_t)1 << 30)
#define MMF__LOG_DEFAULT_SEGMENT ((uint64_t)64 << 20)

/* Frame bytes for a payload of len bytes. */
static inline uint64_t mmf__log_frame_size(uint64_t len) {
  return (MMF__LOG_FRAME + len + 7) & ~(uint64_t)7;
}

/* The longest record a segment of size bytes holds. */
static inline uint64_t mmf__log_max_record(uint64_t size) {
  return size - MMF__LOG_HEADER - MMF__LOG_FRAME - MMF__LOG_TAIL;
}

/* Little-endian loads and stores, whatever the host. */
static inline uint32_t mmf__le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static inline uint64_t mmf__le64(const unsigned char *p) {
  return (uint64_t)mmf__le32(p) | (uint64_t)mmf__le32(p + 4) << 32;
}
static inline void mmf__put_le32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}
static inline void mmf__put_le64(unsigned char *p, uint64_t v) {
  mmf__put_le32(p, (uint32_t)v);
  mmf__put_le32(p + 4, (uint32_t)(v >> 32));
}

/*
 * The 32-bit words other processes watch (a frame's commit word, the
 * header's commit counter) are read and written as atomics. The format is
 * little-endian, and so is every CPU mmf runs on; a big-endian host would
 * need byte swaps here, and the build refuses one (log_frame.c).
 */
static inline _Atomic uint32_t *mmf__log_word(unsigned char *p) {
  return (_Atomic uint32_t *)(void *)p;
}

/* ---- Frame and header checks (log_frame.c) ---- */

/* What the commit word at a reader's position says. */
enum mmf__frame_state {
  MMF__FRAME_OK = 0,    /* a whole frame that passes every check */
  MMF__FRAME_EMPTY = 1, /* commit word 0: nothing committed here yet */
  MMF__FRAME_SEALED = 2 /* the seal, or no room left: next segment */
};

/*
 * Check the frame at offset off of a segment (base bytes, size bytes, salt)
 * whose commit word, already loaded by the caller, is word; it must hold
 * record seq. Returns an mmf__frame_state and, for MMF__FRAME_OK, *fsize
 * (frame bytes) and *len (payload bytes); or MMF_ECORRUPT.
 */
int mmf__log_frame_check(const unsigned char *base, uint64_t size, uint64_t off,
                         uint32_t word, uint64_t seq, uint32_t salt,
                         uint64_t *fsize, uint64_t *len);

/* Fill the 24 header bytes of a frame (commit word left 0) at p for a
 * record of len bytes at rec, and return the commit word to store at
 * commit time. */
uint32_t mmf__log_frame_fill(unsigned char *p, const void *rec, size_t len,
                             uint64_t seq, uint32_t salt);

/* A segment header's fixed part. */
typedef struct mmf__log_head {
  uint64_t segment_size;
  uint64_t base;
  uint64_t prev_end; /* offset of the previous segment's seal, or 0 */
  uint32_t salt;
  int complete; /* the live flag at MMF__LOG_H_COMPLETE (read_head only) */
} mmf__log_head;

/* Fill the 64 fixed bytes at p. */
void mmf__log_head_encode(unsigned char *p, const mmf__log_head *h);
/* Check the 64 fixed bytes at p: 0 and *h, or MMF_ECORRUPT. */
int mmf__log_head_decode(const unsigned char *p, mmf__log_head *h);

/* ---- Segment files (log_segment.c) ---- */

/* A mapped segment. */
typedef struct mmf__log_seg {
  mmf_map *map;
  unsigned char *base; /* mmf_data(map) */
  uint64_t size;       /* segment bytes */
  uint64_t first;      /* sequence number of its first frame */
  uint32_t salt;
  /* The writer's view. */
  uint64_t end;       /* append position: offset after the last frame */
  uint64_t published; /* commit words stored up to here */
  uint64_t synced;    /* bytes before this offset are durable */
  uint64_t next_seq;  /* the record after its last frame */
  int rolled;         /* a next segment exists: seal at publish */
  int seal_published;
} mmf__log_seg;

/* "<dir>/<16 hex digits of base>.seg" (malloc'd; NULL when out of memory). */
char *mmf__log_seg_path(const char *dir, uint64_t base);
/* Whether name is a segment's name; *base gets its number. */
int mmf__log_seg_name(const char *name, uint64_t *base);

/* The bases of the segment files of dir, sorted (malloc'd into *bases, *n
 * of them; NULL and 0 for none). Leftover files of an interrupted
 * segment creation are counted in *tmps (may be NULL). */
int mmf__log_list(const char *dir, uint64_t **bases, size_t *n, size_t *tmps,
                  int *oserr);
/* Remove the leftovers of interrupted segment creations. */
int mmf__log_remove_tmps(const char *dir, int *oserr);

/* Read and check the header of segment base: 0 and *h, MMF_ECORRUPT (also
 * when the file's size disagrees with the header or its name), or an OS
 * error. */
int mmf__log_seg_read_head(const char *dir, uint64_t base, mmf__log_head *h,
                           int *oserr);

/* Read the little-endian word at offset off of segment base (pread). */
int mmf__log_seg_read_word(const char *dir, uint64_t base, uint64_t off,
                           uint32_t *word, int *oserr);

/* Create segment base of size bytes (preallocated, header written, file
 * and directory entry durable) and map it for writing into *s. prev_end:
 * where the frames of the segment before it end (0 for none). */
int mmf__log_seg_create(const char *dir, uint64_t base, uint64_t size,
                        uint64_t prev_end, mmf__log_seg *s, int *oserr);

/* Open segment base (its header already checked into h) for mode
 * (MMF_READ or MMF_WRITE) into *f, checking that the file still has the
 * size the header says. */
int mmf__log_seg_open(const char *dir, uint64_t base, const mmf__log_head *h,
                      int mode, mmf__file *f, int *oserr);

/* Map segment base (its header already checked into h) for mode
 * (MMF_READ or MMF_WRITE) into *s. */
int mmf__log_seg_map(const char *dir, uint64_t base, const mmf__log_head *h,
                     int mode, mmf__log_seg *s, int *oserr);

/* Unmap *s and clear it. */
int mmf__log_seg_unmap(mmf__log_seg *s);

/* ---- The handle ---- */

struct mmf_log {
  int mode;
  char *dir;
  uint64_t segment_size;
  int os_error;
  /* Writer: the lock file, and the segments that still need a publish or
   * a sync, oldest first; segs[nsegs - 1] is the one appended to. */
  mmf__file lock;
  mmf__log_seg *segs;
  size_t nsegs, cap;
  uint64_t next_seq; /* writer: next record to append */
  int latched;       /* writer: code of the failed commit, or 0 */
  /* Reader: the segment read (cur.map is &head, NULL before the first),
   * seen through two internal maps of one open file (log_view.c). */
  mmf__log_seg cur;
  mmf_map head;  /* the header page: the commit counter readers sleep on */
  mmf_map win;   /* a window over the frames; base NULL when none */
  size_t budget; /* address space a window may take */
  uint64_t pos;  /* offset of the next frame in cur */
  uint64_t seq;  /* sequence number of the next record */
};

/* The writer's segment being appended to. */
static inline mmf__log_seg *mmf__log_tail(mmf_log *w) {
  return &w->segs[w->nsegs - 1];
}

/* Remember the OS error of a failure on log and return code. */
int mmf__log_fail(mmf_log *log, int code, int oserr);

/* Recover the log of writer w, whose lock is held (log_recover.c); leaves
 * w->segs holding the segment to append to. */
int mmf__log_recover(mmf_log *w, const mmf_log_options *o);

/* Make segment s (published and sealed) durable at level and mark it
 * complete, so recovery skips it (log_writer.c). */
int mmf__log_seg_finish(mmf_log *w, mmf__log_seg *s, int level);

/* Publish what w appended to s: store the commit words, then the seal if
 * a next segment exists, then bump the commit counter and wake readers
 * (log_writer.c). */
int mmf__log_publish(mmf_log *w, mmf__log_seg *s);

/* Add s to the writer's list (it owns the map from here on). */
int mmf__log_push(mmf_log *w, const mmf__log_seg *s);

/* Readers sleep on a segment's commit counter; commits wake them
 * (log_wait.c). */
void mmf__log_wake(mmf__log_seg *s);
int mmf__log_wait(mmf__log_seg *s, uint32_t seen, int64_t timeout_ns);

/* ---- A reader's view of its segment (log_view.c) ---- */

/* Make segment base (its header already checked into h) the one reader r
 * reads: its header page mapped, no window yet. On failure the segment
 * read so far stays. */
int mmf__log_view_open(mmf_log *r, uint64_t base, const mmf__log_head *h,
                       int *oserr);
/* Make r's window hold bytes [lo, hi) of its segment (hi <= its size). */
int mmf__log_view_reach(mmf_log *r, uint64_t lo, uint64_t hi, int *oserr);
/* Unmap r's segment, if any. */
void mmf__log_view_close(mmf_log *r);

/* A new salt for a segment: different for every segment made anywhere,
 * with overwhelming likelihood. */
uint32_t mmf__log_new_salt(uint64_t base);

#endif /* MMF_LOG_INTERNAL_H */
