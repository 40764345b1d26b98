/* vpnctl: sends one command to a daemon's stats socket and prints the
 * answer. Exit status: 0 on an answer, 1 if the daemon answered with an
 * error, 2 if the socket cannot be reached (the message says which path
 * and why). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const default_paths[] = {
	"/run/vpn-server/stats.sock", "/run/vpn-shoot/stats.sock",
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vpnctl [-s PATH] [-j] COMMAND...\n"
		   "  -s PATH   stats socket (default %s, else %s)\n"
		   "  -j        ask for the JSON answer\n"
		   "  COMMAND   e.g. show tunnels, show info, show stat, help\n",
		default_paths[0], default_paths[1]);
}

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	char cmd[4096] = "", buf[65536];
	size_t have = 0;
	bool json = false;
	int ch, fd;

	while ((ch = getopt(argc, argv, "+s:jh")) != -1) {
		switch (ch) {
		case 's': path = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		if (strlen(cmd) + strlen(argv[i]) + 8 > sizeof(cmd) || strpbrk(argv[i], ";\n")) {
			fprintf(stderr, "vpnctl: one command per call, without ';' or newlines\n");
			return 2;
		}
		if (i > optind)
			strcat(cmd, " ");
		strcat(cmd, argv[i]);
	}
	if (json)
		strcat(cmd, " json");
	strcat(cmd, "\n");

	if (path) {
		fd = dial(path);
	} else {
		path = default_paths[0];
		if ((fd = dial(path)) < 0 && errno == ENOENT)
			fd = dial(path = default_paths[1]);
	}
	if (fd < 0) {
		fprintf(stderr, "vpnctl: cannot reach %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		fprintf(stderr, "vpnctl: %s: write: %s\n", path, strerror(errno));
		return 2;
	}
	/* The answer ends with an empty line ("\n\n"; a bare "\n" if empty). */
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0) {
			fprintf(stderr, "vpnctl: %s: connection closed before the answer ended\n", path);
			return 2;
		}
		have += (size_t)n;
		buf[have] = '\0';
		if ((have >= 2 && !strcmp(buf + have - 2, "\n\n")) || !strcmp(buf, "\n"))
			break;
		if (have == sizeof(buf) - 1) {
			fwrite(buf, 1, have, stdout);
			have = 0;
		}
	}
	close(fd);
	buf[have - 1] = '\0';	/* drop the terminating empty line */
	fputs(buf, stdout);
	return strncmp(buf, "error: ", 7) ? 0 : 1;
}
