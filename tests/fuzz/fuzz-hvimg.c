/* libFuzzer target: the HVIMG1 header parser (bank images in bundles, the installer's image). */
#include <stdint.h>

#include "hvimg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hvimg h;
	const char *why;

	if (hvimg_parse(data, size, &h, &why) == 0)
		hvimg_free(&h);
	return 0;
}
