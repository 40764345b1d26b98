/* The local backend's stand-ins for a shoot's workloads: a small HTTP
 * server, with TLS a kubelet-like one (kubelets serve HTTPS on the node IP,
 * port 10250). It is what `shootctl serve` runs in a node or pod namespace.
 *
 *   GET /healthz  -> 200 "ok"
 *   GET anything  -> 200 "<name>: <path> from <client> at <local address>"
 *
 * so a check can tell which server answered and from which source address
 * it saw the request (the agent masquerades). Requests are parsed by
 * tunnel/http.c; anything else than GET/HEAD gets 405, garbage 400. */
#ifndef CONTROLLER_SERVE_H
#define CONTROLLER_SERVE_H

struct serve_opts {
	const char *listen;	/* "ADDR:PORT" or "[v6]:PORT" */
	const char *name;
	const char *cert, *key;	/* both or neither: HTTPS */
};

/* Serves until killed; returns only on a setup error: -errno with err
 * naming the flag or file. One thread per connection, at most
 * SERVE_CLIENTS at once, each closed after SERVE_TIMEOUT_S idle. */
enum { SERVE_CLIENTS = 32, SERVE_TIMEOUT_S = 10 };
int serve_run(const struct serve_opts *o, char *err, size_t errlen);

#endif
