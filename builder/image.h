/* Assembling an image from packages: initramfs, system payload, boot.cfg, manifest, and the
 * hybrid BIOS/UEFI ISO (docs/building.md). */
#ifndef IMAGE_H
#define IMAGE_H

#include "signing.h"
#include "build.h"
#include "profile.h"
#include "progress.h"

struct image_opts {
	const char *out;       /* output folder */
	const char *version;   /* the image version */
	long long epoch;       /* SOURCE_DATE_EPOCH */
	const struct progress *progress; /* notes: "X is up to date", the ISO made, a key made; may be NULL */
	const struct signer *signer; /* signs MANIFEST and the bundle's manifest */
	char *trusted;         /* PEM: the certificates the image trusts (its keyring) */
	struct strv revoked;   /* fingerprints it revokes */
	const char *release;   /* verifying a release: its extracted files (builder/verify.h); the
				* signatures and public keys come from there, no private key is used */
	struct strv *notes;    /* verifying: what the rebuild could not take from the release */
};

/* Build out/<name>-<version>.iso from the profile's packages (already built). Skips the work
 * when nothing that goes into the image changed. 0, or -EINVAL with d filled (no ISO left). */
int image_build(const struct image_opts *o, const struct profile *p, struct build *b, struct diag *d);
/* The path of the ISO the profile makes; owned by the caller. */
char *image_iso_path(const struct image_opts *o, const struct profile *p);

#endif
