/* Kernel network configuration for the daemons and the local backend:
 * TUN devices, links, addresses, routes and policy rules over rtnetlink
 * (libmnl), sysctls, and our own nftables table (libnftnl).
 *
 * Every function returns 0 or a negative errno and, on failure, leaves a
 * one-line explanation in nl_strerror() (what failed, on what object). */
#ifndef NETLINK_NL_H
#define NETLINK_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "tunnel/cidr.h"

struct nl;

/* The last error's explanation (thread-local buffer, always a string). */
const char *nl_strerror(void);

int nl_open(struct nl **out);
void nl_close(struct nl *nl);

/* Opens (creating if needed) the TUN device name with IFF_TUN|IFF_NO_PI,
 * non-blocking. A device of that name left persistent by a crash is taken
 * over and made non-persistent, so it disappears with our fd, and with it
 * every address and route on it. *ifindex receives its index.
 *
 * With TUN_OFFLOAD every read and write starts with a virtio-net header of
 * TUN_VNET_HDR_LEN bytes, and the device takes and gives TCP segments of
 * up to 64 KB with partial checksums (TSO4/TSO6, CSUM). TUN_USO (with
 * TUN_OFFLOAD) asks for UDP super-packets too (USO4/USO6: what a sender
 * with UDP_SEGMENT writes, up to 64 KB of equal datagrams); a kernel
 * before 6.2 has none, and then tun_open() clears TUN_USO in *flags and
 * opens the device with the rest. *flags is what was asked for in, what
 * the device has out. */
enum { TUN_OFFLOAD = 1U << 0, TUN_USO = 1U << 1, TUN_VNET_HDR_LEN = 10 };
int tun_open(struct nl *nl, const char *name, unsigned *flags, int *fd, int *ifindex);

int nl_link_index(struct nl *nl, const char *name, int *ifindex);
/* Sets the MTU (if mtu != 0) and brings the link up. */
int nl_link_up(struct nl *nl, int ifindex, unsigned mtu);
/* Deletes a link by name; -ENODEV if there is none. */
int nl_link_del(struct nl *nl, const char *name);

/* Adds addr/prefix (family from c) to the link; an existing identical
 * address is not an error. IPv6 addresses are added with nodad so they
 * are usable at once. */
int nl_addr_add(struct nl *nl, int ifindex, const struct cidr *c);
/* Removes it again; -ENOENT if it is not there. */
int nl_addr_del(struct nl *nl, int ifindex, const struct cidr *c);

/* Adds or replaces the route dst dev ifindex in table (0 = main). */
int nl_route_replace(struct nl *nl, int ifindex, const struct cidr *dst,
		     uint32_t table);
int nl_route_del(struct nl *nl, int ifindex, const struct cidr *dst,
		 uint32_t table);

/* "from all fwmark mark lookup table" at priority prio, for one family.
 * nl_rule_add first removes a rule with the same priority, mark and
 * table (left by a crash), so calling it twice leaves one rule. */
int nl_rule_add(struct nl *nl, int family, uint32_t mark, uint32_t table,
		uint32_t prio);
int nl_rule_del(struct nl *nl, int family, uint32_t mark, uint32_t table,
		uint32_t prio);

/* Name of the device of the IPv4 default route (IPv6 if there is no IPv4
 * one); -ENOENT if there is no default route. */
int nl_default_dev(struct nl *nl, char name[IF_NAMESIZE]);

/* Writes value to /proc/sys/<path> (path uses '/', e.g.
 * "net/ipv4/ip_forward"); the previous value goes to old (if non-NULL) so
 * the caller can restore it. */
int sysctl_set(const char *path, const char *value, char *old, size_t oldlen);

/* The shoot side's nftables table "inet <table>", created in one batch
 * that first deletes a table of that name (left by a crash), sent over
 * nl's nftables socket (open until nl_close()):
 *   - prerouting (filter, mangle priority): packets in from tun get
 *     ct mark = mark; packets in the reply direction of a connection
 *     with that ct mark get meta mark = mark (so answers are routed back
 *     into the tunnel by a fwmark rule, whatever their destination);
 *   - output (route hook, mangle priority): the same restore of the mark,
 *     for answers generated on this host;
 *   - forward (filter): TCP MSS clamped to the route MTU for SYNs;
 *   - postrouting (nat, srcnat priority): connections with ct mark = mark
 *     leaving through a device other than tun are masqueraded; if egress
 *     is non-NULL only those leaving through egress.
 */
struct nft_shoot {
	const char *table;	/* e.g. "tendril_tun0" */
	const char *tun;	/* TUN device name */
	const char *egress;	/* NULL: any device but tun */
	uint32_t mark;
};
int nft_shoot_setup(struct nl *nl, const struct nft_shoot *cfg);
/* Deletes "inet <table>"; -ENOENT if it does not exist. */
int nft_table_del(struct nl *nl, const char *table);

#endif
