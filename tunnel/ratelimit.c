#include <string.h>
#include <sys/random.h>

#include "tunnel/ratelimit.h"

void rl_init(struct rl *r, uint32_t per_sec, uint32_t burst)
{
	memset(r, 0, sizeof(*r));
	r->per_sec = per_sec;
	r->burst = burst;
	if (getrandom(r->key, sizeof(r->key), 0) != sizeof(r->key))
		r->key[0] = (uint64_t)(uintptr_t)r ^ 0x9e3779b97f4a7c15ULL;
}

static size_t rl__slot(const struct rl *r, const uint8_t *a, size_t alen)
{
	uint64_t h = r->key[0];

	for (size_t i = 0; i < alen; i++)
		h = (h ^ a[i]) * 0x100000001b3ULL + r->key[1];
	return (size_t)((h ^ (h >> 29)) % RL_SLOTS);
}

bool rl_admit(struct rl *r, const void *addr, size_t alen, uint64_t now_ms)
{
	struct rl_bucket *b = &r->b[rl__slot(r, addr, alen)];
	uint64_t full = (uint64_t)r->burst * 1000, t;

	if (b->last_ms == 0) {
		t = full;	/* a source never seen starts with a full burst */
	} else {
		t = b->milli_tokens + (now_ms - b->last_ms) * r->per_sec;
		if (t > full)
			t = full;
	}
	b->last_ms = now_ms ? now_ms : 1;
	if (t < 1000) {
		b->milli_tokens = (uint32_t)t;
		return false;
	}
	b->milli_tokens = (uint32_t)(t - 1000);
	return true;
}
