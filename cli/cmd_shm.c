/*
 * cmd_shm.c - `mmf shm`: list, create, remove and describe named shared
 * memory regions (mmf_shm_open).
 *
 * POSIX regions live until removed, so a crashed program leaves them
 * behind in /dev/shm, using memory: `mmf shm list` finds them and `mmf
 * shm rm` removes them. A Windows region lives only while some process
 * maps it, so `create` there means nothing unless the tool holds it
 * (--hold), and Windows has no list of them to show.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf shm list\n"
    "   or: mmf shm create [-x] [--hold] NAME SIZE\n"
    "   or: mmf shm rm NAME...\n"
    "   or: mmf shm info NAME...\n"
    "Named shared memory regions, as programs open them with mmf_shm_open.\n"
    "\n"
    "  list     the regions that exist: SIZE and NAME, one per line, by\n"
    "           name (Linux: the files of /dev/shm whose names mmf accepts)\n"
    "  create   create region NAME of SIZE bytes, zero-filled; an existing\n"
    "           region is left as it is\n"
    "    -x, --exclusive  fail if NAME exists\n"
    "    --hold           keep the region mapped until interrupted: a\n"
    "                     Windows region ends with its last map, so without\n"
    "                     it the region ends when mmf exits\n"
    "  rm       remove the names (POSIX: the memory is freed once no\n"
    "           process maps the region; Windows: only checks they exist)\n"
    "  info     name, size and the bytes resident in memory\n"
    "  -h, --help   show this help\n"
    "\n"
    "Names: 1 to 200 of A-Z a-z 0-9 . _ - (not . or ..). SIZE: decimal, 0x\n"
    "hex or 0 octal, with an optional K, M, G... suffix.\n";

#define SHM_DIR "/dev/shm"
/* What a name mmf_shm_open accepts is made of (see mmf.h). */
#define NAME_CHARS                                                             \
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

typedef struct name_list {
  char **names;
  size_t n, cap;
} name_list;

static int collect(const char *name, void *ctx) {
  name_list *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    char **p = realloc(l->names, cap * sizeof *p);
    if (!p)
      return ENOMEM;
    l->names = p;
    l->cap = cap;
  }
  l->names[l->n] = malloc(strlen(name) + 1);
  if (!l->names[l->n])
    return ENOMEM;
  strcpy(l->names[l->n++], name);
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list(void) {
  name_list l = {NULL, 0, 0};
  char path[sizeof SHM_DIR + 256];
  uint64_t size;
  int kind, e, rc = CLI_OK;
  size_t i;
  e = cli_os_list_dir(SHM_DIR, collect, &l);
  if (e == ENOTSUP || e == ENOENT) {
    cli_error("shm",
              "this system has no list of shared memory regions (" SHM_DIR
              " is Linux's)");
    return CLI_ERROR;
  }
  if (e)
    return cli_fail_os(SHM_DIR, e);
  /* An empty directory leaves names NULL, which qsort must not get. */
  if (l.n > 1)
    qsort(l.names, l.n, sizeof *l.names, by_name);
  for (i = 0; i < l.n; i++) {
    /* Only what mmf_shm_open could open: other programs' entries (sem.*
     * semaphores are regions too, but named otherwise) are left out. */
    if (strspn(l.names[i], NAME_CHARS) == strlen(l.names[i]) &&
        strlen(l.names[i]) <= 200) {
      snprintf(path, sizeof path, SHM_DIR "/%s", l.names[i]);
      if (cli_os_stat(path, &kind, &size) == 0 && kind == CLI_KIND_REGULAR &&
          strncmp(l.names[i], "sem.", 4) != 0)
        printf("%12" PRIu64 "  %s\n", size, l.names[i]);
    }
    free(l.names[i]);
  }
  free(l.names);
  return cli_finish_output(rc);
}

static int create(const char *name, const char *size_text, int exclusive,
                  int hold) {
  uint64_t size;
  mmf_map *m = NULL;
  int rc;
  if (cli_get_size("shm", "size", size_text, CLI_MAX_OFFSET, &size))
    return CLI_ERROR;
  if (size == 0)
    return cli_usage_error("shm", "a region needs a size above 0");
  rc = mmf_shm_open(
      &m, name, MMF_WRITE,
      &(mmf_options){.size = size,
                     .flags = MMF_CREATE | (exclusive ? MMF_EXCLUSIVE : 0u)});
  if (rc)
    return cli_fail(name, rc);
  printf("%s: %zu bytes\n", name, mmf_size(m));
  if (hold) {
    printf("holding it until %s\n", cli_os_interrupts);
    fflush(stdout);
    (void)cli_os_wait_for_signal();
  }
  mmf_close(m);
  return cli_finish_output(CLI_OK);
}

static int info(const char *name) {
  mmf_map *m = NULL;
  uint64_t resident = 0;
  int rc = mmf_shm_open(&m, name, MMF_READ, NULL);
  if (rc)
    return cli_fail(name, rc);
  rc = mmf_resident(m, 0, 0, &resident);
  printf("name:      %s\n", mmf_shm_name(m));
  printf("size:      %zu bytes\n", mmf_size(m));
  if (rc == 0)
    printf("resident:  %" PRIu64 " bytes\n", resident);
  mmf_close(m);
  return rc ? cli_fail(name, rc) : CLI_OK;
}

int cmd_shm(int argc, char **argv) {
  static const struct option longs[] = {{"exclusive", no_argument, NULL, 'x'},
                                        {"hold", no_argument, NULL, 'H'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  int c, exclusive = 0, hold = 0, status = CLI_OK;
  const char *what;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":xh", longs, NULL)) != -1) {
    switch (c) {
    case 'x':
      exclusive = 1;
      break;
    case 'H':
      hold = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return cli_finish_output(CLI_OK);
    default:
      return cli_bad_option("shm", c, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error("shm", "missing list, create, rm or info");
  what = argv[optind++];
  if ((exclusive || hold) && strcmp(what, "create") != 0)
    return cli_usage_error("shm", "-x and --hold go with create");
  if (strcmp(what, "list") == 0) {
    if (optind != argc)
      return cli_usage_error("shm", "list takes no arguments");
    return list();
  }
  if (strcmp(what, "create") == 0) {
    if (argc - optind != 2)
      return cli_usage_error("shm", "create takes NAME and SIZE");
    return create(argv[optind], argv[optind + 1], exclusive, hold);
  }
  if (strcmp(what, "rm") == 0 || strcmp(what, "info") == 0) {
    if (optind == argc)
      return cli_usage_error("shm", "%s needs a NAME", what);
    for (; optind < argc; optind++) {
      int rc = what[0] == 'r' ? mmf_shm_unlink(argv[optind]) : 0;
      if (rc)
        status = cli_fail(argv[optind], rc);
      else if (what[0] == 'i' && info(argv[optind]) != CLI_OK)
        status = CLI_ERROR;
    }
    return cli_finish_output(status);
  }
  return cli_usage_error("shm", "unknown action '%s'", what);
}
