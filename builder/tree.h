/* Folder trees: listing them in a stable order, and merging packages into one. */
#ifndef TREE_H
#define TREE_H

#include "util.h"

/* Append every entry under root, sorted, as paths relative to it ("bin", "bin/busybox"). 0 or -errno. */
int tree_list(const char *root, struct strv *out);
/* Copy the contents of from into to (cp -a from/. to), creating to. 0 or -EIO. */
int tree_merge(const char *from, const char *to);

#endif
