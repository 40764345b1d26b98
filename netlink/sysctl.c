/* sysctls through /proc/sys, remembering what was there before. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netlink/nl.h"
#include "netlink/internal.h"

enum {
	/* Every sysctl we touch is a number or a short word. */
	SYSCTL_VALUE_MAX = 256,
};

static int sysctl_read(int fd, char *buf, size_t len)
{
	ssize_t n;

	do
		n = pread(fd, buf, len - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	/* The kernel ends the value with a newline the caller never wants. */
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int sysctl_set(const char *path, const char *value, char *old, size_t oldlen)
{
	char file[256], cur[SYSCTL_VALUE_MAX];
	size_t len = strlen(value);
	ssize_t n;
	int fd, err;

	/* The path comes from our own code, but a ".." would still leave
	 * /proc/sys, and nothing legitimate needs one. */
	if (path[0] == '/' || strstr(path, "..") ||
	    (size_t)snprintf(file, sizeof(file), "/proc/sys/%s", path) >=
		    sizeof(file))
		return nl__fail(-EINVAL, "sysctl %s: bad path", path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nl__fail(-errno, "sysctl %s: opening %s", path, file);
	err = sysctl_read(fd, cur, sizeof(cur));
	close(fd);
	if (err < 0)
		return nl__fail(err, "sysctl %s: reading the old value", path);
	if (old && oldlen) {
		if (strlen(cur) >= oldlen)
			return nl__fail(-ENOSPC, "sysctl %s: old value \"%s\" does not fit",
					path, cur);
		memcpy(old, cur, strlen(cur) + 1);
	}
	/* A value already in place needs no write, and so no write access:
	 * containers often mount /proc/sys read-only. */
	if (strcmp(cur, value) == 0)
		return 0;
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nl__fail(-errno, "sysctl %s: opening %s for writing (was \"%s\")",
				path, file, cur);
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	if (err < 0)
		return nl__fail(err, "sysctl %s: writing \"%s\" (was \"%s\")",
				path, value, cur);
	return 0;
}
