/* The keyring bankctl checks bundles against (signing/signing.h), and what verified bundles
 * teach it. Anchors come from the running image (/etc/keys in the initramfs GRUB verified) or,
 * with --disk, from the kept bank's keys/ (or --keyring); certificates learned from rotated
 * bundles and revocations carried by bundles live on the persist partition, in keys/. */
#ifndef TRUST_H
#define TRUST_H

#include "bootdisk.h"
#include "bundle.h"
#include "signing.h"

#define TRUST_IMAGE_DIR "/etc/keys"

struct trust_opts {
	int kept;              /* the bank whose keys/ anchor it with --disk */
	bool on_host;          /* anchors from TRUST_IMAGE_DIR instead */
	const char *keyring;   /* a PEM file of anchors that replaces both (NULL: none) */
};

/* Load anchors, learned certificates and revocations. *ret owned by the caller. */
int trust_load(const struct bootdisk *bd, const struct trust_opts *o, struct keyring **ret, struct diag *d);
/* Add the bundle's revocations to k (before its signature is checked: they only refuse more). */
void trust_add_revocations(struct keyring *k, const struct bundle_manifest *m);
/* Save what a verified bundle taught on the persist partition: the certificates of its chain
 * the keyring did not hold (in->new_certs), and its revocations. Writes nothing when there is
 * nothing new. */
int trust_save(const struct bootdisk *bd, const struct signing_info *in, const struct bundle_manifest *m,
	       struct diag *d);

#endif
