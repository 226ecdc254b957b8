/* Packages: a component's files as a zstd-compressed tar made with libarchive. The first entry,
 * .PKGINFO, names the package and lists every file with its type, mode and sha256:
 *
 *   name = busybox
 *   version = 1.35.0
 *   key = 3f5c...        (the build key: what went into the package)
 *   d 0755 - /bin
 *   f 0755 9a0e...c1 /bin/busybox
 *   l 0777 busybox /bin/sh
 *
 * Owners are root, times are 0: a package depends only on its files. */
#ifndef PKG_H
#define PKG_H

#include "kv.h"

/* Write root's tree as package out (via a temporary and a rename). 0, or -errno with d filled. */
int pkg_create(const char *root, const char *name, const char *version, const char *key,
	       const char *out, struct diag *d);
/* Unpack package pkg into dest (created), refusing absolute paths and '..'. 0 or -errno with d. */
int pkg_extract(const char *pkg, const char *dest, struct diag *d);
/* Read a package's .PKGINFO text into *ret (owned by the caller). 0 or -errno with d. */
int pkg_read_info(const char *pkg, char **ret, struct diag *d);

struct archive;
/* Write a file's bytes as the data of the archive's current entry. 0 or -errno. */
int pkg_write_file(struct archive *a, const char *path);

#endif
