/* libFuzzer target: the HVIMG2 header parser (the installer's image, /boot/install.cpio). */
#include <stdint.h>

#include "hvimg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hvimg2 h;
	const char *why;

	if (hvimg2_parse(data, size, &h, &why) == 0) {
		/* What the installer relies on: every extent inside the disk, every file range inside its file. */
		for (size_t i = 0; i < h.img.n; i++)
			if (h.img.ext[i].offset + h.img.ext[i].length > h.img.disk_size ||
			    (h.src[i].file != HVIMG2_LITERAL && (h.src[i].file >= h.nfiles ||
			     h.src[i].file_offset + h.img.ext[i].length > h.file[h.src[i].file].size)))
				__builtin_trap();
		hvimg2_free(&h);
	}
	return 0;
}
