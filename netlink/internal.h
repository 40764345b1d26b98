/* Private to netlink/: the error reporting that nl.c, nft.c and sysctl.c
 * share, so every public function leaves its explanation in the same
 * nl_strerror() buffer. */
#ifndef NETLINK_INTERNAL_H
#define NETLINK_INTERNAL_H

#include <linux/netlink.h>

struct nl;
struct mnl_socket;

/* Formats "<what>: <strerror(-err)>" (plus the kernel's extended ack
 * message, if the last nl__ack() carried one) into nl_strerror()'s buffer
 * and returns err, so callers can write "return nl__fail(err, ...)". */
int nl__fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The error of an NLMSG_ERROR message (0 for a plain ack). A kernel
 * message attached with NETLINK_EXT_ACK is kept for the next nl__fail(). */
int nl__ack(const struct nlmsghdr *nlh);

/* nl's NETLINK_NETFILTER socket, bound, opened on the first call and
 * closed by nl_close(). */
int nl__nft_sock(struct nl *nl, struct mnl_socket **out);

#endif
