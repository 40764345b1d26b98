/*
 * rr: 1-byte TCP request/response latency, for bench/run.sh.
 *
 *   rr server ADDR PORT          echo every byte back, one connection at a time
 *   rr client ADDR PORT N [FILE] N round trips of 1 byte (after 50 warm-up ones);
 *                                prints "mean_us p50_us p99_us max_us", and
 *                                appends every round trip (µs, one a line)
 *                                to FILE if given (bench/run.sh pools runs)
 *
 * Both ends set TCP_NODELAY. The client gives up (exit 1) if a round trip
 * takes longer than 2 s or the whole run longer than 30 s, so it is always
 * bounded in time. The server exits after --max-conns (100) connections or
 * when killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 50
#define OP_TIMEOUT_S 2
#define RUN_TIMEOUT_S 30
#define MAX_CONNS 100

static void die(const char *what)
{
	fprintf(stderr, "rr: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct addrinfo *resolve(const char *host, const char *port, int passive)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | (passive ? AI_PASSIVE : 0) };
	struct addrinfo *ai;
	int rc = getaddrinfo(host, port, &hints, &ai);

	if (rc) {
		fprintf(stderr, "rr: %s:%s: %s\n", host, port, gai_strerror(rc));
		exit(2);
	}
	return ai;
}

static void nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("TCP_NODELAY");
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int serve(const char *host, const char *port)
{
	struct addrinfo *ai = resolve(host, port, 1);
	int one = 1, fd, conns;

	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("bind");
	if (listen(fd, 4) < 0)
		die("listen");
	freeaddrinfo(ai);
	for (conns = 0; conns < MAX_CONNS; conns++) {
		char buf[256];
		ssize_t n;
		int c = accept(fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		nodelay(c);
		while ((n = read(c, buf, sizeof(buf))) > 0)
			if (write(c, buf, n) != n)
				break;
		close(c);
	}
	return 0;
}

static int client(const char *host, const char *port, int n, const char *samples)
{
	struct addrinfo *ai = resolve(host, port, 0);
	struct timeval tv = { .tv_sec = OP_TIMEOUT_S };
	double *lat, sum = 0, start;
	int fd, i;

	if (n < 1 || n > 1000000) {
		fprintf(stderr, "rr: N must be 1..1000000\n");
		return 2;
	}
	lat = calloc(n, sizeof(*lat));
	if (!lat)
		die("calloc");
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect");
	freeaddrinfo(ai);
	nodelay(fd);
	start = now_us();
	for (i = -WARMUP; i < n; i++) {
		char b = 'x';
		double t0 = now_us();

		if (write(fd, &b, 1) != 1)
			die("write");
		if (read(fd, &b, 1) != 1) {
			if (errno == 0)
				errno = ECONNRESET;
			die("read");
		}
		if (i >= 0)
			lat[i] = now_us() - t0;
		if (now_us() - start > RUN_TIMEOUT_S * 1e6) {
			fprintf(stderr, "rr: run took longer than %d s\n", RUN_TIMEOUT_S);
			return 1;
		}
	}
	close(fd);
	if (samples) {
		FILE *f = fopen(samples, "a");

		if (!f)
			die(samples);
		for (i = 0; i < n; i++)
			fprintf(f, "%.1f\n", lat[i]);
		if (fclose(f))
			die(samples);
	}
	for (i = 0; i < n; i++)
		sum += lat[i];
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("%.1f %.1f %.1f %.1f\n", sum / n, lat[n / 2],
	       lat[(int)((n - 1) * 0.99)], lat[n - 1]);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server"))
		return serve(argv[2], argv[3]);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3], atoi(argv[4]), argc == 6 ? argv[5] : NULL);
	fprintf(stderr, "usage: rr server ADDR PORT | rr client ADDR PORT N [FILE]\n");
	return 2;
}
