/* netlink/: TUN devices, links, addresses, routes, rules, sysctls and the
 * nftables table, against the real kernel.
 *
 * Everything runs in a private network namespace (unshare(CLONE_NEWNET)),
 * so the host's interfaces, routes, rules and ruleset are never touched
 * and whatever a failed test leaves behind disappears with the process.
 * Without the privilege to create one, every test is skipped. Results are
 * checked through `ip` and `nft`, whose children inherit the namespace. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "netlink/nl.h"

static bool in_netns;

#define NEED_NETNS()                 \
	do {                         \
		if (!in_netns)       \
			skip();      \
	} while (0)

/* ---- helpers ---- */

static struct cidr mkcidr(const char *addr, unsigned prefix)
{
	struct cidr c = { .family = strchr(addr, ':') ? AF_INET6 : AF_INET,
			  .prefix = (uint8_t)prefix };

	assert_int_equal(inet_pton(c.family, addr, c.addr), 1);
	return c;
}

/* Runs a shell command and returns its stdout (caller frees); *status
 * receives the exit status if status is non-NULL. */
static char *run(int *status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *run(int *status, const char *fmt, ...)
{
	char cmd[512], *out = NULL;
	size_t len = 0;
	va_list ap;
	FILE *f, *p;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	p = popen(cmd, "r");
	assert_non_null(p);
	for (int ch; (ch = fgetc(p)) != EOF;)
		fputc(ch, f);
	rc = pclose(p);
	fclose(f);
	if (status)
		*status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
	return out;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static bool link_exists(struct nl *nl, const char *name)
{
	int ifindex;

	return nl_link_index(nl, name, &ifindex) == 0;
}

static int group_setup(void **state)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "# no private network namespace (%s): skipping\n",
			geteuid() ? "not root" : strerror(errno));
		return 0;
	}
	in_netns = true;
	free(run(NULL, "ip link set lo up"));
	return 0;
}

static int nl_setup(void **state)
{
	struct nl *nl = NULL;

	if (in_netns)
		assert_int_equal(nl_open(&nl), 0);
	*state = nl;
	return 0;
}

static int nl_teardown(void **state)
{
	nl_close(*state);
	return 0;
}

/* ---- TUN and links ---- */

static void test_tun_mtu_up(void **state)
{
	struct nl *nl = *state;
	int fd, ifindex, idx2, st;
	char *out;

	NEED_NETNS();
	assert_int_equal(tun_open(nl, "tdtun0", &(unsigned){ 0 }, &fd, &ifindex), 0);
	assert_true(fd >= 0);
	assert_true(ifindex > 0);
	assert_int_equal(nl_link_index(nl, "tdtun0", &idx2), 0);
	assert_int_equal(idx2, ifindex);

	assert_int_equal(nl_link_up(nl, ifindex, 1380), 0);
	out = run(&st, "ip -o link show dev tdtun0");
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "mtu 1380"));
	assert_non_null(strstr(out, ",UP"));
	free(out);

	/* mtu 0 leaves the MTU alone. */
	assert_int_equal(nl_link_up(nl, ifindex, 0), 0);
	out = run(NULL, "ip -o link show dev tdtun0");
	assert_non_null(strstr(out, "mtu 1380"));
	free(out);

	/* Not persistent: the device goes with the fd. */
	close(fd);
	assert_false(link_exists(nl, "tdtun0"));
	assert_int_equal(nl_link_index(nl, "tdtun0", &idx2), -ENODEV);
	assert_non_null(strstr(nl_strerror(), "tdtun0"));
}

static void test_tun_takeover_stale(void **state)
{
	struct nl *nl = *state;
	int fd, ifindex, st;
	char *out;

	NEED_NETNS();
	/* What a crash leaves: a persistent device nobody holds. */
	free(run(&st, "ip tuntap add mode tun dev tdstale0"));
	assert_int_equal(st, 0);
	free(run(&st, "ip addr add 10.99.0.1/24 dev tdstale0"));
	assert_int_equal(st, 0);
	out = run(NULL, "ip -d link show dev tdstale0");
	assert_non_null(strstr(out, "persist on"));
	free(out);

	assert_int_equal(tun_open(nl, "tdstale0", &(unsigned){ 0 }, &fd, &ifindex), 0);
	out = run(NULL, "ip -d link show dev tdstale0");
	assert_non_null(strstr(out, "persist off"));
	free(out);

	close(fd);
	assert_false(link_exists(nl, "tdstale0"));
}

static void test_tun_takeover_tap(void **state)
{
	struct nl *nl = *state;
	int fd, ifindex, st;
	char *out;

	NEED_NETNS();
	/* A stale device of the wrong type cannot be attached to as a TUN;
	 * it is recreated. */
	free(run(&st, "ip tuntap add mode tap dev tdstale1"));
	assert_int_equal(st, 0);
	assert_int_equal(tun_open(nl, "tdstale1", &(unsigned){ 0 }, &fd, &ifindex), 0);
	out = run(NULL, "ip -d link show dev tdstale1");
	assert_non_null(strstr(out, "tun type tun"));
	assert_non_null(strstr(out, "persist off"));
	free(out);
	close(fd);
	assert_false(link_exists(nl, "tdstale1"));
}

static void test_tun_errors(void **state)
{
	struct nl *nl = *state;
	int fd, fd2 = -1, ifindex, st;

	NEED_NETNS();
	/* A device another process holds is not stolen. */
	assert_int_equal(tun_open(nl, "tdbusy0", &(unsigned){ 0 }, &fd, &ifindex), 0);
	assert_int_equal(tun_open(nl, "tdbusy0", &(unsigned){ 0 }, &fd2, &ifindex), -EBUSY);
	assert_int_equal(fd2, -1);
	assert_non_null(strstr(nl_strerror(), "tdbusy0"));
	close(fd);

	/* Nor is a device that is no TUN at all. */
	free(run(&st, "ip link add tdbr0 type bridge"));
	assert_int_equal(st, 0);
	assert_int_equal(tun_open(nl, "tdbr0", &(unsigned){ 0 }, &fd2, &ifindex), -EINVAL);
	assert_non_null(strstr(nl_strerror(), "tdbr0"));
	assert_true(link_exists(nl, "tdbr0"));
	assert_int_equal(nl_link_del(nl, "tdbr0"), 0);
	assert_false(link_exists(nl, "tdbr0"));

	assert_int_equal(nl_link_del(nl, "tdbr0"), -ENODEV);
	assert_non_null(strstr(nl_strerror(), "tdbr0"));
	assert_int_equal(tun_open(nl, "a-name-far-too-long", &(unsigned){ 0 }, &fd2, &ifindex),
			 -EINVAL);
	assert_int_equal(nl_link_up(nl, 999999, 1400), -ENODEV);
	assert_non_null(strstr(nl_strerror(), "mtu 1400"));
}

/* ---- addresses and routes ---- */

static void test_addr(void **state)
{
	static const struct {
		const char *addr;
		unsigned prefix;
		const char *shown;
	} cases[] = {
		{ "192.168.77.1", 24, "inet 192.168.77.1/24" },
		{ "fd00:77::1", 64, "inet6 fd00:77::1/64" },
	};
	struct nl *nl = *state;
	int fd, ifindex;
	char *out;

	NEED_NETNS();
	assert_int_equal(tun_open(nl, "tdaddr0", &(unsigned){ 0 }, &fd, &ifindex), 0);
	assert_int_equal(nl_link_up(nl, ifindex, 1400), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr c = mkcidr(cases[i].addr, cases[i].prefix);

		assert_int_equal(nl_addr_add(nl, ifindex, &c), 0);
		/* An existing identical address is fine. */
		assert_int_equal(nl_addr_add(nl, ifindex, &c), 0);
		out = run(NULL, "ip -o addr show dev tdaddr0");
		assert_int_equal(count(out, cases[i].shown), 1);
		free(out);
	}
	/* nodad: usable at once, never tentative. */
	out = run(NULL, "ip -o -6 addr show dev tdaddr0");
	assert_null(strstr(out, "tentative"));
	free(out);
	close(fd);
}

static void test_routes(void **state)
{
	static const struct {
		const char *dst;
		unsigned prefix;
		uint32_t table;
		const char *ipcmd;	/* how to list it */
		const char *shown;
	} cases[] = {
		{ "10.20.0.0", 16, 0, "ip route show table main",
		  "10.20.0.0/16 dev tdrt0 scope link" },
		{ "10.30.0.0", 16, 100, "ip route show table 100",
		  "10.30.0.0/16 dev tdrt0 scope link" },
		/* Above 255: only RTA_TABLE can carry it. */
		{ "10.40.0.0", 16, 4242, "ip route show table 4242",
		  "10.40.0.0/16 dev tdrt0 scope link" },
		{ "0.0.0.0", 0, 4243, "ip route show table 4243",
		  "default dev tdrt0 scope link" },
		{ "fd00:20::", 64, 0, "ip -6 route show table main",
		  "fd00:20::/64 dev tdrt0 metric 1024" },
		{ "fd00:30::", 48, 1000, "ip -6 route show table 1000",
		  "fd00:30::/48 dev tdrt0 metric 1024" },
	};
	struct nl *nl = *state;
	int fd, ifindex;
	char *out;

	NEED_NETNS();
	assert_int_equal(tun_open(nl, "tdrt0", &(unsigned){ 0 }, &fd, &ifindex), 0);
	assert_int_equal(nl_link_up(nl, ifindex, 1400), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr c = mkcidr(cases[i].dst, cases[i].prefix);

		/* Replace: twice leaves one route. */
		assert_int_equal(nl_route_replace(nl, ifindex, &c, cases[i].table), 0);
		assert_int_equal(nl_route_replace(nl, ifindex, &c, cases[i].table), 0);
		out = run(NULL, "%s", cases[i].ipcmd);
		if (count(out, cases[i].shown) != 1)
			fail_msg("want \"%s\" once in:\n%s", cases[i].shown, out);
		free(out);

		assert_int_equal(nl_route_del(nl, ifindex, &c, cases[i].table), 0);
		out = run(NULL, "%s", cases[i].ipcmd);
		assert_int_equal(count(out, cases[i].shown), 0);
		free(out);
		assert_int_equal(nl_route_del(nl, ifindex, &c, cases[i].table),
				 -ESRCH);
		assert_non_null(strstr(nl_strerror(), "tdrt0"));
	}
	close(fd);
}

static void test_rules(void **state)
{
	static const struct {
		int family;
		uint32_t mark, table, prio;
		const char *ipcmd;
		const char *shown;
	} cases[] = {
		{ AF_INET, 0x1234, 100, 1000, "ip rule show",
		  "1000:\tfrom all fwmark 0x1234 lookup 100" },
		{ AF_INET6, 0x1234, 100, 1000, "ip -6 rule show",
		  "1000:\tfrom all fwmark 0x1234 lookup 100" },
		{ AF_INET, 0x10000, 70000, 1001, "ip rule show",
		  "1001:\tfrom all fwmark 0x10000 lookup 70000" },
	};
	struct nl *nl = *state;
	char *out;

	NEED_NETNS();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int f = cases[i].family;
		uint32_t m = cases[i].mark, t = cases[i].table, p = cases[i].prio;

		assert_int_equal(nl_rule_add(nl, f, m, t, p), 0);
		/* A second add, as after a crash, still leaves one rule. */
		assert_int_equal(nl_rule_add(nl, f, m, t, p), 0);
		out = run(NULL, "%s", cases[i].ipcmd);
		assert_int_equal(count(out, cases[i].shown), 1);
		free(out);

		assert_int_equal(nl_rule_del(nl, f, m, t, p), 0);
		out = run(NULL, "%s", cases[i].ipcmd);
		assert_int_equal(count(out, cases[i].shown), 0);
		free(out);
		assert_int_equal(nl_rule_del(nl, f, m, t, p), -ENOENT);
		assert_non_null(strstr(nl_strerror(), "fwmark"));
	}
}

static void test_default_dev(void **state)
{
	struct nl *nl = *state;
	struct cidr v4 = mkcidr("0.0.0.0", 0), v6 = mkcidr("::", 0);
	char name[IF_NAMESIZE];
	int fd4, fd6, if4, if6;

	NEED_NETNS();
	assert_int_equal(nl_default_dev(nl, name), -ENOENT);
	assert_int_equal(tun_open(nl, "tddef4", &(unsigned){ 0 }, &fd4, &if4), 0);
	assert_int_equal(tun_open(nl, "tddef6", &(unsigned){ 0 }, &fd6, &if6), 0);
	assert_int_equal(nl_link_up(nl, if4, 0), 0);
	assert_int_equal(nl_link_up(nl, if6, 0), 0);

	/* IPv6 only. */
	assert_int_equal(nl_route_replace(nl, if6, &v6, 0), 0);
	assert_int_equal(nl_default_dev(nl, name), 0);
	assert_string_equal(name, "tddef6");
	/* IPv4 wins. */
	assert_int_equal(nl_route_replace(nl, if4, &v4, 0), 0);
	assert_int_equal(nl_default_dev(nl, name), 0);
	assert_string_equal(name, "tddef4");
	/* Default routes in other tables do not count. */
	assert_int_equal(nl_route_del(nl, if4, &v4, 0), 0);
	assert_int_equal(nl_route_del(nl, if6, &v6, 0), 0);
	assert_int_equal(nl_route_replace(nl, if4, &v4, 100), 0);
	assert_int_equal(nl_default_dev(nl, name), -ENOENT);

	close(fd4);
	close(fd6);
}

/* ---- sysctl ---- */

static void test_sysctl(void **state)
{
	char old[32], old2[32], *out;

	NEED_NETNS();
	/* A fresh namespace starts with forwarding off. */
	assert_int_equal(sysctl_set("net/ipv4/ip_forward", "1", old,
				    sizeof(old)), 0);
	assert_string_equal(old, "0");
	out = run(NULL, "cat /proc/sys/net/ipv4/ip_forward");
	assert_string_equal(out, "1\n");
	free(out);
	/* Unchanged value; no buffer for the old one. */
	assert_int_equal(sysctl_set("net/ipv4/ip_forward", "1", NULL, 0), 0);
	assert_int_equal(sysctl_set("net/ipv4/ip_forward", old, old2,
				    sizeof(old2)), 0);
	assert_string_equal(old2, "1");
	out = run(NULL, "cat /proc/sys/net/ipv4/ip_forward");
	assert_string_equal(out, "0\n");
	free(out);

	assert_int_equal(sysctl_set("net/ipv4/no_such_knob", "1", NULL, 0),
			 -ENOENT);
	assert_non_null(strstr(nl_strerror(), "no_such_knob"));
	assert_int_equal(sysctl_set("net/../../etc/passwd", "x", NULL, 0),
			 -EINVAL);
	assert_int_equal(sysctl_set("net/ipv4/ip_forward", "1", old, 1),
			 -ENOSPC);
}

/* ---- nftables ---- */

static void test_nft(void **state)
{
	static const struct {
		const char *egress;
		struct {
			const char *line;
			int n;
		} present[8];
	} cases[] = {
		{ NULL, {
			{ "type filter hook prerouting priority mangle", 1 },
			{ "iifname \"tdnft0\" ct mark set 0x00004242", 1 },
			/* In prerouting and in output. */
			{ "ct mark 0x00004242 meta mark set 0x00004242", 2 },
			{ "type route hook output priority mangle", 1 },
			{ "type filter hook forward priority filter", 1 },
			{ "tcp flags syn / syn,rst tcp option maxseg size set rt mtu", 1 },
			{ "type nat hook postrouting priority srcnat", 1 },
			{ "ct mark 0x00004242 oifname != \"tdnft0\" masquerade", 1 },
		} },
		{ "lo", {
			{ "ct mark 0x00004242 oifname != \"tdnft0\" oifname \"lo\" masquerade", 1 },
		} },
	};
	struct nl *nl = *state;
	int fd, ifindex, st;
	char *out;

	NEED_NETNS();
	/* The rules name the device; it need not exist, but the shoot has it. */
	assert_int_equal(tun_open(nl, "tdnft0", &(unsigned){ 0 }, &fd, &ifindex), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nft_shoot cfg = {
			.table = "tendril_tdnft0",
			.tun = "tdnft0",
			.egress = cases[i].egress,
			.mark = 0x4242,
		};

		/* Twice: the second batch replaces the first table whole. */
		assert_int_equal(nft_shoot_setup(nl, &cfg), 0);
		assert_int_equal(nft_shoot_setup(nl, &cfg), 0);
		out = run(&st, "nft list table inet tendril_tdnft0");
		assert_int_equal(st, 0);
		for (size_t j = 0; j < 8 && cases[i].present[j].line; j++) {
			if (count(out, cases[i].present[j].line) !=
			    cases[i].present[j].n)
				fail_msg("want \"%s\" %d times in:\n%s",
					 cases[i].present[j].line,
					 cases[i].present[j].n, out);
		}
		assert_int_equal(count(out, "masquerade"), 1);
		assert_int_equal(count(out, "meta mark set"), 2);
		free(out);
	}
	assert_int_equal(nft_table_del(nl, "tendril_tdnft0"), 0);
	free(run(&st, "nft list table inet tendril_tdnft0 2>/dev/null"));
	assert_int_not_equal(st, 0);
	assert_int_equal(nft_table_del(nl, "tendril_tdnft0"), -ENOENT);
	assert_non_null(strstr(nl_strerror(), "tendril_tdnft0"));
	/* The socket outlives a refused batch: the next one still works. */
	{
		struct nft_shoot cfg = { .table = "tendril_tdnft0", .tun = "tdnft0", .mark = 1 };
		assert_int_equal(nft_shoot_setup(nl, &cfg), 0);
		assert_int_equal(nft_table_del(nl, "tendril_tdnft0"), 0);
	}
	close(fd);
}

static void test_nft_replaces_leftover(void **state)
{
	struct nl *nl = *state;
	struct nft_shoot cfg = { .table = "tendril_left", .tun = "tdleft0",
				 .mark = 7 };
	int st;
	char *out;

	NEED_NETNS();
	/* A table of our name with foreign content is replaced, not merged. */
	free(run(&st, "nft add table inet tendril_left && "
		      "nft add chain inet tendril_left stray && "
		      "nft add set inet tendril_left s '{ type ipv4_addr; }'"));
	assert_int_equal(st, 0);
	assert_int_equal(nft_shoot_setup(nl, &cfg), 0);
	out = run(NULL, "nft list table inet tendril_left");
	assert_null(strstr(out, "stray"));
	assert_null(strstr(out, "set s"));
	assert_non_null(strstr(out, "masquerade"));
	free(out);

	/* A refused configuration leaves the table as it was. */
	cfg.tun = "";
	assert_int_equal(nft_shoot_setup(nl, &cfg), -EINVAL);
	out = run(NULL, "nft list table inet tendril_left");
	assert_non_null(strstr(out, "masquerade"));
	free(out);
	assert_int_equal(nft_table_del(nl, "tendril_left"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tun_mtu_up, nl_setup, nl_teardown),
		cmocka_unit_test_setup_teardown(test_tun_takeover_stale, nl_setup, nl_teardown),
		cmocka_unit_test_setup_teardown(test_tun_takeover_tap, nl_setup, nl_teardown),
		cmocka_unit_test_setup_teardown(test_tun_errors, nl_setup, nl_teardown),
		cmocka_unit_test_setup_teardown(test_addr, nl_setup, nl_teardown),
		cmocka_unit_test_setup_teardown(test_routes, nl_setup, nl_teardown),
		cmocka_unit_test_setup_teardown(test_rules, nl_setup, nl_teardown),
		cmocka_unit_test_setup_teardown(test_default_dev, nl_setup, nl_teardown),
		cmocka_unit_test(test_sysctl),
		cmocka_unit_test_setup_teardown(test_nft, nl_setup, nl_teardown),
		cmocka_unit_test_setup_teardown(test_nft_replaces_leftover, nl_setup, nl_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
