/* Signing what the boot loaders read (docs/signing.md): OpenPGP detached signatures that GRUB checks
 * (check_signatures=enforce, its public key built into every core image), and UEFI Secure Boot
 * signatures (sbsign) on the EFI GRUB and the kernel, checked by the firmware against db. */
#ifndef SIGN_H
#define SIGN_H

#include "hash.h"
#include "progress.h"
#include "util.h"

struct diag;

/* What a GRUB core needs to check signatures itself: nothing may be loaded from disk unsigned. */
#define GRUB_SIGNING_MODULES "pgp", "gcry_rsa", "gcry_sha1", "gcry_sha256", "gcry_sha512"
/* The first line of every core's embedded config: from here on GRUB reads only signed files. */
#define GRUB_ENFORCE "set check_signatures=enforce\n"

struct sign_keys {
	char *gnupghome;  /* --homedir for gpg; NULL: gpg's own (GNUPGHOME or ~/.gnupg) */
	char *gpg_key;    /* what --local-user names: a fingerprint or key id */
	char *pubkey;     /* the exported public key, for grub-mkimage --pubkey (public: kept in out/keys) */
	char *sb_key;     /* the db signing key and certificate, for sbsign */
	char *sb_cert;
	char *db_der;     /* the db certificate as firmware enrolls it (DER; public) */
	char *release;    /* verifying (builder/verify.h): the release's files; signatures are taken
			   * from there instead of made, and no private key is used */
	struct strv notes; /* verifying: signatures the release lacked, programs that differed */
	int dev;          /* the development keys made in out/keys (not for shipping) */
	long long not_before; /* the newest creation time of the key and its subkeys: gpg signs no earlier */
	char id[HASH_HEX_LEN]; /* sha256 of the public key and the db certificate: part of the image key */
};

/*
 * The keys a build signs with (making development keys is said through progress, which may be NULL). GRUB_SIGNING_KEY (a gpg key id, with GNUPGHOME as gpg reads it, which
 * may be a smartcard) and SB_DB_KEY/SB_DB_CERT name production keys, which are never copied into
 * out/. Without them, development keys are made once in OUT/keys/ (no passphrase, insecure).
 * The public key and the db certificate are written to OUT/keys/public/. 0, or -EINVAL with d set.
 */
int sign_keys_init(struct sign_keys *k, const char *out, const struct progress *progress, struct diag *d);
/* The keys of a rebuild that verifies a release: the public ones the release carries
 * (release/tree/keys/grub.gpg and db.der, which the image embeds), no private key. 0, or
 * -ENOENT with d set when the release has no public key. */
int sign_keys_init_release(struct sign_keys *k, const char *release, struct diag *d);
void sign_keys_free(struct sign_keys *k);
/* Stop the gpg-agent signing with the development key started (a production agent is left). */
void sign_agent_stop(const struct sign_keys *k);
/* FILE.sig: a detached OpenPGP signature of FILE dated epoch, or the key's creation if that is later
 * (the same bytes for the same input and key). name is the file's name in a release
 * ("tree/boot.cfg", "esp/grub/grub.cfg"): when verifying, FILE.sig is a copy of the release's
 * name.sig (empty, with a note, when the release lacks it). */
int sign_gpg(struct sign_keys *k, const char *file, const char *name, long long epoch, const char *log,
	     struct diag *d);
/* Replace any Authenticode signature of the EFI binary FILE by one made with the db key, dated epoch.
 * When verifying: FILE becomes the release's signed name if that, without its signature, is FILE;
 * otherwise FILE stays unsigned and a note says why. */
int sign_efi(struct sign_keys *k, const char *file, const char *name, long long epoch, const char *log,
	     struct diag *d);

#endif
