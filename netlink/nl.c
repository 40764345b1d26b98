/* rtnetlink over one libmnl socket, and the TUN device.
 *
 * Requests go out one at a time with NLM_F_ACK and their answer is read
 * before the next one is sent, so every reply we care about carries the
 * last sequence number; anything else (leftovers of an abandoned dump) is
 * skipped. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "netlink/nl.h"
#include "netlink/internal.h"

/* Linux 6.2's UDP segmentation offload for TUN; the build's headers may
 * be older than the kernel it runs on. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

enum {
	/* The kernel sizes dump messages after the largest read it has seen,
	 * up to 32 KiB, and truncates what a smaller buffer cannot hold. */
	NL_RECV_SIZE = 32768,
	NL_REQ_SIZE = 1024,
	/* Route dumps that raced with a change are retried this often. */
	NL_DUMP_TRIES = 3,
	/* nl_rule_add deletes at most this many stale copies of its rule
	 * (kernels before 4.x accepted duplicates). */
	NL_RULE_STALE_MAX = 16,
};

struct nl {
	struct mnl_socket *sock;
	struct mnl_socket *nft;	/* NETLINK_NETFILTER, opened on first use */
	uint32_t portid;
	uint32_t seq;
	_Alignas(8) char req[NL_REQ_SIZE];
	_Alignas(8) char buf[NL_RECV_SIZE];
};

typedef int (*nl_cb)(const struct nlmsghdr *nlh, void *data);

/* ---- errors ---- */

static __thread char nl_errbuf[320];
static __thread char nl_extack[160];

const char *nl_strerror(void)
{
	return nl_errbuf;
}

int nl__fail(int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(nl_errbuf, sizeof(nl_errbuf), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(nl_errbuf))
		snprintf(nl_errbuf + n, sizeof(nl_errbuf) - n, ": %s%s%s%s",
			 strerror(err < 0 ? -err : err),
			 nl_extack[0] ? " (kernel: " : "", nl_extack,
			 nl_extack[0] ? ")" : "");
	nl_extack[0] = '\0';
	return err;
}

int nl__ack(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t off = sizeof(*e);

	nl_extack[0] = '\0';
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	if (e->error == 0 || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return e->error;
	/* The TLVs follow the echoed request, which NETLINK_CAP_ACK cuts
	 * down to its header. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(e->msg))
			return e->error;
		off += e->msg.nlmsg_len - sizeof(e->msg);
	}
	if (MNL_ALIGN(off) >= mnl_nlmsg_get_payload_len(nlh))
		return e->error;
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			snprintf(nl_extack, sizeof(nl_extack), "%s",
				 mnl_attr_get_str(a));
	}
	return e->error;
}

/* ---- formatting for messages ---- */

static const char *nl_ifname(int ifindex, char buf[IF_NAMESIZE])
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "ifindex %d", ifindex);
	return buf;
}

static const char *nl_cidr_str(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "(family %d)", c->family);
	snprintf(buf, len, "%s/%u", a, c->prefix);
	return buf;
}

static int nl_cidr_check(const struct cidr *c)
{
	if (c->family == AF_INET)
		return c->prefix <= 32 ? 0 : -EINVAL;
	if (c->family == AF_INET6)
		return c->prefix <= 128 ? 0 : -EINVAL;
	return -EAFNOSUPPORT;
}

static size_t nl_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* ---- socket ---- */

int nl_open(struct nl **out)
{
	struct nl *nl;
	int one = 1, err;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return nl__fail(-ENOMEM, "allocating the netlink handle");
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		err = nl__fail(-errno, "opening the rtnetlink socket");
		goto free;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = nl__fail(-errno, "binding the rtnetlink socket");
		goto close;
	}
	/* Best effort: the kernel's reason for a refusal makes better
	 * messages, and capped acks keep our requests out of the replies. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)getpid() << 16;
	*out = nl;
	return 0;

close:
	mnl_socket_close(nl->sock);
free:
	free(nl);
	return err;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->nft)
		mnl_socket_close(nl->nft);
	mnl_socket_close(nl->sock);
	free(nl);
}

/* The nftables socket lives as long as the handle: closing it makes the
 * kernel (NETLINK_URELEASE in nf_tables) wait until the release of the
 * last committed batch is done, an RCU grace period, which took 6-15 ms
 * right after our table's batch (the agent's start waited for it). At
 * nl_close() that wait no longer holds anything up. */
int nl__nft_sock(struct nl *nl, struct mnl_socket **out)
{
	struct mnl_socket *sock;
	int one = 1, err;

	if (nl->nft) {
		*out = nl->nft;
		return 0;
	}
	sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!sock)
		return nl__fail(-errno, "opening the nftables netlink socket");
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = nl__fail(-errno, "binding the nftables netlink socket");
		mnl_socket_close(sock);
		return err;
	}
	mnl_socket_setsockopt(sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(sock, NETLINK_CAP_ACK, &one, sizeof(one));
	*out = nl->nft = sock;
	return 0;
}

static struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(nl->req, 0, sizeof(nl->req));
	nlh = mnl_nlmsg_put_header(nl->req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

/* Sends the request in nl->req and reads its answer: each data message
 * goes to cb (if any); the ack, or NLMSG_DONE for a dump, ends it.
 * Returns 0, the kernel's -errno, cb's first negative return (the rest of
 * the dump is drained), or -EINTR for a dump the kernel marked as
 * inconsistent because the table changed under it. */
static int nl_talk(struct nl *nl, nl_cb cb, void *data)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)nl->req;
	bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	bool intr = false;
	int cberr = 0;
	uint32_t seq;

	nl_extack[0] = '\0';
	if (!dump)
		nlh->nlmsg_flags |= NLM_F_ACK;
	seq = nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf,
						sizeof(nl->buf));
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != nl->portid)
				continue;
			switch (nlh->nlmsg_type) {
			case NLMSG_NOOP:
			case NLMSG_OVERRUN:
				continue;
			case NLMSG_ERROR: {
				int err = nl__ack(nlh);

				return err ? err : cberr;
			}
			case NLMSG_DONE: {
				/* A dump that failed half-way says so here. */
				const int *err = mnl_nlmsg_get_payload(nlh);

				if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*err) &&
				    *err < 0)
					return *err;
				if (cberr)
					return cberr;
				return intr ? -EINTR : 0;
			}
			}
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			if (cb && !cberr) {
				int err = cb(nlh, data);

				if (err < 0)
					cberr = err;
			}
		}
	}
}

/* ---- links ---- */

struct nl_link {
	int index;
	char name[IF_NAMESIZE];
	bool tun;		/* kind "tun": a TUN or TAP device */
	bool persist;
	uint32_t queues;	/* fds attached */
};

static void nl_link_info(const struct nlattr *info, struct nl_link *l)
{
	const struct nlattr *a, *d;

	mnl_attr_for_each_nested(a, info) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_INFO_KIND:
			l->tun = mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
				 strcmp(mnl_attr_get_str(a), "tun") == 0;
			break;
		case IFLA_INFO_DATA:
			mnl_attr_for_each_nested(d, a) {
				if (mnl_attr_get_type(d) == IFLA_TUN_PERSIST &&
				    mnl_attr_validate(d, MNL_TYPE_U8) == 0)
					l->persist = mnl_attr_get_u8(d);
				if (mnl_attr_get_type(d) == IFLA_TUN_NUM_QUEUES &&
				    mnl_attr_validate(d, MNL_TYPE_U32) == 0)
					l->queues = mnl_attr_get_u32(d);
			}
			break;
		}
	}
}

static int nl_link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nl_link *l = data;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return 0;
	l->index = ifi->ifi_index;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				snprintf(l->name, sizeof(l->name), "%s",
					 mnl_attr_get_str(a));
			break;
		case IFLA_LINKINFO:
			nl_link_info(a, l);
			break;
		}
	}
	return 0;
}

/* Looks a link up by name, or by index if name is NULL. */
static int nl_link_get(struct nl *nl, const char *name, int ifindex,
		       struct nl_link *l)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	memset(l, 0, sizeof(*l));
	ifi->ifi_family = AF_UNSPEC;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	else
		ifi->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_talk(nl, nl_link_cb, l);
}

static int nl_name_check(const char *name)
{
	return name && name[0] && strlen(name) < IF_NAMESIZE ? 0 : -EINVAL;
}

int nl_link_index(struct nl *nl, const char *name, int *ifindex)
{
	struct nl_link l;
	int err;

	if (nl_name_check(name) < 0)
		return nl__fail(-EINVAL, "looking up link \"%s\"",
				name ? name : "");
	err = nl_link_get(nl, name, 0, &l);
	if (err < 0)
		return nl__fail(err, "looking up link %s", name);
	*ifindex = l.index;
	return 0;
}

int nl_link_up(struct nl *nl, int ifindex, unsigned mtu)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	char name[IF_NAMESIZE];
	int err;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	err = nl_talk(nl, NULL, NULL);
	if (err < 0) {
		if (mtu)
			return nl__fail(err, "setting mtu %u on %s and bringing it up",
					mtu, nl_ifname(ifindex, name));
		return nl__fail(err, "bringing up %s", nl_ifname(ifindex, name));
	}
	return 0;
}

int nl_link_del(struct nl *nl, const char *name)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int err;

	if (nl_name_check(name) < 0)
		return nl__fail(-EINVAL, "deleting link \"%s\"",
				name ? name : "");
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	err = nl_talk(nl, NULL, NULL);
	if (err < 0)
		return nl__fail(err, "deleting link %s", name);
	return 0;
}

/* ---- TUN ---- */

static int tun_attach(int fd, const char *name, bool vnet, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	ifr->ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	memcpy(ifr->ifr_name, name, strlen(name) + 1);
	return ioctl(fd, TUNSETIFF, ifr) < 0 ? -errno : 0;
}

int tun_open(struct nl *nl, const char *name, unsigned *flags, int *fd, int *ifindex)
{
	bool vnet = *flags & TUN_OFFLOAD;
	struct nl_link l;
	struct ifreq ifr;
	int tfd, err;

	if (nl_name_check(name) < 0)
		return nl__fail(-EINVAL, "opening TUN device \"%s\": bad name",
				name ? name : "");
	tfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tfd < 0)
		return nl__fail(-errno, "opening /dev/net/tun for %s", name);

	err = tun_attach(tfd, name, vnet, &ifr);
	/* An existing device of that name attaches like a new one, whatever
	 * its PI and vnet flags; EINVAL means it is a TAP, multi-queue, or no
	 * TUN at all. Only a persistent tun/tap nobody holds is a crash
	 * leftover we may delete and recreate. */
	if (err == -EINVAL && nl_link_get(nl, name, 0, &l) == 0 && l.tun &&
	    l.persist && l.queues == 0) {
		err = nl_link_del(nl, name);
		if (err < 0)
			goto close;
		err = tun_attach(tfd, name, vnet, &ifr);
	}
	if (err == -EBUSY) {
		err = nl__fail(err, "opening TUN device %s: held by another process",
			       name);
		goto close;
	}
	if (err == -EINVAL) {
		err = nl__fail(err, "opening TUN device %s: the name is taken by a device that is no plain TUN",
			       name);
		goto close;
	}
	if (err < 0) {
		err = nl__fail(err, "creating TUN device %s", name);
		goto close;
	}
	/* A stale device taken over stays persistent until told otherwise;
	 * without this it would outlive us with all its routes. */
	if (ioctl(tfd, TUNSETPERSIST, 0) < 0) {
		err = nl__fail(-errno, "making TUN device %s non-persistent",
			       name);
		goto close;
	}
	if (vnet) {
		/* The kernel hands us TCP segments of up to 64 KB with a
		 * virtio-net header instead of MTU-sized packets, and takes
		 * them back the same way: the cost per byte of the tunnel falls
		 * with the number of packets. TSO_ECN: a segment of an ECN
		 * connection that carries CWR comes whole too (the flag goes
		 * on its first packet only), instead of being cut by the
		 * kernel before we read it. */
		int hdrsz = TUN_VNET_HDR_LEN;
		unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
		if (ioctl(tfd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
			err = nl__fail(-errno, "enabling offloads on TUN device %s", name);
			goto close;
		}
		/* UDP super-packets as well where the kernel has them (6.2);
		 * an older one refuses the unknown bits with EINVAL. */
		if (!(*flags & TUN_USO) ||
		    ioctl(tfd, TUNSETOFFLOAD, off | TUN_F_USO4 | TUN_F_USO6) < 0) {
			*flags &= ~(unsigned)TUN_USO;
			if (ioctl(tfd, TUNSETOFFLOAD, off) < 0) {
				err = nl__fail(-errno, "enabling offloads on TUN device %s", name);
				goto close;
			}
		}
	} else {
		*flags &= ~(unsigned)TUN_USO;
	}
	err = nl_link_index(nl, ifr.ifr_name, ifindex);
	if (err < 0)
		goto close;
	*fd = tfd;
	return 0;

close:
	close(tfd);
	return err;
}

/* ---- addresses ---- */

int nl_addr_add(struct nl *nl, int ifindex, const struct cidr *c)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	char name[IF_NAMESIZE], cs[INET6_ADDRSTRLEN + 8];
	int err;

	err = nl_cidr_check(c);
	if (err < 0)
		return nl__fail(err, "adding address %s",
				nl_cidr_str(c, cs, sizeof(cs)));
	nlh = nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = c->family;
	ifa->ifa_prefixlen = c->prefix;
	ifa->ifa_index = ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/* Duplicate address detection would hold the address "tentative"
	 * for a second or more; on a point-to-point tunnel nobody else can
	 * have it. */
	if (c->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, nl_addr_len(c->family), c->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, nl_addr_len(c->family), c->addr);
	err = nl_talk(nl, NULL, NULL);
	if (err == -EEXIST)
		return 0;
	if (err < 0)
		return nl__fail(err, "adding address %s to %s",
				nl_cidr_str(c, cs, sizeof(cs)),
				nl_ifname(ifindex, name));
	return 0;
}

int nl_addr_del(struct nl *nl, int ifindex, const struct cidr *c)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	char name[IF_NAMESIZE], cs[INET6_ADDRSTRLEN + 8];
	int err;

	nlh = nl_msg(nl, RTM_DELADDR, 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = c->family;
	ifa->ifa_prefixlen = c->prefix;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, nl_addr_len(c->family), c->addr);
	err = nl_talk(nl, NULL, NULL);
	if (err == -EADDRNOTAVAIL)
		err = -ENOENT;
	if (err < 0)
		return nl__fail(err, "removing address %s from %s",
				nl_cidr_str(c, cs, sizeof(cs)),
				nl_ifname(ifindex, name));
	return 0;
}

/* ---- routes ---- */

static uint32_t nl_table(uint32_t table)
{
	return table ? table : RT_TABLE_MAIN;
}

static void nl_route_msg(struct nl *nl, uint16_t type, uint16_t flags,
			 int ifindex, const struct cidr *dst, uint32_t table)
{
	struct nlmsghdr *nlh = nl_msg(nl, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	table = nl_table(table);
	rtm->rtm_family = dst->family;
	rtm->rtm_dst_len = dst->prefix;
	/* rtm_table has 8 bits; RTA_TABLE carries the rest and wins. */
	rtm->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
	rtm->rtm_type = RTN_UNICAST;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = RTPROT_BOOT;
		/* No gateway: the destination is directly on the tunnel. */
		rtm->rtm_scope = RT_SCOPE_LINK;
	} else {
		/* Delete whatever scope and protocol it was added with. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (dst->prefix)
		mnl_attr_put(nlh, RTA_DST, nl_addr_len(dst->family), dst->addr);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
}

int nl_route_replace(struct nl *nl, int ifindex, const struct cidr *dst,
		     uint32_t table)
{
	char name[IF_NAMESIZE], cs[INET6_ADDRSTRLEN + 8];
	int err;

	err = nl_cidr_check(dst);
	if (err == 0) {
		nl_route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE,
			     ifindex, dst, table);
		err = nl_talk(nl, NULL, NULL);
	}
	if (err < 0)
		return nl__fail(err, "adding route %s dev %s table %u",
				nl_cidr_str(dst, cs, sizeof(cs)),
				nl_ifname(ifindex, name), nl_table(table));
	return 0;
}

int nl_route_del(struct nl *nl, int ifindex, const struct cidr *dst,
		 uint32_t table)
{
	char name[IF_NAMESIZE], cs[INET6_ADDRSTRLEN + 8];
	int err;

	err = nl_cidr_check(dst);
	if (err == 0) {
		nl_route_msg(nl, RTM_DELROUTE, 0, ifindex, dst, table);
		err = nl_talk(nl, NULL, NULL);
	}
	if (err < 0)
		return nl__fail(err, "deleting route %s dev %s table %u",
				nl_cidr_str(dst, cs, sizeof(cs)),
				nl_ifname(ifindex, name), nl_table(table));
	return 0;
}

/* ---- policy rules ---- */

static int nl_rule(struct nl *nl, uint16_t type, uint16_t flags, int family,
		   uint32_t mark, uint32_t table, uint32_t prio)
{
	struct nlmsghdr *nlh = nl_msg(nl, type, flags);
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));

	table = nl_table(table);
	frh->family = family;
	frh->table = table < 256 ? table : RT_TABLE_UNSPEC;
	frh->action = FR_ACT_TO_TBL;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
	mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
	mnl_attr_put_u32(nlh, FRA_FWMASK, UINT32_MAX);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	return nl_talk(nl, NULL, NULL);
}

static const char *nl_family_str(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "?";
}

int nl_rule_add(struct nl *nl, int family, uint32_t mark, uint32_t table,
		uint32_t prio)
{
	int err, i;

	if (family != AF_INET && family != AF_INET6)
		return nl__fail(-EAFNOSUPPORT, "adding rule for family %d",
				family);
	for (i = 0; i < NL_RULE_STALE_MAX; i++) {
		err = nl_rule(nl, RTM_DELRULE, 0, family, mark, table, prio);
		if (err == -ENOENT)
			break;
		if (err < 0)
			goto fail;
	}
	err = nl_rule(nl, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, family,
		      mark, table, prio);
	if (err < 0)
		goto fail;
	return 0;

fail:
	return nl__fail(err, "adding %s rule \"priority %u fwmark 0x%x lookup %u\"",
			nl_family_str(family), prio, mark, nl_table(table));
}

int nl_rule_del(struct nl *nl, int family, uint32_t mark, uint32_t table,
		uint32_t prio)
{
	int err = -EAFNOSUPPORT;

	if (family == AF_INET || family == AF_INET6)
		err = nl_rule(nl, RTM_DELRULE, 0, family, mark, table, prio);
	if (err < 0)
		return nl__fail(err, "deleting %s rule \"priority %u fwmark 0x%x lookup %u\"",
				nl_family_str(family), prio, mark,
				nl_table(table));
	return 0;
}

/* ---- default route ---- */

struct nl_default {
	bool found;
	uint32_t metric;
	int oif;
};

static int nl_default_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_default *d = data;
	const struct nlattr *a;
	uint32_t table, metric = 0;
	int oif = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm) ||
	    rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST)
		return 0;
	table = rtm->rtm_table;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_TABLE:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				table = mnl_attr_get_u32(a);
			break;
		case RTA_PRIORITY:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				metric = mnl_attr_get_u32(a);
			break;
		case RTA_OIF:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				oif = mnl_attr_get_u32(a);
			break;
		case RTA_MULTIPATH: {
			/* The first nexthop's device stands for the route. */
			const struct rtnexthop *nh = mnl_attr_get_payload(a);

			if (!oif && mnl_attr_get_payload_len(a) >= sizeof(*nh))
				oif = nh->rtnh_ifindex;
			break;
		}
		}
	}
	if (table != RT_TABLE_MAIN || !oif)
		return 0;
	if (!d->found || metric < d->metric) {
		d->found = true;
		d->metric = metric;
		d->oif = oif;
	}
	return 0;
}

static int nl_default_family(struct nl *nl, int family, struct nl_default *d)
{
	int err = 0, i;

	for (i = 0; i < NL_DUMP_TRIES; i++) {
		struct nlmsghdr *nlh = nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP);
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = family;
		memset(d, 0, sizeof(*d));
		err = nl_talk(nl, nl_default_cb, d);
		if (err != -EINTR)
			break;
	}
	return err;
}

int nl_default_dev(struct nl *nl, char name[IF_NAMESIZE])
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct nl_default d;
	struct nl_link l;
	size_t i;
	int err;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		err = nl_default_family(nl, families[i], &d);
		if (err < 0)
			return nl__fail(err, "listing %s routes",
					nl_family_str(families[i]));
		if (d.found)
			break;
	}
	if (!d.found)
		return nl__fail(-ENOENT, "finding the default route's device: none in table main");
	err = nl_link_get(nl, NULL, d.oif, &l);
	if (err < 0)
		return nl__fail(err, "looking up ifindex %d of the default route",
				d.oif);
	memcpy(name, l.name, IF_NAMESIZE);
	return 0;
}
