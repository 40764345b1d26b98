/*
 * udpgso: UDP throughput of datagrams written many at a time with
 * UDP_SEGMENT (what QUIC stacks do), for bench/run.sh.
 *
 *   udpgso recv ADDR PORT SECS     count what arrives; prints "GBIT BYTES"
 *                                  (Gbit/s from the first datagram to the
 *                                  last) once nothing came for 0.5 s, or
 *                                  SECS + 5 s after it started
 *   udpgso send ADDR PORT SECS SIZE COUNT
 *                                  for SECS seconds, write COUNT datagrams
 *                                  of SIZE bytes per send() (one
 *                                  super-packet); prints "GBIT" written
 *
 * The receiver turns on UDP_GRO, so that it reads many datagrams per
 * recv() and is not what limits the path. The sender writes as fast as
 * the socket takes it: what the receiver counts is what the path under
 * test carried, the rest was dropped on the way. Both are bounded in time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define QUIET_S 0.5
#define GRACE_S 5

static void die(const char *what)
{
	fprintf(stderr, "udpgso: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void addr_of(const char *host, const char *port, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
		fprintf(stderr, "udpgso: %s: not an IPv4 address\n", host);
		exit(2);
	}
}

static int do_recv(const struct sockaddr_in *a, double secs)
{
	static char buf[65536];
	int s = socket(AF_INET, SOCK_DGRAM, 0), one = 1, rcvbuf = 8 << 20;
	struct timeval tv = { 0, 100000 };
	double start = now_s(), first = 0, last = 0;
	unsigned long long bytes = 0;

	if (s < 0)
		die("socket");
	setsockopt(s, SOL_UDP, UDP_GRO, &one, sizeof(one));	/* best effort */
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(s, (const struct sockaddr *)a, sizeof(*a)) < 0)
		die("bind");
	printf("ready\n");
	fflush(stdout);
	while (now_s() - start < secs + GRACE_S) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		double t = now_s();

		if (n > 0) {
			if (!bytes)
				first = t;
			last = t;
			bytes += (unsigned long long)n;
		} else if (bytes && t - last > QUIET_S) {
			break;
		}
	}
	printf("%.3f %llu\n", last > first ? (double)bytes * 8 / (last - first) / 1e9 : 0.0, bytes);
	return 0;
}

static int do_send(const struct sockaddr_in *a, double secs, int size, int count)
{
	static char buf[65536];
	int s = socket(AF_INET, SOCK_DGRAM, 0), seg = size;
	size_t len = (size_t)size * (size_t)count;
	unsigned long long bytes = 0;
	double start;

	if (size < 1 || size > 1472 || count < 1 || len > 65000) {
		fprintf(stderr, "udpgso: SIZE 1..1472 and SIZE * COUNT <= 65000\n");
		return 2;
	}
	if (s < 0)
		die("socket");
	if (connect(s, (const struct sockaddr *)a, sizeof(*a)) < 0)
		die("connect");
	if (count > 1 && setsockopt(s, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) < 0)
		die("UDP_SEGMENT");
	memset(buf, 0x5a, len);
	start = now_s();
	while (now_s() - start < secs) {
		/* A full queue on the way (ENOBUFS) or an ICMP error
		 * (ECONNREFUSED) is the path's to report, not ours. */
		if (send(s, buf, len, 0) > 0)
			bytes += len;
	}
	printf("%.3f\n", (double)bytes * 8 / secs / 1e9);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;

	if (argc == 5 && !strcmp(argv[1], "recv")) {
		addr_of(argv[2], argv[3], &a);
		return do_recv(&a, atof(argv[4]));
	}
	if (argc == 7 && !strcmp(argv[1], "send")) {
		addr_of(argv[2], argv[3], &a);
		return do_send(&a, atof(argv[4]), atoi(argv[5]), atoi(argv[6]));
	}
	fprintf(stderr, "usage: udpgso recv ADDR PORT SECS | udpgso send ADDR PORT SECS SIZE COUNT\n");
	return 2;
}
