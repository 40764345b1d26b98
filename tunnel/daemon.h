/* What vpn-server and vpn-shoot share around their main loop: option
 * parsing with the contract's exit codes, logging set-up, signals, and the
 * `show info` fields common to both. */
#ifndef TUNNEL_DAEMON_H
#define TUNNEL_DAEMON_H

#include <stdbool.h>
#include <uv.h>
#include <openssl/ssl.h>

#include "tunnel/config.h"
#include "tunnel/ctl.h"

#define TENDRIL_VERSION "0.1.0"

enum { EXIT_USAGE = 2, EXIT_RUNTIME = 1 };

/* Parses options; on --help/--version prints and exits 0, on a bad option
 * prints one line and exits 2. */
void daemon_config(struct cfg *c, enum cfg_role role, int argc, char **argv);

struct daemon_signals {
	uv_signal_t term, intr, hup;
};
/* on_stop runs for SIGTERM and SIGINT, on_reload for SIGHUP. */
void daemon_signals_start(struct daemon_signals *s, uv_loop_t *loop,
			  void (*on_stop)(void *), void (*on_reload)(void *), void *owner);
void daemon_signals_stop(struct daemon_signals *s);

/* Fields of `show info` common to both daemons; the caller adds its own
 * and closes the block with ctl_kv_end(). */
void daemon_info_begin(struct ctl_out *o, const char *role, uint64_t started_ms);
struct daemon_tls;
/* The `ktls' line of `show info': off, or what --ktls on can get here. */
void daemon_info_ktls(struct ctl_out *o, const struct daemon_tls *t);

/* The TLS identity of a daemon, reloadable. A reload (SIGHUP, `reload`,
 * or a change of the files on disk) builds a new context; new handshakes
 * use it, tunnels that are up keep theirs (each SSL holds a reference on
 * the context it was made from). A reload that fails keeps the old one.
 *
 * Files are watched through their directories, because Kubernetes
 * updates a secret volume by swapping a "..data" symlink there, which no
 * watch on the file itself would see; changes are debounced and a
 * reload happens only if the files' contents changed. */
struct daemon_tls {
	SSL_CTX *ctx;
	bool server, ktls;
	const char *cert, *key, *ca;
	unsigned char digest[32];
	uv_fs_event_t watch[3];
	size_t nwatch;
	uv_timer_t debounce;
	bool watching;
	void (*changed)(void *owner);	/* what a change on disk runs */
	void *owner;
};

/* Loads the first context; on error writes a line naming the flag. */
int daemon_tls_load(struct daemon_tls *t, bool server, const struct cfg *c,
		    char *err, size_t errlen);
/* Returns 0 if the new material is in use, -errno (logged) if not. */
int daemon_tls_reload(struct daemon_tls *t);
/* The `reload` command's answer for t. */
void daemon_tls_reload_cmd(struct ctl_out *o, struct daemon_tls *t);
/* Watches the files; a change of their contents runs changed(owner),
 * which reloads whatever the daemon builds from them (SIGHUP's handler). */
int daemon_tls_watch(struct daemon_tls *t, uv_loop_t *loop, void (*changed)(void *), void *owner);
void daemon_tls_free(struct daemon_tls *t);

/* Least privilege, once devices, routes and sockets are set up: switch to
 * user (if non-NULL; its primary group, no supplementary groups) and keep
 * only CAP_NET_ADMIN, which route, address and nftables changes (and the
 * clean-up at exit) still need; no_new_privs so nothing exec'd gets more.
 * chown_paths (NULL-terminated) are handed to the user first so it can
 * remove them at exit. On error writes a line to err. */
int daemon_drop_privileges(const char *user, const char *const *chown_paths,
			   char *err, size_t errlen);

/* The operator socket and, with --stats-socket-ro, the read-only one.
 * On error writes a line naming the flag. */
int daemon_ctl_start(struct ctl *rw, struct ctl *ro, uv_loop_t *loop, const struct cfg *c,
		     const struct ctl_cmd *cmds, size_t ncmds, void *owner,
		     char *err, size_t errlen);

/* Sysctls a daemon changes, remembered so that exit restores them. */
enum { DAEMON_SYSCTLS = 4 };
struct daemon_sysctls {
	struct {
		const char *path;
		char old[32];
	} v[DAEMON_SYSCTLS];
	size_t n;
};
/* Sets /proc/sys/<path> to value, remembering the old value if it
 * differs. Returns 0 or -errno (the caller logs nl_strerror()). */
int daemon_sysctl(struct daemon_sysctls *s, const char *path, const char *value);
void daemon_sysctls_restore(struct daemon_sysctls *s);
/* Packets arriving on the TUN device carry addresses of the other side,
 * which the main table may route through another device, and the device
 * has no IPv4 address, for which the kernel fails both strict and loose
 * reverse-path checks. So the check is off for the device; the kernel
 * applies the larger of "all" and the device's value, so "all" goes to 0
 * as well (restored at exit), which leaves every other device at its own
 * setting. (Gardener's vpn2 sets 0 everywhere.) */
int daemon_rp_filter_off(struct daemon_sysctls *s, const char *dev);

/* Closes every handle still open on loop and runs it until they are gone,
 * so the loop can be closed without leaks. */
void daemon_loop_drain(uv_loop_t *loop);

#endif
