/*
 * consumer_lang.c - a program that includes mmf.h the way outside code in
 * other languages and dialects does: compiled as C99, C11 and C++11 (the
 * same file) with -Wall -Wextra -pedantic -Werror, linked against the
 * library and run by tests/consumer/run.sh. Everything here is valid in
 * all three: explicit casts from void *, no designated initializers, no
 * compound literals.
 */
#include <stdio.h>
#include <string.h>

#include <mmf.h>

/* The header's compile-time check, from outside the library, in each
 * dialect (C99's typedef, C11's _Static_assert, C++11's static_assert). */
MMF__STATIC_ASSERT(sizeof(mmf_options) >= 3 * sizeof(uint64_t),
                   consumer_sees_options);
#ifdef CONSUMER_FALSE_ASSERT
/* The negative control (run.sh): a false check must stop the compiler. */
MMF__STATIC_ASSERT(sizeof(mmf_options) == 1, consumer_false_check);
#endif

static int check(int rc, const char *what) {
  if (rc != 0)
    fprintf(stderr, "consumer: %s: %s (%s)\n", what, mmf_errname(rc),
            mmf_strerror(rc));
  return rc;
}

int main(void) {
  static const char text[] = "one\ntwo\nthree\n";
  mmf_options opts = MMF_OPTIONS_INIT;
  mmf_map *m = NULL;
  uint64_t count = 0, pos = 0;
  unsigned char back[sizeof text];
  unsigned char *data;

  if (opts.offset != 0 || opts.flags != 0u || mmf_version_string() == NULL)
    return 1;
  if (check(mmf_anon(&m, 4096, 0), "mmf_anon"))
    return 1;
  data = (unsigned char *)mmf_data(m);
  if (data == NULL || mmf_size(m) != 4096)
    return 1;
  if (check(mmf_write(m, 100, text, sizeof text - 1), "mmf_write") ||
      check(mmf_read(m, 100, back, sizeof text - 1), "mmf_read") ||
      memcmp(back, text, sizeof text - 1) != 0)
    return 1;
  if (check(mmf_count_byte(m, 0, 0, '\n', &count), "mmf_count_byte") ||
      count != 3)
    return 1;
  if (check(mmf_find_mem(data, 4096, "three", 5, &pos), "mmf_find_mem") ||
      pos != 108)
    return 1;
  if (mmf_find_mem(NULL, 1, "x", 1, &pos) != MMF_EINVAL)
    return 1;
  if (check(mmf_close(m), "mmf_close"))
    return 1;
#ifdef __cplusplus
  printf("consumer ok: C++ %ld, mmf %s\n", (long)__cplusplus,
         mmf_version_string());
#else
  printf("consumer ok: C %ld, mmf %s\n", (long)__STDC_VERSION__,
         mmf_version_string());
#endif
  return 0;
}
