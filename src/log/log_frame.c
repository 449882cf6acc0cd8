/*
 * log_frame.c - the byte format of frames and segment headers: encoding,
 * and the checks every reader of the bytes applies (recovery, readers,
 * `mmf log check`, the fuzz target).
 *
 * A check never trusts a field before it has been bounded: the commit
 * word is checked against the room left in the segment before the payload
 * length is read, the payload length against the commit word before the
 * CRC runs over it. Garbage gives MMF_ECORRUPT, never an access outside
 * the segment.
 */
#include <string.h>
#include <time.h>

#include "log/crc32c.h"
#include "log/log_internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error                                                                         \
    "the log's commit words are little-endian atomics: big-endian hosts are not supported"
#endif

int mmf__log_frame_check(const unsigned char *base, uint64_t size, uint64_t off,
                         uint32_t word, uint64_t seq, uint32_t salt,
                         uint64_t *fsize, uint64_t *len) {
  const unsigned char *p = base + off;
  unsigned char head[MMF__LOG_F_CRC];
  uint64_t room = size - off, n;
  uint32_t crc;
  *fsize = 0;
  *len = 0;
  if (room < MMF__LOG_TAIL || word == MMF__LOG_SEAL)
    return MMF__FRAME_SEALED;
  if (word == 0)
    return MMF__FRAME_EMPTY;
  /* A writer leaves room for a seal after every frame. */
  if ((word & 7u) || word < MMF__LOG_FRAME || word > room - MMF__LOG_TAIL)
    return MMF_ECORRUPT;
  n = mmf__le32(p + MMF__LOG_F_LEN);
  if (mmf__log_frame_size(n) != word || mmf__le64(p + MMF__LOG_F_SEQ) != seq ||
      mmf__le32(p + MMF__LOG_F_SALT) != salt)
    return MMF_ECORRUPT;
  /* The CRC covers the commit word and the header fields after it, then
   * the payload. The word is the one the caller loaded (with acquire
   * ordering, which is what makes the rest of the frame visible), not a
   * second read of it. */
  memcpy(head, p, sizeof head);
  mmf__put_le32(head + MMF__LOG_F_SIZE, word);
  crc = mmf__crc32c(0, head, sizeof head);
  crc = mmf__crc32c(crc, p + MMF__LOG_FRAME, (size_t)n);
  if (crc != mmf__le32(p + MMF__LOG_F_CRC))
    return MMF_ECORRUPT;
  *fsize = word;
  *len = n;
  return MMF__FRAME_OK;
}

uint32_t mmf__log_frame_fill(unsigned char *p, const void *rec, size_t len,
                             uint64_t seq, uint32_t salt) {
  uint32_t word = (uint32_t)mmf__log_frame_size(len), crc;
  /* The CRC is computed as if the commit word were already stored; it is
   * stored last, at commit. */
  mmf__put_le32(p + MMF__LOG_F_SIZE, word);
  mmf__put_le32(p + MMF__LOG_F_LEN, (uint32_t)len);
  mmf__put_le64(p + MMF__LOG_F_SEQ, seq);
  mmf__put_le32(p + MMF__LOG_F_SALT, salt);
  crc = mmf__crc32c(0, p, MMF__LOG_F_CRC);
  if (len)
    crc = mmf__crc32c(crc, rec, len);
  mmf__put_le32(p + MMF__LOG_F_CRC, crc);
  mmf__put_le32(p + MMF__LOG_F_SIZE, 0);
  return word;
}

void mmf__log_head_encode(unsigned char *p, const mmf__log_head *h) {
  memset(p, 0, MMF__LOG_H_FIXED);
  memcpy(p + MMF__LOG_H_MAGIC, MMF__LOG_MAGIC, 8);
  mmf__put_le32(p + MMF__LOG_H_VERSION, MMF__LOG_VERSION);
  mmf__put_le32(p + MMF__LOG_H_HEADER_SIZE, MMF__LOG_HEADER);
  mmf__put_le64(p + MMF__LOG_H_SEGMENT_SIZE, h->segment_size);
  mmf__put_le64(p + MMF__LOG_H_BASE, h->base);
  mmf__put_le32(p + MMF__LOG_H_SALT, h->salt);
  mmf__put_le64(p + MMF__LOG_H_PREV_END, h->prev_end);
  mmf__put_le32(p + MMF__LOG_H_CRC, mmf__crc32c(0, p, MMF__LOG_H_CRC));
}

int mmf__log_head_decode(const unsigned char *p, mmf__log_head *h) {
  uint64_t size = mmf__le64(p + MMF__LOG_H_SEGMENT_SIZE);
  memset(h, 0, sizeof *h);
  if (memcmp(p + MMF__LOG_H_MAGIC, MMF__LOG_MAGIC, 8) != 0 ||
      mmf__le32(p + MMF__LOG_H_CRC) != mmf__crc32c(0, p, MMF__LOG_H_CRC) ||
      mmf__le32(p + MMF__LOG_H_VERSION) != MMF__LOG_VERSION ||
      mmf__le32(p + MMF__LOG_H_HEADER_SIZE) != MMF__LOG_HEADER ||
      size < MMF__LOG_MIN_SEGMENT || size > MMF__LOG_MAX_SEGMENT ||
      size % 4096u)
    return MMF_ECORRUPT;
  h->segment_size = size;
  h->base = mmf__le64(p + MMF__LOG_H_BASE);
  h->salt = mmf__le32(p + MMF__LOG_H_SALT);
  h->prev_end = mmf__le64(p + MMF__LOG_H_PREV_END);
  if (h->prev_end >= size)
    return MMF_ECORRUPT;
  return 0;
}

/* splitmix64's finaliser: spreads every input bit over the output. */
static uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

uint32_t mmf__log_new_salt(uint64_t base) {
  static atomic_uint counter;
  int local;
  uint64_t x = (uint64_t)time(NULL);
  x = mix(x ^ (uint64_t)clock());
  /* The stack address differs between processes where the OS randomises
   * it; the counter between segments of one process. */
  x = mix(x ^ (uint64_t)(uintptr_t)&local);
  x = mix(x ^ base ^ ((uint64_t)atomic_fetch_add(&counter, 1) << 32));
  return (uint32_t)(x ^ (x >> 32));
}
