/* libFuzzer target: vmm's VM configuration parser (vmm/config.c) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[CONFIG_ERR_LEN];

	config_init(&c);
	config_parse(&c, (const char *)data, size, "fuzz.cfg", "/vms", err, sizeof(err));
	config_free(&c);
	return 0;
}
