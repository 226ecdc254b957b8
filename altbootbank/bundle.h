/*
 * Update bundles: one file holding a bank's payload and a manifest that describes it.
 *
 * A bundle is a POSIX tar (made and read with libarchive, uncompressed: the payload is
 * compressed already) whose entries come in this order:
 *
 *   bundle.manifest       what the bundle is and every payload file with its sha256
 *   bundle.manifest.sig   the manifest's signature (the signing chain; absent until then)
 *   payload/<path>        each file the manifest lists, in the manifest's order
 *
 * bundle.manifest reads:
 *
 *   format = 1
 *   product = hypervisor
 *   version = 1.2.0
 *   build-id = 3f5c0d1e9a7b2c44
 *   source-date-epoch = 1700000000
 *   file = <sha256> <size> boot/vmlinuz
 *   ...
 *
 * The manifest comes first so that a reader knows, before it reads any payload, what the
 * bundle must hold; every payload byte is checked against it as it streams.
 */
#ifndef BUNDLE_H
#define BUNDLE_H

#include "kv.h"

#define BUNDLE_FORMAT 1
#define BUNDLE_MANIFEST "bundle.manifest"
#define BUNDLE_SIGNATURE "bundle.manifest.sig"
#define BUNDLE_MANIFEST_MAX (1 << 20)

struct bundle_file {
	char *path;                 /* relative to the bank's root, e.g. "boot/vmlinuz" */
	char sha256[65];
	unsigned long long size;
};

struct bundle_manifest {
	char *product, *version, *build_id;
	long long epoch;
	struct bundle_file *files;
	size_t nfiles;
	unsigned long long payload_size; /* the sum of the files' sizes */
};

/* Parse manifest text; name labels messages ("bundle.manifest:4: ..."). -EINVAL and d on error. */
int bundle_manifest_parse(const char *name, const char *text, size_t len, struct bundle_manifest *ret,
			  struct diag *d);
/* Free the manifest's fields (not the struct). */
void bundle_manifest_free(struct bundle_manifest *m);
/* Compare versions made of dot-separated numbers ("1.10.0" > "1.9.2"): <0, 0, >0. */
int bundle_version_cmp(const char *a, const char *b);

struct bundle_reader;
/* Open a bundle and read its manifest (and signature, if any). -EINVAL and d on error. */
int bundle_open(const char *path, struct bundle_reader **ret, struct diag *d);
/* The manifest of an open bundle. */
const struct bundle_manifest *bundle_get_manifest(const struct bundle_reader *b);
/* Unpack every payload file under dir, checking each one's size and sha256 as it streams;
 * a missing, extra, reordered or altered file is an error. progress (may be NULL) is called
 * with the bytes done so far. */
int bundle_extract(struct bundle_reader *b, const char *dir,
		   void (*progress)(unsigned long long done, unsigned long long total, void *ctx), void *ctx,
		   struct diag *d);
/* Close a bundle; accepts NULL. */
void bundle_close(struct bundle_reader *b);

/* Write a bundle of the files (paths relative to root) with the given identity. */
int bundle_write(const char *out, const char *root, const char *const *files, size_t nfiles, const char *product,
		 const char *version, const char *build_id, long long epoch, struct diag *d);

#endif
