/* libFuzzer: pkt_parse on arbitrary bytes. What it accepts must point
 * inside the buffer and claim no more than it holds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tunnel/pkt.h"
#include "fuzz.h"



int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info pi;
	size_t alen;
	int rc;

	/* A private copy: ASan then catches a read one past the end. */
	uint8_t *p = malloc(size ? size : 1);

	if (!p)
		return 0;
	memcpy(p, data, size);
	rc = pkt_parse(p, size, &pi);
	CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		CHECK(pi.family == AF_INET || pi.family == AF_INET6);
		CHECK(pi.family == AF_INET ? p[0] >> 4 == 4 : p[0] >> 4 == 6);
		alen = pi.family == AF_INET ? 4 : 16;
		CHECK(pi.src >= p && pi.src + alen <= p + size);
		CHECK(pi.dst >= p && pi.dst + alen <= p + size);
		CHECK(pi.len <= size);
		CHECK(pi.len >= (pi.family == AF_INET ? 20 : 40) || size > 0xffff);
		if (pi.proto != IPPROTO_TCP && pi.proto != IPPROTO_UDP &&
		    pi.proto != IPPROTO_ICMP && pi.proto != IPPROTO_ICMPV6)
			CHECK(pi.sport == 0 && pi.dport == 0);
		(void)pkt_link_scoped(&pi);
	}
	free(p);
	return 0;
}
