/* libFuzzer target: the update bundle's manifest parser on arbitrary bytes. */
#include <stdint.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle_manifest m;
	struct diag d;

	if (bundle_manifest_parse("bundle.manifest", (const char *)data, size, &m, &d) == 0)
		bundle_manifest_free(&m);
	return 0;
}
