/* Sparse images: the extents of a file that hold data, packed for the installer (bootbank/hvimg.h)
 * or written to a device (`imgbuild write`). */
#ifndef EXTENTS_H
#define EXTENTS_H

#include <stddef.h>
#include <sys/types.h>

#include "hvimg.h"
#include "kv.h"

/* The data extents of fd (size bytes), from SEEK_DATA/SEEK_HOLE; *ret owned by the caller. */
size_t extents_list(int fd, off_t size, struct hvimg_extent **ret, unsigned long long *ret_bytes);
/* Pack image into out in the HVIMG1 format. 0 or -EIO with d. */
int extents_pack(const char *image, const char *out, struct diag *d);

#endif
