/* libFuzzer target: user-space segmentation of whatever a peer or the
 * kernel could hand over as virtio-net header + packet. Every segment
 * emitted must fit the scratch buffer and be no longer than its source
 * allows; the check the daemons make of a peer's header against the
 * parsed packet (gso_check) runs on the same input first. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/gso.h"
#include "fuzz.h"

static uint8_t scratch[65600];
static size_t total;

static int check(void *arg, const uint8_t *p, size_t n)
{
	size_t limit = *(size_t *)arg;

	if (n > sizeof(scratch) || n > limit + 120)
		abort();
	total += n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr vh;
	struct pkt_info pi;
	uint8_t *pkt;
	size_t len;

	if (size < sizeof(vh))
		return 0;
	memcpy(&vh, data, sizeof(vh));
	len = size - sizeof(vh);
	pkt = malloc(len ? len : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data + sizeof(vh), len);
	total = 0;
	if (pkt_parse(pkt, len, &pi) == 0)
		(void)gso_check(&vh, &pi);
	gso_segment(&vh, pkt, len, scratch, sizeof(scratch), check, &len);
	free(pkt);
	return 0;
}
