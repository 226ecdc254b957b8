/* `imgbuild write IMAGE TARGET`: put a disk image on a USB stick, SD card or disk, writing only
 * the blocks that hold data (as bmaptool does), then flushing and reading them back. */
#ifndef WRITE_H
#define WRITE_H

#include <stdbool.h>

#include "kv.h"

struct write_opts {
	const char *image, *target;
	bool force;     /* write even to a mounted device or the disk holding / */
	bool progress;
};

/* 0, or -EINVAL/-EIO with d filled. */
int write_image(const struct write_opts *o, struct diag *d);

#endif
