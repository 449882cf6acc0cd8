/*
 * grow - extend a file safely through its mapping, then write into the new
 * space.
 *
 *   grow FILE                (created if missing; one line is appended)
 *   grow                     (default run: a temporary file)
 *
 * Writing past the end of a mapped file does not grow it: the pages beyond
 * end of file raise SIGBUS. mmf_resize() grows the file and the mapping
 * together, and MMF_PREALLOCATE makes it reserve the disk blocks first, so a
 * full disk is MMF_ENOSPC from mmf_resize() rather than a fault on the first
 * store. The new bytes read as zero until written.
 *
 * mmf_resize() may move the mapping: every pointer into the map is invalid
 * afterwards, so this program writes with mmf_write() at an offset instead
 * of keeping a pointer.
 */
#include "example_util.h"

static int run(const char *path) {
  /* MMF_WRITE and MMF_CREATE: make the file if missing. An empty file maps
   * fine, with size 0. */
  mmf_options opts = {0};
  opts.flags = MMF_CREATE | MMF_PREALLOCATE;
  mmf_map *m = NULL;
  int rc = mmf_open(&m, path, MMF_WRITE, &opts);
  if (rc != 0)
    return ex_fail(path, rc);

  size_t old_size = mmf_size(m);
  char line[80];
  int len = snprintf(line, sizeof line, "line added by grow at offset %zu\n",
                     old_size);
  size_t n = (size_t)len;

  /* Grow the file and the map by one line, then fill the new space. */
  rc = mmf_resize(m, (uint64_t)old_size + n);
  if (rc == 0)
    rc = mmf_write(m, old_size, line, n);
  /*
   * Make it durable: MMF_FLUSH_FULL waits for the data and the new file
   * size, and, if mmf_open created the file, also syncs its directory so
   * the file's name survives a crash too.
   */
  if (rc == 0)
    rc = mmf_flush(m, 0, 0, MMF_FLUSH_FULL);
  mmf_close(m);
  if (rc != 0)
    return ex_fail(path, rc);
  printf("grew %s from %zu to %zu bytes, wrote the new bytes, flushed with "
         "MMF_FLUSH_FULL\n",
         path, old_size, old_size + n);

  /* Check through a fresh read-only map. */
  rc = mmf_open(&m, path, MMF_READ, NULL);
  if (rc != 0)
    return ex_fail(path, rc);
  size_t new_size = mmf_size(m);
  char back[80] = "";
  if (new_size == old_size + n)
    rc = mmf_read(m, old_size, back, n - 1); /* without the '\n' */
  mmf_close(m);
  if (rc != 0)
    return ex_fail(path, rc);
  if (new_size != old_size + n) {
    fprintf(stderr, "error: %s is %zu bytes, expected %zu\n", path, new_size,
            old_size + n);
    return 1;
  }
  printf("re-read: %s is %zu bytes; its last line is \"%s\"\n", path, new_size,
         back);
  return 0;
}

int main(int argc, char **argv) {
  char tmp[1024];
  const char *path;
  int made_temp = 0;

  if (argc == 2) {
    path = argv[1];
  } else if (argc == 1) {
    static const char text[] = "the first line\n";
    if (ex_temp_file(tmp, sizeof tmp, "grow", text, sizeof text - 1))
      return 1;
    path = tmp;
    made_temp = 1;
    printf("no arguments: using a temporary one-line file %s\n", path);
  } else {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }

  int status = run(path);
  if (made_temp)
    remove(path);
  return status;
}
