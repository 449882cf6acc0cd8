/*
 * error.c - messages and names for the MMF_E* codes, and the version.
 *
 * Both tables are generated from MMF_ERRNO_MAP, so a code, its name and its
 * message cannot drift apart. Nothing here allocates.
 */
#include "mmf.h"

const char *mmf_strerror(int code) {
  if (code == 0)
    return "success";
  switch (code) {
#define MMF__ERR_TEXT(name, value, text)                                       \
  case MMF_##name:                                                             \
    return text;
    MMF_ERRNO_MAP(MMF__ERR_TEXT)
#undef MMF__ERR_TEXT
  default:
    return "unknown mmf error code";
  }
}

const char *mmf_errname(int code) {
  if (code == 0)
    return "OK";
  switch (code) {
#define MMF__ERR_NAME(name, value, text)                                       \
  case MMF_##name:                                                             \
    return "MMF_" #name;
    MMF_ERRNO_MAP(MMF__ERR_NAME)
#undef MMF__ERR_NAME
  default:
    return "MMF_E?";
  }
}

const char *mmf_version_string(void) { return MMF_VERSION_STRING; }

unsigned mmf_version_number(void) { return MMF_VERSION_NUMBER; }
