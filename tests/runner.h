/*
 * runner.h - how the portable test runner (runner.c) and its platform part
 * (runner_posix.c or runner_win.c; the build links one) talk to each other.
 *
 * runner.c holds what is the same everywhere: registration, the assertion
 * helpers, the test's scratch directory, ending a test, the summary and
 * main(). The platform part implements the OS helpers of test.h (files,
 * children, streams, threads, process state) and the few calls below.
 *
 * Wait statuses. Every function of test.h that reports how a process ended
 * (wait_child, run_in_child, run_crashing_child) and runner_os_run_alone()
 * use one encoding: a POSIX wait status, which the Windows part builds
 * itself (exit code in bits 8-15, or a signal number in bits 0-6, where
 * SIGSEGV stands for an access violation and SIGBUS for an in-page error).
 * Only the platform part decodes it (runner_os_decode_status).
 */
#ifndef MMF_RUNNER_H
#define MMF_RUNNER_H

#include "test.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
/* Room for test paths: the directory plus a long name (test_open makes a
 * 400-byte one) in UTF-8. */
#define TEST_PATH_MAX (PATH_MAX + 1024)

/* How long a test, or a child it waits for, may take before it is ended
 * as hung (CTest's TIMEOUT for the test programs is the same). Generous:
 * it guards against hangs and measures nothing, and on a loaded machine a
 * test that needs 30 s of CPU can take minutes. */
#define RUNNER_TIMEOUT_S 600

/* ------------------------------------------------------------------------ */
/* What runner.c offers the platform part                                    */
/* ------------------------------------------------------------------------ */

/* The child registered with TEST_CHILD(name), or NULL. */
test_child_fn runner_find_child(const char *name);

/* End the test, or the child process, with status code: flush the streams
 * and, in the test's own process, remove its scratch directory. */
__attribute__((noreturn)) void runner_end(int code);

/* ------------------------------------------------------------------------ */
/* What the platform part offers runner.c                                    */
/* ------------------------------------------------------------------------ */

/* Set the process up at the start of main() (signals, error boxes, stdout
 * buffering) and return the arguments as UTF-8 strings (Windows: from the
 * wide command line; the C runtime's argv is in the ANSI code page). */
char **runner_os_start(int *argc, char **argv);

/* Just before a test's body runs in its own process. */
void runner_os_before_test(void);

/* This process's id, for messages and for telling the test's own process
 * from its children. */
long runner_os_pid(void);

/* The separator test_path() puts between the directory and a name. */
extern const char runner_os_separator;

/* Make a new, empty scratch directory and write its path (at most n bytes
 * with the NUL) into dir; fails the test on error. */
void runner_os_make_dir(char *dir, size_t n);

/* Remove dir and everything in it, as well as it goes (a test may leave
 * read-only files or directories behind). */
void runner_os_remove_dir(const char *dir);

/* Leave a child process at once, without the exit handlers a forked copy
 * would share with its parent. */
__attribute__((noreturn)) void runner_os_exit_child(int code);

/* Run test name in a process of its own and return its wait status; the
 * process ends after RUNNER_TIMEOUT_S at the latest. POSIX forks and calls
 * run_here(name) in the copy; Windows starts this program again with the
 * test's name, whose main() runs it. */
int runner_os_run_alone(const char *name, int (*run_here)(const char *name));

/* Decode a wait status: *code is the exit status, or -1 if the process did
 * not exit; *sig the signal (or exception stand-in) that ended it, or -1. */
void runner_os_decode_status(int st, int *code, int *sig);

/* A short name for a signal number, for messages. */
const char *runner_os_signal_name(int sig);

/* End every child the test's process started and has not waited for (a
 * test that fails while a helper waits for its release would otherwise
 * leave the helper running, holding CTest's output pipe open until the
 * test's timeout). Called as the test's process ends. */
void runner_os_end_children(void);

#endif /* MMF_RUNNER_H */
