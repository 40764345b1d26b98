/* Running a program and waiting for it, with what went wrong in one
 * line: the controller drives ip(8), nft(8) and kubectl this way. */
#ifndef CONTROLLER_RUN_H
#define CONTROLLER_RUN_H

#include <stddef.h>

/* Runs argv (NULL-terminated, argv[0] looked up in PATH), stdin from
 * /dev/null, and waits. Returns 0 when it exits 0; otherwise -errno with
 * err holding the command line and the last line it wrote (stdout and
 * stderr together: where ip, nft and kubectl say what went wrong). */
int run_argv(char *const argv[], char *err, size_t errlen);
/* The same with the arguments listed: run(err, errlen, "ip", "-n", ns, ..., NULL). */
int run(char *err, size_t errlen, ...);

#endif
