/* libFuzzer target: the image profile parser (and the image's bootloader check) on arbitrary bytes. */
#include <stdint.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = NULL;
	struct diag d;

	if (profile_parse("fuzz.image", (const char *)data, size, &p, &d) == 0) {
		profile_check_bootable(p, &d);
		profile_free(p);
	}
	return 0;
}
