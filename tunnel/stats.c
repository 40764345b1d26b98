#include "tunnel/stats.h"

struct stats stats;

const char *const stats_global_names[STAT__MAX] = {
#define X(n, h) #n,
	STATS_GLOBAL(X)
#undef X
};

const char *const stats_reason_names[DROP__MAX] = {
#define X(n, h) #n,
	STATS_REASONS(X)
#undef X
};
