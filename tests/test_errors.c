/*
 * test_errors.c - the error list, mmf_strerror, mmf_errname,
 * mmf_last_os_error and the version.
 */
#include "test.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
/* mmf_last_os_error() is GetLastError() there. Windows does not tell "a
 * path component is a file" from "a directory is missing": both are
 * ERROR_PATH_NOT_FOUND, which is MMF_ENOENT. */
#define OS_ENOENT ERROR_FILE_NOT_FOUND
#define OS_ENOTDIR ERROR_PATH_NOT_FOUND
#define MMF_NOTDIR MMF_ENOENT
#else
#define OS_ENOENT ENOENT
#define OS_ENOTDIR ENOTDIR
#define MMF_NOTDIR MMF_ENOTDIR
#endif

typedef struct code_info {
  int value;
  const char *name; /* "MMF_" #name */
  const char *text;
} code_info;

static const code_info codes[] = {
#define X(name, value, text) {value, "MMF_" #name, text},
    MMF_ERRNO_MAP(X)
#undef X
};
#define N_CODES (sizeof codes / sizeof codes[0])

TEST(error_codes_negative_in_own_block) {
  ASSERT_GE(N_CODES, 23);
  for (size_t i = 0; i < N_CODES; i++) {
    /* Away from negated errno values (which stop well above -3000). */
    ASSERT_LE(codes[i].value, -3001);
    ASSERT_GE(codes[i].value, -3999);
  }
  /* The enum carries the list's values. */
  ASSERT_EQ(MMF_EINVAL, -3001);
  ASSERT_EQ(MMF_EUNKNOWN, -3099);
}

TEST(error_codes_distinct) {
  for (size_t i = 0; i < N_CODES; i++)
    for (size_t j = i + 1; j < N_CODES; j++) {
      if (codes[i].value == codes[j].value)
        FAIL("%s and %s share value %d", codes[i].name, codes[j].name,
             codes[i].value);
      if (strcmp(mmf_errname(codes[i].value), mmf_errname(codes[j].value)) == 0)
        FAIL("%s and %s share a name", codes[i].name, codes[j].name);
      if (strcmp(mmf_strerror(codes[i].value), mmf_strerror(codes[j].value)) ==
          0)
        FAIL("%s and %s share a message", codes[i].name, codes[j].name);
    }
}

TEST(error_names_and_messages_match_list) {
  for (size_t i = 0; i < N_CODES; i++) {
    ASSERT_STREQ(mmf_errname(codes[i].value), codes[i].name);
    ASSERT_STREQ(mmf_strerror(codes[i].value), codes[i].text);
    ASSERT_TRUE(strlen(codes[i].text) > 0);
    ASSERT_TRUE(
        strcmp(mmf_strerror(codes[i].value), "unknown mmf error code") != 0);
    ASSERT_TRUE(test_is_mmf_error(codes[i].value));
  }
}

TEST(error_required_codes_exist) {
  /* The codes DESIGN.md promises; referencing them is the check. */
  static const int required[] = {
      MMF_EINVAL,     MMF_ENOENT,    MMF_EACCES,  MMF_EISDIR,  MMF_ENODEV,
      MMF_ERANGE,     MMF_EOVERFLOW, MMF_ENOMEM,  MMF_ENOSPC,  MMF_EFBIG,
      MMF_EIO,        MMF_EBUSY,     MMF_EAGAIN,  MMF_ENOTSUP, MMF_EROFS,
      MMF_ETRUNCATED, MMF_EPOISONED, MMF_EUNKNOWN};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
    ASSERT_LT(required[i], 0);
    ASSERT_TRUE(strncmp(mmf_errname(required[i]), "MMF_E", 5) == 0);
    ASSERT_TRUE(strcmp(mmf_errname(required[i]), "MMF_E?") != 0);
  }
}

/* The codes of sharing between processes keep their values: programs
 * compiled against one version compare them with another's. */
TEST(error_sharing_codes_stable) {
  ASSERT_EQ(MMF_ETIMEDOUT, -3023);
  ASSERT_EQ(MMF_EOWNERDEAD, -3024);
  ASSERT_EQ(MMF_ENOTRECOVERABLE, -3025);
  ASSERT_EQ(MMF_EPERM, -3026);
  ASSERT_EQ(MMF_EDEADLK, -3027);
}

TEST(error_zero_is_success) {
  ASSERT_STREQ(mmf_strerror(0), "success");
  ASSERT_STREQ(mmf_errname(0), "OK");
}

TEST(error_unknown_codes_fixed_text) {
  static const int unknown[] = {1,       -1,      -2,      -3000,
                                -3050,   -3098,   -3100,   -4000,
                                INT_MIN, INT_MAX, -EINVAL, -ENOENT};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    const char *s = mmf_strerror(unknown[i]);
    const char *n = mmf_errname(unknown[i]);
    ASSERT_STREQ(s, "unknown mmf error code");
    ASSERT_STREQ(n, "MMF_E?");
    /* Static text: the same pointer every time, nothing allocated. */
    ASSERT_EQ_PTR(mmf_strerror(unknown[i]), s);
    ASSERT_EQ_PTR(mmf_errname(unknown[i]), n);
  }
}

TEST(error_strings_static) {
  for (size_t i = 0; i < N_CODES; i++) {
    ASSERT_EQ_PTR(mmf_strerror(codes[i].value), mmf_strerror(codes[i].value));
    ASSERT_EQ_PTR(mmf_errname(codes[i].value), mmf_errname(codes[i].value));
  }
}

TEST(version_matches_macros) {
  char buf[64];
  snprintf(buf, sizeof buf, "%d.%d.%d", MMF_VERSION_MAJOR, MMF_VERSION_MINOR,
           MMF_VERSION_PATCH);
  ASSERT_STREQ(MMF_VERSION_STRING, buf);
  ASSERT_STREQ(mmf_version_string(), MMF_VERSION_STRING);
  ASSERT_EQ(mmf_version_number(), MMF_VERSION_NUMBER);
  ASSERT_EQ(MMF_VERSION_NUMBER, MMF_VERSION_MAJOR * 10000 +
                                    MMF_VERSION_MINOR * 100 +
                                    MMF_VERSION_PATCH);
}

TEST(last_os_error_after_failed_open) {
  mmf_map *m = NULL;
  ASSERT_ERR(mmf_open(&m, test_path("missing"), MMF_READ, NULL), MMF_ENOENT);
  ASSERT_EQ(mmf_last_os_error(NULL), OS_ENOENT);
  /* An argument check has no OS error. */
  ASSERT_ERR(mmf_open(&m, NULL, MMF_READ, NULL), MMF_EINVAL);
  ASSERT_EQ(mmf_last_os_error(NULL), 0);
}

TEST(last_os_error_of_fresh_handle_is_zero) {
  write_pattern(test_path("f"), 100);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  ASSERT_EQ(mmf_last_os_error(m), 0);
  /* An argument check on the handle has no OS error either. */
  ASSERT_ERR(mmf_flush(m, 0, 0, 99), MMF_EINVAL);
  ASSERT_EQ(mmf_last_os_error(m), 0);
  ASSERT_OK(mmf_close(m));
}

static void *fail_in_thread(void *arg) {
  mmf_map *m = NULL;
  int *got = arg;
  got[0] = mmf_open(&m, test_path("missing-in-thread"), MMF_READ, NULL);
  got[1] = mmf_last_os_error(NULL);
  return NULL;
}

TEST(last_os_error_is_per_thread) {
  mmf_map *m = NULL;
  write_file(test_path("file"), "x", 1);
  ASSERT_ERR(mmf_open(&m, test_path("file/sub"), MMF_READ, NULL), MMF_NOTDIR);
  ASSERT_EQ(mmf_last_os_error(NULL), OS_ENOTDIR);
  int got[2] = {0, 0};
  test_thread_join(test_thread_start(fail_in_thread, got));
  ASSERT_ERR(got[0], MMF_ENOENT);
  ASSERT_EQ(got[1], OS_ENOENT);
  /* This thread's value is untouched by the other thread's failure. */
  ASSERT_EQ(mmf_last_os_error(NULL), OS_ENOTDIR);
}
