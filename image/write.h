/* `imgbuild write IMAGE TARGET`: put a disk image on a USB stick, SD card or disk, writing only
 * the blocks that hold data (as bmaptool does), then flushing and reading them back. */
#ifndef WRITE_H
#define WRITE_H

#include <stdbool.h>

#include "diag.h"
#include "progress.h"

struct write_opts {
	const char *image, *target;
	bool force;                     /* write even to a mounted device or the disk holding / */
	const struct progress *progress; /* "writing" and "verifying", in bytes (NULL: none) */
};

/* What was written. */
struct write_result {
	unsigned long long data_bytes;  /* the image's data, written and read back */
	unsigned long long image_bytes; /* the whole image, holes included */
	size_t extents;
};

/* Write o->image onto o->target. 0 with *ret filled, or -errno with d filled. */
int write_image(const struct write_opts *o, struct write_result *ret, struct diag *d);

#endif
