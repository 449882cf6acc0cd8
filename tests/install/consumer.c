/*
 * consumer.c - a program outside the tree that uses an installed mmf.
 *
 * Built by run.sh against the installed header and library, through the
 * CMake package and through pkg-config, shared and static.
 */
#include <stdio.h>
#include <string.h>

#include <mmf.h>

int main(void) {
  mmf_map *m = NULL;
  int rc = mmf_anon(&m, 4096, 0);
  if (rc != 0) {
    fprintf(stderr, "consumer: mmf_anon: %s\n", mmf_strerror(rc));
    return 1;
  }
  unsigned char *p = mmf_data(m);
  if (p == NULL || mmf_size(m) != 4096) {
    fprintf(stderr, "consumer: unexpected map\n");
    mmf_close(m);
    return 1;
  }
  p[0] = 42;
  rc = mmf_close(m);
  if (rc != 0) {
    fprintf(stderr, "consumer: mmf_close: %s\n", mmf_strerror(rc));
    return 1;
  }
  /* The header and the library installed together must agree. */
  if (strcmp(mmf_version_string(), MMF_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer: library %s, header %s\n", mmf_version_string(),
            MMF_VERSION_STRING);
    return 1;
  }
  printf("consumer: mmf %s ok\n", mmf_version_string());
  return 0;
}
