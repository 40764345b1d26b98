/* What vpn-server and vpn-shoot share around their main loop: option
 * parsing with the contract's exit codes, logging set-up, signals, and the
 * `show info` fields common to both. */
#ifndef TUNNEL_DAEMON_H
#define TUNNEL_DAEMON_H

#include <uv.h>

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

/* Closes every handle still open on loop and runs it until they are gone,
 * so the loop can be closed without leaks. */
void daemon_loop_drain(uv_loop_t *loop);

#endif
