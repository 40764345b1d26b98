/* libFuzzer target: the shoot spec parser (libyaml underneath) on any
 * bytes. It must refuse or accept without crashing, and an error must be
 * one line naming the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/spec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shoot_spec s;
	char err[512];

	memset(&s, 0, sizeof(s));
	err[0] = '\0';
	if (spec_parse((const char *)data, size, "fuzz.yaml", &s, err, sizeof(err))) {
		if (strncmp(err, "fuzz.yaml", 9) || strchr(err, '\n'))
			abort();
	}
	return 0;
}
