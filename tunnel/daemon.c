#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tunnel/conn.h"
#include "tunnel/daemon.h"
#include "tunnel/log.h"

extern char **environ;

void daemon_config(struct cfg *c, enum cfg_role role, int argc, char **argv)
{
	char err[CFG_ERR_MAX];

	if (cfg_parse(c, role, argc, argv, environ, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", role == CFG_SERVER ? "vpn-server" : "vpn-shoot", err);
		exit(EXIT_USAGE);
	}
	if (c->action == CFG_HELP) {
		cfg_usage(role, stdout);
		exit(0);
	}
	if (c->action == CFG_VERSION) {
		printf("%s %s\n", role == CFG_SERVER ? "vpn-server" : "vpn-shoot", TENDRIL_VERSION);
		exit(0);
	}
	log_setup(c->log_format, c->log_level);
}

struct daemon__sig {
	void (*fn)(void *);
	void *owner;
};

static void daemon__signal(uv_signal_t *h, int signum)
{
	struct daemon__sig *s = h->data;

	s->fn(s->owner);
}

void daemon_signals_start(struct daemon_signals *s, uv_loop_t *loop,
			  void (*on_stop)(void *), void (*on_reload)(void *), void *owner)
{
	static struct daemon__sig stop, reload;

	stop = (struct daemon__sig){ on_stop, owner };
	reload = (struct daemon__sig){ on_reload, owner };
	uv_signal_init(loop, &s->term);
	uv_signal_init(loop, &s->intr);
	uv_signal_init(loop, &s->hup);
	s->term.data = s->intr.data = &stop;
	s->hup.data = &reload;
	uv_signal_start(&s->term, daemon__signal, SIGTERM);
	uv_signal_start(&s->intr, daemon__signal, SIGINT);
	uv_signal_start(&s->hup, daemon__signal, SIGHUP);
	/* A peer vanishing mid-write must be an error return, not a kill. */
	signal(SIGPIPE, SIG_IGN);
}

void daemon_signals_stop(struct daemon_signals *s)
{
	uv_close((uv_handle_t *)&s->term, NULL);
	uv_close((uv_handle_t *)&s->intr, NULL);
	uv_close((uv_handle_t *)&s->hup, NULL);
}

void daemon_info_begin(struct ctl_out *o, const char *role, uint64_t started_ms)
{
	ctl_kv_begin(o);
	ctl_kv_str(o, "name", "tendril");
	ctl_kv_str(o, "version", TENDRIL_VERSION);
	ctl_kv_str(o, "role", role);
	ctl_kv_u64(o, "pid", (uint64_t)getpid());
	ctl_kv_u64(o, "uptime_s", (conn_now_ms() - started_ms) / 1000);
}

static void daemon__close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void daemon_loop_drain(uv_loop_t *loop)
{
	uv_walk(loop, daemon__close_walk, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
}
