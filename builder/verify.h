/* Verifying a release (`imgbuild verify`): the release's files are taken apart into a "view" (a
 * folder per part: the ISO's files, its EFI partition, a disk's ESP and bank A, a bundle's entries
 * and its bank), the signatures and public keys a rebuild needs are gathered from the views, and
 * a rebuild is compared with the release: the whole file, then part by part to name the first
 * file that differs. The rebuild itself is imgbuild's one build (builder/image.h, .release). */
#ifndef VERIFY_H
#define VERIFY_H

struct diag;

enum verify_kind { VERIFY_ISO, VERIFY_IMG, VERIFY_BUNDLE };

/* What a release file is, by its name (.iso, .img, .bundle). -EINVAL when none. */
int verify_kind(const char *path, enum verify_kind *ret);
/* The extension of a kind: "iso", "img", "bundle". */
const char *verify_ext(enum verify_kind kind);

/* Take path apart into view (created): an ISO into files/ (xorriso), efi/ (its EFI partition,
 * mtools) and esp/ (the ESP of the disk image in its boot/install.cpio); a disk image into esp/
 * and bank-a/; a bundle into entries/ and bank/ (its bank image's files). 0 or -EIO with d. */
int verify_extract(const char *path, enum verify_kind kind, const char *view, struct diag *d);
/* Add what a rebuild takes from a view to release/ (what is there already stays): tree/ (the
 * image's files: boot.cfg.sig, MANIFEST.sig, keys/grub.gpg...), efi/, esp/, bundle/. The names
 * are those the builder asks for (builder/sign.h). 0 or -EIO with d. */
int verify_gather(const char *view, enum verify_kind kind, const char *release, struct diag *d);

/* How a release file differs from its rebuild: the part ("/boot/system.cpio", "bank.img:/MANIFEST")
 * and how ("differs at byte 4096 (2408448 bytes, the rebuild's too)", "is missing"...). */
struct verify_diff {
	char *part, *how;
	unsigned more; /* how many other parts differ too */
};
void verify_diff_free(struct verify_diff *v);

/* Compare release (taken apart into rview) with rebuilt, both of kind: 0 when identical; 1 with
 * *ret filled when not (the first part that differs: files before signatures, manifests and the
 * images holding them; the rebuilt file is taken apart into bview); -EIO with d when they cannot
 * be read. */
int verify_compare(const char *release, const char *rview, const char *rebuilt, const char *bview,
		   enum verify_kind kind, struct verify_diff *ret, struct diag *d);

#endif
