/*
 * cmd_info.c - `mmf info`: size, pages, page-cache residency and whether
 * the cached pages are mapped with 2 MiB page-table entries.
 *
 * Residency is mincore() through mmf_resident(), page by page, so the
 * counts are those `fincore` prints (PAGES = resident pages).
 *
 * 2 MiB pages: Linux keeps page cache in large folios and maps a 2 MiB
 * folio with one PMD entry when the mapping's address is congruent to the
 * file offset modulo 2 MiB, which mmf guarantees. Whether that happens for
 * this file is visible only once pages are mapped: info reads one byte of
 * every 2 MiB-aligned region that is already wholly resident (no I/O, the
 * bytes are in memory; the windows are mapped MMF_RANDOM so that the fault
 * starts no read-ahead either), then reads FilePmdMapped (ShmemPmdMapped on
 * tmpfs) for its mapping in /proc/self/smaps. Elsewhere the answer is
 * "unknown".
 *
 * Windows: mmf_resident() reads this process's working set, which holds
 * none of a freshly mapped file, whatever the system cache holds; the
 * residency is then "unknown" (null in JSON), not a misleading 0.
 */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf info [OPTION]... FILE...\n"
    "Show the size of each FILE, its page size and pages, how many pages are\n"
    "resident in the page cache (the counts fincore prints), and whether\n"
    "the cached data is mapped with 2 MiB pages (Linux; read from\n"
    "FilePmdMapped in /proc/self/smaps after touching resident 2 MiB\n"
    "regions, which does no I/O).\n"
    "\n"
    "  -j, --json   one JSON object per file, one per line\n"
    "  -h, --help   show this help\n";

#define HUGE ((uint64_t)2 << 20)

typedef struct file_info {
  uint64_t size, pages, resident_pages, pmd_bytes;
  int resident_known; /* 0: the system cannot tell (Windows) */
  int pmd_known;      /* -1 unknown, 0 / 1 */
} file_info;

/* Touch one byte of each wholly resident 2 MiB region of the window m
 * (file offset off), so that its PMD mapping, if any, shows in smaps. */
static int touch_resident_huge(mmf_map *m, uint64_t off) {
  uint64_t size = mmf_size(m), r = (off + HUGE - 1) / HUGE * HUGE - off, res;
  unsigned char byte;
  int rc;
  for (; r + HUGE <= size; r += HUGE) {
    rc = mmf_resident(m, r, HUGE, &res);
    if (rc)
      return rc;
    if (res == HUGE) {
      rc = mmf_read(m, r, &byte, 1);
      if (rc)
        return rc;
    }
  }
  return 0;
}

static int measure_window(void *ctx, mmf_map *m, uint64_t off) {
  file_info *fi = ctx;
  uint64_t ps = mmf_page_size(), res, pmd;
  int rc;
  if (!fi->resident_known)
    return 0;
  rc = mmf_resident(m, 0, 0, &res);
  if (rc)
    return rc;
  fi->resident_pages += (res + ps - 1) / ps; /* only the last page can be
                                                partial */
  rc = touch_resident_huge(m, off);
  if (rc)
    return rc;
  if (mmf_size(m) > 0 && fi->pmd_known >= 0) {
    if (cli_os_pmd_mapped(mmf_data(m), (size_t)mmf_size(m), &pmd) == 0)
      fi->pmd_bytes += pmd;
    else
      fi->pmd_known = -1;
  }
  return 0;
}

static int measure(cli_file *f, file_info *fi) {
  uint64_t ps = mmf_page_size();
  int rc;
  memset(fi, 0, sizeof *fi);
  fi->size = f->size;
  fi->pages = (f->size + ps - 1) / ps;
  fi->resident_known = cli_os_resident_is_cache();
  if (!fi->resident_known)
    fi->pmd_known = -1;
  rc = cli_each_window(f, MMF_RANDOM, measure_window, fi);
  if (!rc && fi->pmd_known >= 0)
    fi->pmd_known = fi->pmd_bytes > 0;
  return rc;
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 if the
 * bytes there are not one: RFC 3629, so no overlong forms, no surrogates
 * (U+D800..U+DFFF) and nothing above U+10FFFF. */
static size_t utf8_length(const unsigned char *s) {
  size_t n, i;
  unsigned lo = 0x80, hi = 0xbf;
  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    n = 2;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    n = 3;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    n = 4;
  else
    return 0;
  /* The second byte's range rules out overlongs, surrogates and values
   * past U+10FFFF. */
  if (s[0] == 0xe0)
    lo = 0xa0;
  else if (s[0] == 0xed)
    hi = 0x9f;
  else if (s[0] == 0xf0)
    lo = 0x90;
  else if (s[0] == 0xf4)
    hi = 0x8f;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return n;
}

/*
 * A JSON string: '"' and '\\' escaped, control characters as \u00XX,
 * valid UTF-8 as it is, and each byte that is not part of valid UTF-8
 * (a file name is bytes, JSON text is Unicode) as \ufffd, the
 * replacement character, so the output is always valid JSON (mmf(1),
 * info).
 */
static void json_string(const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  putchar('"');
  while (*s) {
    size_t n = utf8_length(s);
    if (n == 0) {
      fputs("\\ufffd", stdout);
      s++;
    } else if (*s == '"' || *s == '\\') {
      printf("\\%c", *s++);
    } else if (*s < 0x20) {
      printf("\\u%04x", *s++);
    } else {
      fwrite(s, 1, n, stdout);
      s += n;
    }
  }
  putchar('"');
}

static double percent(const file_info *fi) {
  return fi->pages ? 100.0 * (double)fi->resident_pages / (double)fi->pages
                   : 0.0;
}

static void print_json(const char *name, const file_info *fi) {
  printf("{\"file\":");
  json_string(name);
  printf(",\"size\":%" PRIu64 ",\"page_size\":%zu,\"pages\":%" PRIu64, fi->size,
         mmf_page_size(), fi->pages);
  if (fi->resident_known)
    printf(",\"resident_pages\":%" PRIu64 ",\"resident_percent\":%.1f",
           fi->resident_pages, percent(fi));
  else
    printf(",\"resident_pages\":null,\"resident_percent\":null");
  if (fi->pmd_known < 0)
    printf(",\"huge_pages\":null,\"pmd_mapped_bytes\":null}\n");
  else
    printf(",\"huge_pages\":%s,\"pmd_mapped_bytes\":%" PRIu64 "}\n",
           fi->pmd_known ? "true" : "false", fi->pmd_bytes);
}

static void print_text(const char *name, const file_info *fi) {
  char h[32], r[32];
  cli_human_size(fi->size, h, sizeof h);
  printf("file:          %s\n", name);
  printf("size:          %" PRIu64 " bytes (%s)\n", fi->size, h);
  printf("page size:     %zu\n", mmf_page_size());
  printf("pages:         %" PRIu64 "\n", fi->pages);
  if (fi->resident_known)
    printf("resident:      %" PRIu64 " pages (%.1f%%)\n", fi->resident_pages,
           percent(fi));
  else
    printf("resident:      unknown\n");
  if (fi->pmd_known < 0) {
    printf("2 MiB pages:   unknown\n");
  } else if (fi->pmd_known) {
    cli_human_size(fi->pmd_bytes, r, sizeof r);
    printf("2 MiB pages:   %syes%s (%s mapped with 2 MiB entries)\n",
           cli_sgr(stdout, CLI_GREEN), cli_sgr(stdout, CLI_RESET), r);
  } else {
    printf("2 MiB pages:   no\n");
  }
}

static int info_one(const char *path, int json, int first) {
  cli_file f;
  file_info fi;
  int rc;
  if (cli_open_regular(path, 0, &f) != CLI_OK)
    return CLI_ERROR;
  rc = measure(&f, &fi);
  cli_os_close(&f);
  if (rc)
    return cli_fail(path, rc);
  if (json) {
    print_json(path, &fi);
  } else {
    if (!first)
      putchar('\n');
    print_text(path, &fi);
  }
  return CLI_OK;
}

int cmd_info(int argc, char **argv) {
  static const struct option longs[] = {{"json", no_argument, NULL, 'j'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  int c, i, json = 0, status = CLI_OK, printed = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":jh", longs, NULL)) != -1) {
    switch (c) {
    case 'j':
      json = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return cli_finish_output(CLI_OK);
    default:
      return cli_bad_option("info", c, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error("info", "missing FILE");
  for (i = optind; i < argc; i++) {
    if (info_one(argv[i], json, !printed) != CLI_OK)
      status = CLI_ERROR;
    else
      printed = 1;
  }
  return cli_finish_output(status);
}
