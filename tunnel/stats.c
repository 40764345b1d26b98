#include <stdio.h>
#include "tunnel/stats.h"

struct stats stats;

const char *const stats_global_names[STAT__MAX] = {
#define X(n, k, h) #n,
	STATS_GLOBAL(X)
#undef X
};

const enum stats_kind stats_global_kinds[STAT__MAX] = {
#define X(n, k, h) k,
	STATS_GLOBAL(X)
#undef X
};

const char *const stats_reason_names[DROP__MAX] = {
#define X(n, h) #n,
	STATS_REASONS(X)
#undef X
};

void stats_error(uint64_t now_ms, const char *remote, const char *peer, const char *reason)
{
	struct stats_error *e = &stats.errors[stats.nerrors++ % STATS_ERRORS];

	e->at_ms = now_ms;
	snprintf(e->remote, sizeof(e->remote), "%s", remote ? remote : "");
	snprintf(e->peer, sizeof(e->peer), "%s", peer ? peer : "");
	snprintf(e->reason, sizeof(e->reason), "%s", reason ? reason : "");
}
