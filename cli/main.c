/*
 * main.c - the mmf tool: finds the subcommand and runs it. The OS layer
 * (os_posix.c, os_win.c) owns the real entry point and calls cli_main().
 *
 *   mmf COMMAND [OPTION]... [ARG]...
 *   mmf --help | --version | help [COMMAND]
 */
#include <string.h>

#include "cli.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"lines", cmd_lines, "count lines, as wc -l"},
    {"find", cmd_find, "offsets or number of occurrences of a byte string"},
    {"dump", cmd_dump, "hex dump, as hexdump -C"},
    {"peek", cmd_peek, "print the bytes at an offset"},
    {"poke", cmd_poke, "write bytes at an offset, durably"},
    {"info", cmd_info, "size, pages, page-cache residency, 2 MiB pages"},
    {"touch", cmd_touch, "load files into the page cache, as vmtouch -t"},
    {"evict", cmd_evict, "drop files from the page cache, as vmtouch -e"},
    {"lock", cmd_lock, "lock files in memory until interrupted"},
    {"bench", cmd_bench, "time mmap and read strategies on a file"},
    {"log", cmd_log, "append to, read, follow or check a record log"},
    {"shm", cmd_shm, "list, create, remove named shared memory"},
    {"locks", cmd_locks, "who holds which byte ranges of a file"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *f) {
  size_t i;
  fputs("Usage: mmf COMMAND [OPTION]... [ARG]...\n"
        "Memory-mapped file tools that behave like the standard ones.\n"
        "\n"
        "Commands:\n",
        f);
  for (i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].summary);
  fputs("\n"
        "  mmf COMMAND --help   help for one command\n"
        "  mmf --version        version of the tool and the library\n"
        "\n"
        "Exit status: 0 success, 1 nothing found (find), 2 error.\n"
        "Environment: NO_COLOR turns colour off. See mmf(1).\n",
        f);
}

static const command *lookup(const char *name) {
  size_t i;
  for (i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

int cli_main(int argc, char **argv) {
  const command *cmd;
  if (argc < 2) {
    print_usage(stderr);
    return CLI_ERROR;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    print_usage(stdout);
    return cli_finish_output(CLI_OK);
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
    printf("mmf %s (library %s)\n", MMF_VERSION_STRING, mmf_version_string());
    return cli_finish_output(CLI_OK);
  }
  if (strcmp(argv[1], "help") == 0) {
    char help[] = "--help";
    char *args[3];
    if (argc < 3) {
      print_usage(stdout);
      return cli_finish_output(CLI_OK);
    }
    cmd = lookup(argv[2]);
    if (!cmd) {
      cli_error(NULL, "unknown command '%s'; see 'mmf --help'", argv[2]);
      return CLI_ERROR;
    }
    args[0] = argv[2];
    args[1] = help;
    args[2] = NULL;
    return cmd->run(2, args);
  }
  cmd = lookup(argv[1]);
  if (!cmd) {
    cli_error(NULL, "unknown command '%s'; see 'mmf --help'", argv[1]);
    return CLI_ERROR;
  }
  return cmd->run(argc - 1, argv + 1);
}
