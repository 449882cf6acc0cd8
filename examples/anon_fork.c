/*
 * anon_fork - share anonymous memory between a parent and a child process.
 *
 *   anon_fork                (takes no arguments)
 *
 * mmf_anon(..., MMF_SHARED) maps zero-filled memory that stays shared across
 * fork(): what the child writes, the parent reads, with no file and no
 * pipe. For contrast, the same run without MMF_SHARED shows that private
 * anonymous memory is copied on fork: the child writes into its own copy and
 * the parent still sees zeros.
 *
 * fork() is POSIX; on Windows the program says "skipped" and exits 0 (use
 * named shared memory there).
 */
#ifdef _WIN32

#include <stdio.h>

int main(void) {
  printf("anon_fork: skipped: fork() does not exist on Windows\n");
  return 0;
}

#else /* POSIX */

/* fork(), waitpid() and getpid() are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include "example_util.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Map memory with flags, let a child write into it, print what the parent
 * sees there afterwards. Returns 0 and sets *seen_message, or 1 after
 * printing why. */
static int share_with_child(unsigned flags, bool *seen_message) {
  *seen_message = false;
  mmf_map *m = NULL;
  int rc = mmf_anon(&m, mmf_page_size(), flags);
  if (rc != 0)
    return ex_fail("mmf_anon", rc);

  fflush(stdout); /* or the child would print our buffered output again */
  pid_t pid = fork();
  if (pid < 0) {
    perror("error: fork");
    mmf_close(m);
    return 1;
  }
  if (pid == 0) {
    /* Child: write a message into the map and leave at once. _exit() skips
     * the parent's atexit handlers and stdio buffers, which are not ours. */
    char msg[64];
    int len = snprintf(msg, sizeof msg, "hello from child %ld", (long)getpid());
    rc = mmf_write(m, 0, msg, (size_t)len + 1);
    printf("  child wrote:  \"%s\"\n", msg);
    fflush(stdout);
    _exit(rc == 0 ? 0 : 1);
  }

  /* Parent: wait for the child, then look at the same memory. */
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    fprintf(stderr, "error: the child process failed\n");
    mmf_close(m);
    return 1;
  }
  char buf[64] = "";
  rc = mmf_read(m, 0, buf, sizeof buf - 1);
  mmf_close(m);
  if (rc != 0)
    return ex_fail("mmf_read", rc);
  if (buf[0] != '\0') {
    printf("  parent sees:  \"%s\"\n", buf);
    *seen_message = true;
  } else {
    printf("  parent sees:  only zeros (the child wrote to its own copy)\n");
  }
  return 0;
}

int main(int argc, char **argv) {
  (void)argv;
  if (argc != 1) {
    fprintf(stderr, "usage: anon_fork (no arguments)\n");
    return 2;
  }

  bool seen = false;
  printf("anonymous memory with MMF_SHARED (%zu bytes):\n", mmf_page_size());
  if (share_with_child(MMF_SHARED, &seen) != 0)
    return 1;
  if (!seen) {
    fprintf(stderr, "error: the parent did not see the child's write\n");
    return 1;
  }

  printf("private anonymous memory (no MMF_SHARED), for contrast:\n");
  if (share_with_child(0, &seen) != 0)
    return 1;
  if (seen) {
    fprintf(stderr, "error: a private map leaked the child's write\n");
    return 1;
  }
  printf("MMF_SHARED memory is shared across fork(); private memory is "
         "not\n");
  return 0;
}

#endif /* POSIX */
