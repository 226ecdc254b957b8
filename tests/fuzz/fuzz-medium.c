/* libFuzzer target: the payload cpio's header (lib/medium.h), which init reads from the boot
 * medium before anything on it is checked. The data it names must lie after the header. */
#include <stdint.h>
#include <stdlib.h>

#include "medium.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t off, len;

	if (medium_cpio_member(data, size, MEDIUM_PAYLOAD_MEMBER, &off, &len) == 0 &&
	    (off < 110 + sizeof(MEDIUM_PAYLOAD_MEMBER) || off % 4 != 0))
		abort();
	return 0;
}
