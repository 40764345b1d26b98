/* The shoot side's nftables table, written as one libnftnl batch: the
 * kernel applies a batch as a single transaction, so the table is either
 * all there (replacing a leftover of the same name) or unchanged.
 *
 * The expressions are the ones nft generates for the rules quoted in
 * nl.h (see `nft --debug=netlink add rule ...`), so `nft list table`
 * shows them in nft's own syntax. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
/* Before the uapi headers, whose linux/in.h would clash with it. */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "netlink/nl.h"
#include "netlink/internal.h"

enum {
	/* Our biggest batch is about 2 KiB. libmnl writes a message before
	 * checking it against the limit, so the buffer is twice the limit. */
	NFT_BATCH_LIMIT = 16384,
	NFT_BUF_SIZE = 2 * NFT_BATCH_LIMIT,
	/* Messages in one batch, begin and end not counted. */
	NFT_BATCH_MSGS = 16,
	/* The kernel answers a batch before sendmsg() returns; the wait is
	 * only a guard against a reply that never comes. */
	NFT_ACK_WAIT_MS = 1000,
	/* Interface names are compared over the whole IFNAMSIZ buffer, as
	 * nft does for an exact (non-wildcard) name. */
	NFT_IFNAME_LEN = 16,
	NFT_TABLE_NAME_MAX = 256,	/* NFT_TABLE_MAXNAMELEN */
	/* Hook priorities, as nft names them (mangle, filter, srcnat). */
	NFT_PRIO_MANGLE = -150,
	NFT_PRIO_FILTER = 0,
	NFT_PRIO_SRCNAT = 100,
	/* TCP header: the flags byte, and the flags a SYN is told by. */
	NFT_TCP_FLAGS_OFF = 13,
	NFT_TCP_SYN = 0x02,
	NFT_TCP_RST = 0x04,
	/* The MSS option (kind 2): its 16-bit value sits at offset 2. */
	NFT_TCPOPT_MAXSEG = 2,
	NFT_TCPOPT_MAXSEG_OFF = 2,
	NFT_TCPOPT_MAXSEG_LEN = 2,
};

/* ---- batches ---- */

struct nft_batch {
	char *buf;
	struct mnl_nlmsg_batch *b;
	uint32_t seq;		/* of the next message */
	uint32_t first;		/* of the first message after "begin" */
	unsigned n;
	const char *what[NFT_BATCH_MSGS];	/* for the error message */
	int err;		/* the first failure while building */
};

static int nft_batch_init(struct nft_batch *nb)
{
	memset(nb, 0, sizeof(*nb));
	/* Zeroed: libmnl leaves attribute padding as it finds it. */
	nb->buf = calloc(1, NFT_BUF_SIZE);
	if (!nb->buf)
		return -ENOMEM;
	nb->b = mnl_nlmsg_batch_start(nb->buf, NFT_BATCH_LIMIT);
	if (!nb->b) {
		free(nb->buf);
		return -ENOMEM;
	}
	nb->seq = 1;
	nftnl_batch_begin(mnl_nlmsg_batch_current(nb->b), nb->seq++);
	mnl_nlmsg_batch_next(nb->b);
	nb->first = nb->seq;
	return 0;
}

static void nft_batch_free(struct nft_batch *nb)
{
	mnl_nlmsg_batch_stop(nb->b);
	free(nb->buf);
}

/* Starts the next message; NULL (with nb->err set) if the batch is full,
 * which only a programming error can cause. */
static struct nlmsghdr *nft_msg(struct nft_batch *nb, uint16_t type,
				uint16_t flags, const char *what)
{
	if (nb->err)
		return NULL;
	if (nb->n == NFT_BATCH_MSGS) {
		nb->err = -EMSGSIZE;
		return NULL;
	}
	nb->what[nb->n++] = what;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(nb->b), type,
				     NFPROTO_INET, flags | NLM_F_ACK,
				     nb->seq++);
}

static void nft_msg_done(struct nft_batch *nb)
{
	if (!mnl_nlmsg_batch_next(nb->b) && !nb->err)
		nb->err = -EMSGSIZE;
}

/* Reads one ack per message. A failed batch still acks every message it
 * was given, and the first error names the step that failed. */
static int nft_batch_recv(struct nft_batch *nb, struct mnl_socket *sock,
			  const char *table)
{
	uint32_t portid = mnl_socket_get_portid(sock);
	int fd = mnl_socket_get_fd(sock);
	unsigned acked = 0;
	int err = 0;

	while (acked < nb->n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct nlmsghdr *nlh;
		ssize_t n;
		int len;

		n = recv(fd, nb->buf, NFT_BUF_SIZE, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* An aborted batch may not answer everything. */
			if (err)
				break;
			n = poll(&pfd, 1, NFT_ACK_WAIT_MS);
			if (n == 0)
				return nl__fail(-ETIMEDOUT, "nftables table inet %s: waiting for the kernel's answer",
						table);
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return nl__fail(-errno, "nftables table inet %s: reading the kernel's answer",
					table);
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)nb->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			uint32_t i = nlh->nlmsg_seq - nb->first;
			int e;

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_pid != portid || i >= nb->n)
				continue;
			acked++;
			e = nl__ack(nlh);
			if (e && !err)
				err = nl__fail(e, "nftables table inet %s: %s",
					       table, nb->what[i]);
		}
	}
	return err;
}

static int nft_batch_send(struct nft_batch *nb, struct nl *nl, const char *table)
{
	struct mnl_socket *sock;
	char scrap[64];
	int err;

	if (nb->err)
		return nl__fail(nb->err, "nftables table inet %s: building the batch",
				table);
	nftnl_batch_end(mnl_nlmsg_batch_current(nb->b), nb->seq++);
	if (!mnl_nlmsg_batch_next(nb->b))
		return nl__fail(-EMSGSIZE, "nftables table inet %s: building the batch",
				table);
	if ((err = nl__nft_sock(nl, &sock)))
		return err;
	/* Acks an aborted batch left unread would carry our sequence
	 * numbers again: the kernel has queued all of them before its
	 * sendmsg() returned, so one non-blocking pass discards them
	 * (into a scrap buffer: nb->buf holds the batch). */
	while (recv(mnl_socket_get_fd(sock), scrap, sizeof(scrap), MSG_DONTWAIT | MSG_TRUNC) > 0)
		;
	if (mnl_socket_sendto(sock, mnl_nlmsg_batch_head(nb->b),
			      mnl_nlmsg_batch_size(nb->b)) < 0)
		return nl__fail(-errno, "nftables table inet %s: sending the batch",
				table);
	return nft_batch_recv(nb, sock, table);
}

static void nft_table_msg(struct nft_batch *nb, uint16_t type, uint16_t flags,
			  const char *name, const char *what)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t) {
		nb->err = nb->err ? nb->err : -ENOMEM;
		return;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = nft_msg(nb, type, flags, what);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		nft_msg_done(nb);
	}
	nftnl_table_free(t);
}

/* ---- expressions ---- */

/* A rule under construction: the first failure sticks and makes the
 * remaining expressions no-ops, so the rules read as straight lists. */
struct nft_rb {
	struct nftnl_rule *r;
	int err;
};

static struct nftnl_expr *nft_expr(struct nft_rb *rb, const char *name)
{
	struct nftnl_expr *e;

	if (rb->err)
		return NULL;
	e = nftnl_expr_alloc(name);
	if (!e) {
		rb->err = -ENOMEM;
		return NULL;
	}
	nftnl_rule_add_expr(rb->r, e);
	return e;
}

static void nft_data(struct nft_rb *rb, struct nftnl_expr *e, uint16_t attr,
		     const void *data, uint32_t len)
{
	if (nftnl_expr_set(e, attr, data, len) < 0 && !rb->err)
		rb->err = -EINVAL;
}

static void nft_meta_load(struct nft_rb *rb, uint32_t key)
{
	struct nftnl_expr *e = nft_expr(rb, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void nft_meta_set(struct nft_rb *rb, uint32_t key)
{
	struct nftnl_expr *e = nft_expr(rb, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
}

static void nft_ct_load(struct nft_rb *rb, uint32_t key)
{
	struct nftnl_expr *e = nft_expr(rb, "ct");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
}

static void nft_ct_set(struct nft_rb *rb, uint32_t key)
{
	struct nftnl_expr *e = nft_expr(rb, "ct");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
}

static void nft_cmp(struct nft_rb *rb, uint32_t op, const void *data,
		    uint32_t len)
{
	struct nftnl_expr *e = nft_expr(rb, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nft_data(rb, e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void nft_immediate(struct nft_rb *rb, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nft_expr(rb, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nft_data(rb, e, NFTNL_EXPR_IMM_DATA, data, len);
}

/* "iifname NAME" / "oifname != NAME" */
static void nft_ifname(struct nft_rb *rb, uint32_t key, uint32_t op,
		       const char *name)
{
	char buf[NFT_IFNAME_LEN] = { 0 };

	memcpy(buf, name, strlen(name));
	nft_meta_load(rb, key);
	nft_cmp(rb, op, buf, sizeof(buf));
}

/* "ct mark MARK" */
static void nft_ct_mark_is(struct nft_rb *rb, uint32_t mark)
{
	nft_ct_load(rb, NFT_CT_MARK);
	nft_cmp(rb, NFT_CMP_EQ, &mark, sizeof(mark));
}

static void nft_payload_load(struct nft_rb *rb, uint32_t base,
			     uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nft_expr(rb, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

/* reg 1 = reg 1 & mask, over len bytes */
static void nft_and(struct nft_rb *rb, const void *mask, uint32_t len)
{
	struct nftnl_expr *e = nft_expr(rb, "bitwise");
	static const uint8_t zero[16];

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nft_data(rb, e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nft_data(rb, e, NFTNL_EXPR_BITWISE_XOR, zero, len);
}

/* ---- rules ---- */

/* iifname TUN ct mark set MARK */
static void nft_rule_mark_from_tun(struct nft_rb *rb,
				   const struct nft_shoot *cfg)
{
	nft_ifname(rb, NFT_META_IIFNAME, NFT_CMP_EQ, cfg->tun);
	nft_immediate(rb, &cfg->mark, sizeof(cfg->mark));
	nft_ct_set(rb, NFT_CT_MARK);
}

/* ct direction reply ct mark MARK meta mark set MARK
 *
 * Only answers get the mark: a request from the tunnel carrying it would
 * be routed by the tunnel's table straight back into the tunnel. */
static void nft_rule_restore_mark(struct nft_rb *rb,
				  const struct nft_shoot *cfg)
{
	const uint8_t reply = 1;	/* IP_CT_DIR_REPLY */

	nft_ct_load(rb, NFT_CT_DIRECTION);
	nft_cmp(rb, NFT_CMP_EQ, &reply, sizeof(reply));
	nft_ct_mark_is(rb, cfg->mark);
	nft_immediate(rb, &cfg->mark, sizeof(cfg->mark));
	nft_meta_set(rb, NFT_META_MARK);
}

/* tcp flags & (syn|rst) == syn tcp option maxseg size set rt mtu */
static void nft_rule_clamp_mss(struct nft_rb *rb, const struct nft_shoot *cfg)
{
	const uint8_t tcp = IPPROTO_TCP, flags = NFT_TCP_SYN | NFT_TCP_RST,
		      syn = NFT_TCP_SYN;
	struct nftnl_expr *e;

	nft_meta_load(rb, NFT_META_L4PROTO);
	nft_cmp(rb, NFT_CMP_EQ, &tcp, sizeof(tcp));
	nft_payload_load(rb, NFT_PAYLOAD_TRANSPORT_HEADER, NFT_TCP_FLAGS_OFF, 1);
	nft_and(rb, &flags, sizeof(flags));
	nft_cmp(rb, NFT_CMP_EQ, &syn, sizeof(syn));

	e = nft_expr(rb, "rt");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_RT_KEY, NFT_RT_TCPMSS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_RT_DREG, NFT_REG_1);
	}
	/* rt gives the MSS in host order; the option wants network order. */
	e = nft_expr(rb, "byteorder");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
	}
	e = nft_expr(rb, "exthdr");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_SREG, NFT_REG_1);
		nftnl_expr_set_u8(e, NFTNL_EXPR_EXTHDR_TYPE, NFT_TCPOPT_MAXSEG);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OFFSET,
				   NFT_TCPOPT_MAXSEG_OFF);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_LEN,
				   NFT_TCPOPT_MAXSEG_LEN);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OP, NFT_EXTHDR_OP_TCPOPT);
	}
}

/* ct mark MARK oifname != TUN [oifname EGRESS] masquerade */
static void nft_rule_masquerade(struct nft_rb *rb, const struct nft_shoot *cfg)
{
	nft_ct_mark_is(rb, cfg->mark);
	nft_ifname(rb, NFT_META_OIFNAME, NFT_CMP_NEQ, cfg->tun);
	if (cfg->egress)
		nft_ifname(rb, NFT_META_OIFNAME, NFT_CMP_EQ, cfg->egress);
	nft_expr(rb, "masq");
}

static const struct nft_chain_def {
	const char *name;
	const char *type;
	uint32_t hook;
	int32_t prio;
	const char *what;
} nft_chains[] = {
	{ "prerouting", "filter", NF_INET_PRE_ROUTING, NFT_PRIO_MANGLE,
	  "creating chain prerouting" },
	/* A route chain reroutes locally generated packets whose mark it
	 * changed, which is the point of restoring the mark there. */
	{ "output", "route", NF_INET_LOCAL_OUT, NFT_PRIO_MANGLE,
	  "creating chain output" },
	{ "forward", "filter", NF_INET_FORWARD, NFT_PRIO_FILTER,
	  "creating chain forward" },
	{ "postrouting", "nat", NF_INET_POST_ROUTING, NFT_PRIO_SRCNAT,
	  "creating chain postrouting" },
};

static const struct nft_rule_def {
	const char *chain;
	void (*build)(struct nft_rb *rb, const struct nft_shoot *cfg);
	const char *what;
} nft_rules[] = {
	{ "prerouting", nft_rule_mark_from_tun,
	  "adding the rule marking connections from the tunnel" },
	{ "prerouting", nft_rule_restore_mark,
	  "adding the rule restoring the mark in prerouting" },
	{ "output", nft_rule_restore_mark,
	  "adding the rule restoring the mark in output" },
	{ "forward", nft_rule_clamp_mss,
	  "adding the TCP MSS clamping rule" },
	{ "postrouting", nft_rule_masquerade,
	  "adding the masquerade rule" },
};

static void nft_chain_msg(struct nft_batch *nb, const char *table,
			  const struct nft_chain_def *def)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c) {
		nb->err = nb->err ? nb->err : -ENOMEM;
		return;
	}
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, def->name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, def->type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, def->hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, def->prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = nft_msg(nb, NFT_MSG_NEWCHAIN, NLM_F_CREATE, def->what);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nft_msg_done(nb);
	}
	nftnl_chain_free(c);
}

static void nft_rule_msg(struct nft_batch *nb, const char *table,
			 const struct nft_rule_def *def,
			 const struct nft_shoot *cfg)
{
	struct nft_rb rb = { .r = nftnl_rule_alloc() };
	struct nlmsghdr *nlh;

	if (!rb.r) {
		nb->err = nb->err ? nb->err : -ENOMEM;
		return;
	}
	nftnl_rule_set_u32(rb.r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(rb.r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(rb.r, NFTNL_RULE_CHAIN, def->chain);
	def->build(&rb, cfg);
	if (rb.err) {
		nb->err = nb->err ? nb->err : rb.err;
		goto free;
	}
	nlh = nft_msg(nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
		      def->what);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, rb.r);
		nft_msg_done(nb);
	}
free:
	nftnl_rule_free(rb.r);
}

static bool nft_name_ok(const char *s, size_t max)
{
	return s && s[0] && strlen(s) < max;
}

int nft_shoot_setup(struct nl *nl, const struct nft_shoot *cfg)
{
	struct nft_batch nb;
	size_t i;
	int err;

	if (!nft_name_ok(cfg->table, NFT_TABLE_NAME_MAX))
		return nl__fail(-EINVAL, "nftables table \"%s\": bad name",
				cfg->table ? cfg->table : "");
	if (!nft_name_ok(cfg->tun, NFT_IFNAME_LEN) ||
	    (cfg->egress && !nft_name_ok(cfg->egress, NFT_IFNAME_LEN)))
		return nl__fail(-EINVAL, "nftables table inet %s: bad interface name \"%s\"",
				cfg->table,
				nft_name_ok(cfg->tun, NFT_IFNAME_LEN) ?
					cfg->egress : cfg->tun ? cfg->tun : "");
	err = nft_batch_init(&nb);
	if (err < 0)
		return nl__fail(err, "nftables table inet %s: allocating the batch",
				cfg->table);
	/* Create-if-missing, delete, create: the delete always finds a
	 * table, and a leftover is replaced in the same transaction. */
	nft_table_msg(&nb, NFT_MSG_NEWTABLE, NLM_F_CREATE, cfg->table,
		      "creating the table");
	nft_table_msg(&nb, NFT_MSG_DELTABLE, 0, cfg->table,
		      "deleting the previous table");
	nft_table_msg(&nb, NFT_MSG_NEWTABLE, NLM_F_CREATE, cfg->table,
		      "creating the table");
	for (i = 0; i < sizeof(nft_chains) / sizeof(nft_chains[0]); i++)
		nft_chain_msg(&nb, cfg->table, &nft_chains[i]);
	for (i = 0; i < sizeof(nft_rules) / sizeof(nft_rules[0]); i++)
		nft_rule_msg(&nb, cfg->table, &nft_rules[i], cfg);
	err = nft_batch_send(&nb, nl, cfg->table);
	nft_batch_free(&nb);
	return err;
}

int nft_table_del(struct nl *nl, const char *table)
{
	struct nft_batch nb;
	int err;

	if (!nft_name_ok(table, NFT_TABLE_NAME_MAX))
		return nl__fail(-EINVAL, "nftables table \"%s\": bad name",
				table ? table : "");
	err = nft_batch_init(&nb);
	if (err < 0)
		return nl__fail(err, "nftables table inet %s: allocating the batch",
				table);
	nft_table_msg(&nb, NFT_MSG_DELTABLE, 0, table, "deleting the table");
	err = nft_batch_send(&nb, nl, table);
	nft_batch_free(&nb);
	return err;
}
