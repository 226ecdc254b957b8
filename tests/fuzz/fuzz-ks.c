/* libFuzzer target: the installer's ks.cfg parser on arbitrary bytes. */
#include <stdint.h>

#include "ks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_config c;
	char err[256];

	ks_parse((const char *)data, size, &c, err, sizeof(err));
	return 0;
}
