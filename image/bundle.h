/*
 * Update bundles: one file holding a bank's payload and a manifest that describes it.
 *
 * A bundle is a POSIX tar (made and read with libarchive, uncompressed: the payload is
 * compressed already) whose entries come in this order:
 *
 *   bundle.manifest       what the bundle is, the bank image's sha256, and every file in it
 *   bundle.manifest.sig   the manifest's signature (the signing chain; absent until then)
 *   bank.img              the bank's FAT file system, as written to a bank partition, packed
 *                         as its data extents (image/hvimg.h: ~12 MiB of a 100 MiB bank)
 *
 * bundle.manifest reads:
 *
 *   format = 1
 *   product = hypervisor
 *   version = 1.2.0
 *   build-id = 3f5c0d1e9a7b2c44
 *   source-date-epoch = 1700000000
 *   image = <sha256> <size> bank.img
 *   file = <sha256> <size> boot/vmlinuz
 *   ...
 *   revoke = <sha256 fingerprint of a certificate>    (any number: revocations travel in bundles)
 *
 * bundle.manifest.sig is a detached CMS signature of the manifest's bytes (signing/signing.h);
 * bankctl refuses a bundle without one, or whose signer its keyring does not trust.
 *
 * The manifest comes first so that a reader knows, before it reads any payload, what the
 * bundle must hold; every byte of bank.img is checked against it as it streams. The file
 * lines say what the bank image holds (the bank's files, as GRUB and init read them).
 * Staging writes the image as it is, with only the FAT serial changed to the target bank's.
 */
#ifndef BUNDLE_H
#define BUNDLE_H

#include <stdbool.h>

#include "hash.h"
#include "hvimg.h"
#include "kv.h"
#include "signing.h"

#define BUNDLE_FORMAT 1
#define BUNDLE_MANIFEST "bundle.manifest"
#define BUNDLE_SIGNATURE "bundle.manifest.sig"
#define BUNDLE_IMAGE "bank.img"
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
	char image_sha256[65];           /* bank.img, packed as it is in the bundle */
	unsigned long long image_size;
	struct strv revoked;             /* fingerprints the bundle revokes */
};

/* Parse manifest text; name labels messages ("bundle.manifest:4: ..."). -EINVAL and d on error. */
int bundle_manifest_parse(const char *name, const char *text, size_t len, struct bundle_manifest *ret,
			  struct diag *d);
/* Free the manifest's fields (not the struct). */
void bundle_manifest_free(struct bundle_manifest *m);
/* Compare versions made of dot-separated numbers ("1.10.0" > "1.9.2"): <0, 0, >0. */
int bundle_version_cmp(const char *a, const char *b);

struct bundle_reader;
/* Open a bundle ("-": standard input) and read its manifest (and signature, if any). A bundle
 * file is mapped whole and read in place (bundle_mapped). -EINVAL and d on error. */
int bundle_open(const char *path, struct bundle_reader **ret, struct diag *d);
/* Whether b is a file mapped in memory: bundle_image_view() can hand out bank.img in place, and
 * the mapping stays until bundle_close(). A file truncated while mapped raises SIGBUS where its
 * lost pages are read: a program that reads them says so in a handler (bankctl does), or reads
 * them with bundle_view_read() instead. */
bool bundle_mapped(const struct bundle_reader *b);
/* The n bytes of the mapped file at at (a pointer into the mapping) read into buf with pread(),
 * not through the mapping: a copy of one's own, which a writer of the file no longer changes,
 * and a file cut short is an error (-EIO with d), not SIGBUS. */
int bundle_view_read(const struct bundle_reader *b, const void *at, void *buf, size_t n, struct diag *d);
/* The manifest of an open bundle. */
const struct bundle_manifest *bundle_get_manifest(const struct bundle_reader *b);
/* Check the manifest's signature against the keyring; who signed into *ret (free its
 * new_certs). -EBADMSG with d when unsigned, untrusted or altered. */
int bundle_verify_signature(const struct bundle_reader *b, const struct keyring *k, struct signing_info *ret,
			    struct diag *d);
/* Start reading bank.img (the entry after the manifest and signature): its header into *ret
 * (owned by the caller: hvimg_free). -EINVAL with d when it is missing or not an image. */
int bundle_image_open(struct bundle_reader *b, struct hvimg *ret, struct diag *d);
/* The next n bytes of bank.img's data (the extents' bytes in order). -EIO with d when short. */
int bundle_image_read(struct bundle_reader *b, void *buf, size_t n, struct diag *d);
/* After the last byte: check bank.img's size and sha256 against the manifest, and that nothing
 * follows it. -EINVAL with d when they do not match: the bundle is damaged or was altered. */
int bundle_image_close(struct bundle_reader *b, struct diag *d);
/* bundle_image_open(), with bank.img's sha256 left to the caller, who finds the data bytes
 * elsewhere: staging hashes them as read back from the bank it wrote them to, so that one hash
 * proves both the bundle and the disk. *ret_hash is started here with the image's header (the
 * caller adds the data bytes in order, then ends it with bundle_image_check(), or with
 * hasher_end() when it gives up); bundle_image_read() does not hash, and bundle_image_close()
 * checks the size and what follows only. */
int bundle_image_open_deferred(struct bundle_reader *b, struct hvimg *ret, struct hasher *ret_hash, struct diag *d);
/* bank.img of a mapped bundle, in place: its header into *ret (owned by the caller: hvimg_free)
 * and all its bytes, header then data (the manifest's image size), at *ret_bytes until
 * bundle_close(). Nothing is hashed: the caller hashes the bytes and checks them with
 * bundle_image_check(); bundle_image_close() then checks what follows. -ENOTSUP when b is not
 * mapped; -EINVAL with d when bank.img is missing, of another size or not an image. */
int bundle_image_view(struct bundle_reader *b, struct hvimg *ret, const unsigned char **ret_bytes, struct diag *d);
/* End h and compare it with the manifest's sha256 of bank.img; where says where the data was
 * found (" as read back from bank B"). -EINVAL with d when they differ. */
int bundle_image_check(const struct bundle_reader *b, struct hasher *h, const char *where, struct diag *d);
/* Close a bundle; accepts NULL. */
void bundle_close(struct bundle_reader *b);

struct bundle_identity {
	const char *product, *version, *build_id;
	long long epoch;
};

/* Write a bundle: the bank image packed as HVIMG1 (image), and the manifest listing it, the
 * files it holds (paths relative to root, hashed from there) and the revocations, signed by
 * signer (NULL: unsigned, for tests of what bankctl refuses). */
int bundle_write(const char *out, const char *image, const char *root, const char *const *files, size_t nfiles,
		 const struct bundle_identity *id, const struct strv *revoked, const struct signer *signer,
		 struct diag *d);

#endif
