#define _GNU_SOURCE
#include "trust.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LEARNED "/keys/learned.pem"
#define REVOKED "/keys/revoked"

/* A keys file: from the running image, or a partition's FAT. -ENOENT when absent. */
static int read_keys(const struct bootdisk *bd, const struct bootdisk_part *p, const char *path, struct buf *out,
		     struct diag *d)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if (p)
		return bootdisk_read_file(bd, p, path, out, d);
	if ((r = util_read_file(path, &text, &len)) == 0)
		buf_add(out, text, len);
	free(text);
	return r == -ENOENT ? -ENOENT : r < 0 ? diag_set(d, path, 0, "cannot read: %s", strerror(-r)) : 0;
}

/* One keys file into k: PEM certificates (kind 0 anchors, 1 learned) or revocations (2). */
static int load_one(struct keyring *k, const struct bootdisk *bd, const struct bootdisk_part *p, const char *path,
		    int kind, bool required, struct diag *d)
{
	struct buf b = {0};
	char *name = p ? xasprintf("%s@%llu:%s", bd->path, p->offset, path) : xstrdup(path);
	int r = read_keys(bd, p, path, &b, d);

	if (r == -ENOENT && required)
		r = diag_set(d, name, 0, "no keyring; this image trusts no key, so it stages nothing (give --keyring)");
	else if (r == -ENOENT)
		r = 0;
	else if (r == 0 && kind < 2)
		r = signing_keyring_add_pem(k, b.data ? b.data : "", b.len, kind == 0, name, d);
	else if (r == 0)
		r = signing_keyring_revoke_list(k, b.data, name, d);
	buf_free(&b);
	free(name);
	return r;
}

int trust_load(const struct bootdisk *bd, const struct trust_opts *o, struct keyring **ret, struct diag *d)
{
	struct keyring *k = signing_keyring_new();
	const struct bootdisk_part *bank = o->on_host ? NULL : &bd->bank[o->kept];
	int r = o->keyring ? load_one(k, bd, NULL, o->keyring, 0, true, d)
			   : load_one(k, bd, bank, o->on_host ? TRUST_IMAGE_DIR "/trusted.pem" : "/keys/trusted.pem", 0,
				      true, d);

	if (r == 0 && !o->keyring)
		r = load_one(k, bd, bank, o->on_host ? TRUST_IMAGE_DIR "/revoked" : "/keys/revoked", 2, false, d);
	if (r == 0)
		r = load_one(k, bd, &bd->persist, LEARNED, 1, false, d);
	if (r == 0)
		r = load_one(k, bd, &bd->persist, REVOKED, 2, false, d);
	if (r < 0) {
		signing_keyring_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

void trust_add_revocations(struct keyring *k, const struct bundle_manifest *m)
{
	for (size_t i = 0; i < m->revoked.n; i++)
		signing_keyring_revoke(k, m->revoked.v[i]);
}

int trust_save(const struct bootdisk *bd, const struct signing_info *in, const struct bundle_manifest *m,
	       struct diag *d)
{
	struct buf learned = {0}, had = {0}, revoked = {0};
	struct keyring *all = signing_keyring_new();
	int r = 0;

	/* What is saved is what the persist partition held, and what this bundle adds. */
	if (bootdisk_read_file(bd, &bd->persist, LEARNED, &learned, d) < 0)
		buf_free(&learned);
	if (bootdisk_read_file(bd, &bd->persist, REVOKED, &had, d) == 0)
		signing_keyring_revoke_list(all, had.data, REVOKED, d);
	buf_free(&had);
	signing_keyring_revoked_text(all, &had);
	trust_add_revocations(all, m);
	signing_keyring_revoked_text(all, &revoked);
	if (in->new_certs.len > 0) {
		buf_add(&learned, in->new_certs.data, in->new_certs.len);
		r = bootdisk_write_file(bd, &bd->persist, LEARNED, learned.data, learned.len, d);
	}
	if (r == 0 && revoked.len != had.len)
		r = bootdisk_write_file(bd, &bd->persist, REVOKED, revoked.data ? revoked.data : "", revoked.len, d);
	signing_keyring_free(all);
	buf_free(&learned);
	buf_free(&had);
	buf_free(&revoked);
	return r;
}
