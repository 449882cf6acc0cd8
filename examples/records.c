/*
 * records - update fixed-size records in a file in place.
 *
 *   records FILE             (created with 4 records if missing or empty)
 *   records                  (default run: a temporary file)
 *
 * The file is an array of struct record. It is mapped MMF_WRITE (shared), so
 * stores through the pointer go to the file's pages with no read() or
 * write() calls; mmf_flush(MMF_FLUSH_SYNC) then waits until they are on
 * stable storage. A second, read-only map shows what the file now holds.
 * Run it twice on the same FILE and the balances keep growing.
 *
 * The records are in the machine's byte order: fine for a demo, but a file
 * meant to move between machines would fix the byte order.
 */
#include "example_util.h"

struct record {
  uint32_t id;     /* 1, 2, 3, ...; 0 marks a slot not yet initialised */
  uint32_t flags;  /* unused here; keeps balance 8-byte aligned */
  int64_t balance; /* in cents */
};
_Static_assert(sizeof(struct record) == 16, "records are 16 bytes on disk");

enum { NEW_FILE_RECORDS = 4 };

/* What update_records() works on; it runs under mmf_guard(). */
struct update {
  struct record *recs;
  size_t count;
  size_t created;
};

/*
 * Dereferencing mmf_data() directly is the point of a mapping, but a page
 * of it can fault (the file truncated by someone else, a disk error, a full
 * disk on first write). Running the accesses under mmf_guard() turns such a
 * fault into an error code. The function must not take locks or allocate
 * while it touches the map, since a fault abandons it mid-way.
 */
static int update_records(void *ctx) {
  struct update *u = ctx;
  for (size_t i = 0; i < u->count; i++) {
    struct record *r = &u->recs[i];
    if (r->id == 0) { /* new bytes of a grown file read as zero */
      r->id = (uint32_t)(i + 1);
      r->balance = 10000; /* 100.00 */
      u->created++;
    }
    r->balance += 250 * (int64_t)r->id; /* deposit id x 2.50 */
  }
  return 0;
}

static void print_money(int64_t cents) {
  const char *sign = cents < 0 ? "-" : "";
  uint64_t mag = cents < 0 ? 0u - (uint64_t)cents : (uint64_t)cents;
  printf("%s%llu.%02llu", sign, (unsigned long long)(mag / 100),
         (unsigned long long)(mag % 100));
}

static int run(const char *path) {
  /* MMF_WRITE maps the file shared: stores reach the file. MMF_CREATE makes
   * it (empty) if missing; an empty file maps with size 0. */
  mmf_options opts = {0};
  opts.flags = MMF_CREATE;
  mmf_map *m = NULL;
  int rc = mmf_open(&m, path, MMF_WRITE, &opts);
  if (rc != 0)
    return ex_fail(path, rc);
  if (mmf_size(m) % sizeof(struct record) != 0) {
    fprintf(stderr,
            "error: %s is %zu bytes, not a whole number of %zu-byte "
            "records\n",
            path, mmf_size(m), sizeof(struct record));
    mmf_close(m);
    return 1;
  }
  /* A new file: make room for NEW_FILE_RECORDS records. The file and the
   * map grow together and the new bytes read as zero. */
  if (mmf_size(m) == 0) {
    rc = mmf_resize(m, NEW_FILE_RECORDS * sizeof(struct record));
    if (rc != 0) {
      mmf_close(m);
      return ex_fail("mmf_resize", rc);
    }
  }

  /* mmf_data() of a map at file offset 0 is page-aligned, so it may be used
   * as an array of structs. */
  struct update u = {mmf_data(m), mmf_size(m) / sizeof(struct record), 0};
  rc = mmf_guard(m, update_records, &u);
  if (rc == 0)
    rc = mmf_flush(m, 0, 0, MMF_FLUSH_SYNC); /* whole map, durable */
  int rc_close = mmf_close(m);
  if (rc != 0 || rc_close != 0)
    return ex_fail("update", rc != 0 ? rc : rc_close);
  printf("%s: %zu records of %zu bytes (%zu new)\n", path, u.count,
         sizeof(struct record), u.created);
  printf("updated in place through the map: every balance += id x 2.50\n");
  printf("flushed with MMF_FLUSH_SYNC\n");

  /* Read the file back through a second, read-only map. */
  rc = mmf_open(&m, path, MMF_READ, NULL);
  if (rc != 0)
    return ex_fail(path, rc);
  printf("re-read through a new read-only map:\n");
  size_t count = mmf_size(m) / sizeof(struct record);
  for (size_t i = 0; i < count && rc == 0; i++) {
    if (i == 8) {
      printf("  ... %zu more\n", count - i);
      break;
    }
    struct record r;
    rc = mmf_read(m, i * sizeof r, &r, sizeof r);
    if (rc == 0) {
      printf("  id %u  balance ", (unsigned)r.id);
      print_money(r.balance);
      printf("\n");
    }
  }
  mmf_close(m);
  if (rc != 0)
    return ex_fail("mmf_read", rc);
  return 0;
}

int main(int argc, char **argv) {
  char tmp[1024];
  const char *path;
  int made_temp = 0;

  if (argc == 2) {
    path = argv[1];
  } else if (argc == 1) {
    /* An empty file, which run() sizes for NEW_FILE_RECORDS records. */
    if (ex_temp_file(tmp, sizeof tmp, "records", "", 0))
      return 1;
    path = tmp;
    made_temp = 1;
    printf("no arguments: using a temporary file %s\n", path);
  } else {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }

  int status = run(path);
  if (made_temp)
    remove(path);
  return status;
}
