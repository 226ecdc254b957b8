/* libFuzzer target: the installer's ks.cfg parser on arbitrary bytes, and the first-boot settings it
 * writes from what it accepts. */
#include <stdint.h>

#include "ks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_config c;
	char err[256], conf[1024];

	if (ks_parse((const char *)data, size, &c, err, sizeof(err)) == 0)
		ks_firstboot_conf(&c, "$6$salt$hash", conf, sizeof(conf));
	return 0;
}
