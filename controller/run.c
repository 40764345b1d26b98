/* See run.h. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controller/run.h"

extern char **environ;

int run_argv(char *const argv[], char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	char tmpl[] = "/tmp/shootctl.XXXXXX", out[4096] = "", cmd[256] = "", *line;
	int fd = mkostemp(tmpl, O_CLOEXEC), st = 0, r;
	off_t size;
	ssize_t got;
	pid_t pid;

	if (fd < 0) {
		snprintf(err, errlen, "mkstemp: %s", strerror(errno));
		return -errno;
	}
	unlink(tmpl);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	/* the command line, shortened: the error is one line */
	for (size_t i = 0; argv[i] && strlen(cmd) < 120; i++) {
		size_t used = strlen(cmd);

		snprintf(cmd + used, sizeof(cmd) - used, "%s%s", i ? " " : "", argv[i]);
	}
	if (strlen(cmd) >= 120)
		strcpy(cmd + 117, "...");
	if (r) {
		close(fd);
		snprintf(err, errlen, "%s: %s", cmd, strerror(r));
		return -r;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno == EINTR)
			continue;
		r = -errno;
		close(fd);
		snprintf(err, errlen, "%s: waitpid: %s", cmd, strerror(-r));
		return r;
	}
	if (WIFEXITED(st) && !WEXITSTATUS(st)) {
		close(fd);
		return 0;
	}
	size = lseek(fd, 0, SEEK_END);
	got = pread(fd, out, sizeof(out) - 1, size > (off_t)sizeof(out) - 1 ? size - (off_t)sizeof(out) + 1 : 0);
	out[got > 0 ? got : 0] = 0;
	close(fd);
	while ((line = strrchr(out, '\n')) && !line[1])
		*line = 0;	/* trailing newlines */
	line = strrchr(out, '\n') ? strrchr(out, '\n') + 1 : out;
	if (WIFSIGNALED(st))
		snprintf(err, errlen, "%s: killed by signal %d", cmd, WTERMSIG(st));
	else
		snprintf(err, errlen, "%s: %s", cmd, *line ? line : "failed");
	return -EIO;
}

/* run(err, errlen, "ip", "-n", ns, ..., NULL) */
int run(char *err, size_t errlen, ...)
{
	char *argv[40];
	size_t n = 0;
	va_list ap;

	va_start(ap, errlen);
	while (n < sizeof(argv) / sizeof(argv[0]) - 1 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return run_argv(argv, err, errlen);
}

