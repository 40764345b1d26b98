/* Per-source admission rate limit (token buckets), for new handshakes.
 *
 * Sources hash into a fixed table of buckets with a per-table random key:
 * memory is constant whatever a flood looks like, and two sources that
 * collide merely share a budget. */
#ifndef TUNNEL_RATELIMIT_H
#define TUNNEL_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { RL_SLOTS = 1024 };

struct rl_bucket {
	uint64_t last_ms;
	uint32_t milli_tokens;	/* tokens x 1000: integer refill maths */
};

struct rl {
	uint32_t per_sec, burst;
	uint64_t key[2];
	struct rl_bucket b[RL_SLOTS];
};

/* per_sec admissions per second and source, bursts of up to burst. */
void rl_init(struct rl *r, uint32_t per_sec, uint32_t burst);
/* True if a new attempt from addr (alen bytes) is admitted at now_ms. */
bool rl_admit(struct rl *r, const void *addr, size_t alen, uint64_t now_ms);

#endif
