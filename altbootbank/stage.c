#define _GNU_SOURCE
#include "stage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "hash.h"
#include "trust.h"

static void progress(const char *what, unsigned long long done, unsigned long long total, bool on)
{
	if (on && ((done & ((1 << 20) - 1)) == 0 || done == total))
		util_progress_bar(what, done, total);
}

/* Refuse what must not be staged, before anything is written. */
static int check_bundle(const struct bundle_manifest *m, const struct bankinfo *cur, const struct stage_opts *o,
			struct diag *d)
{
	if (cur->product && strcmp(cur->product, m->product) != 0)
		return diag_set(d, o->bundle, 0, "the bundle is for '%s', this host runs '%s'; use a %s bundle",
				m->product, cur->product, cur->product);
	if (cur->version && !o->allow_downgrade && bundle_version_cmp(m->version, cur->version) < 0)
		return diag_set(d, o->bundle, 0, "version %s is older than the running %s; refusing a downgrade "
				"(pass --allow-downgrade to stage it anyway)", m->version, cur->version);
	return 0;
}

static int check_fits(const struct hvimg *h, const struct bootdisk_part *p, const struct stage_opts *o, struct diag *d)
{
	if (h->disk_size > p->size)
		return diag_set(d, o->bundle, 0, "the bank image (%.1f MiB) does not fit bank %c (%.1f MiB); this bundle "
				"is not for this disk layout", h->disk_size / 1048576.0, bank_letter(o->target),
				p->size / 1048576.0);
	return 0;
}

static char chunk[1 << 20];

/* Pass 1: read bank.img through and check every byte against the manifest. Nothing is written. */
static int verify_pass(const struct bootdisk_part *p, const struct stage_opts *o, struct diag *d)
{
	struct bundle_reader *br = NULL;
	struct hvimg h = {0};
	unsigned long long done = 0;
	int r = bundle_open(o->bundle, &br, d);

	if (r == 0)
		r = bundle_image_open(br, &h, d);
	if (r == 0)
		r = check_fits(&h, p, o, d);
	while (r == 0 && done < h.data_bytes) {
		size_t n = h.data_bytes - done < sizeof(chunk) ? (size_t)(h.data_bytes - done) : sizeof(chunk);
		r = bundle_image_read(br, chunk, n, d);
		done += n;
		progress("bankctl: verifying bundle", done, h.data_bytes, o->progress);
	}
	if (r == 0)
		r = bundle_image_close(br, d);
	hvimg_free(&h);
	bundle_close(br);
	return r;
}

/* Where a FAT boot sector keeps the volume serial: FAT12/16 at 39, FAT32 (no 16-bit FAT size) at 67. */
static size_t fat_serial_at(const unsigned char *boot)
{
	return (boot[22] | boot[23]) ? 39 : 67;
}

/* GRUB finds a bank by its FAT serial, which is the first 8 hex digits of the partition's UUID. */
static void patch_serial(unsigned char *buf, uint64_t off, size_t n, const char *uuid)
{
	unsigned long serial = strtoul((char[9]){uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], 0},
				       NULL, 16);

	if (off != 0 || n < 512)
		return;
	for (int i = 0; i < 4; i++)
		buf[fat_serial_at(buf) + (size_t)i] = (unsigned char)(serial >> (8 * i));
}

/* Pass 2: each extent of bank.img written to the bank as it streams; *ret_hex is the hash of
 * what went to the disk (the image with its serial patched), for the read-back. */
static int write_pass(const struct bootdisk *bd, const struct bootdisk_part *p, const struct stage_opts *o,
		      struct hvimg *h, char ret_hex[HASH_HEX_LEN], struct diag *d)
{
	struct bundle_reader *br = NULL;
	struct hasher disk;
	unsigned long long done = 0;
	int r = bundle_open(o->bundle, &br, d);

	hasher_init(&disk);
	if (r == 0)
		r = bundle_image_open(br, h, d);
	if (r == 0)
		r = check_fits(h, p, o, d);
	for (size_t i = 0; i < h->n && r == 0; i++)
		for (uint64_t at = 0; at < h->ext[i].length && r == 0;) {
			size_t n = h->ext[i].length - at < sizeof(chunk) ? (size_t)(h->ext[i].length - at) : sizeof(chunk);
			uint64_t off = h->ext[i].offset + at;
			if ((r = bundle_image_read(br, chunk, n, d)) < 0)
				break;
			patch_serial((unsigned char *)chunk, off, n, p->uuid);
			hasher_add(&disk, chunk, n);
			if (pwrite(bd->fd, chunk, n, (off_t)(p->offset + off)) != (ssize_t)n)
				r = diag_set(d, bd->path, 0, "writing the bank failed: %s; the bank stays marked empty",
					     strerror(errno));
			at += n;
			done += n;
			progress("bankctl: writing bank   ", done, h->data_bytes, o->progress);
		}
	/* The stream was checked in pass 1; checking again catches a bundle changed since. */
	if (r == 0)
		r = bundle_image_close(br, d);
	hasher_end(&disk, ret_hex);
	bundle_close(br);
	return r;
}

/* Flush, drop the cache (so that the disk answers, not the page cache), read back and compare. */
static int read_back(const struct bootdisk *bd, const struct bootdisk_part *p, const struct hvimg *h,
		     const char *want, bool prog, struct diag *d)
{
	char hex[HASH_HEX_LEN];
	struct hasher back;
	unsigned long long done = 0;

	if (fsync(bd->fd) < 0)
		return diag_set(d, bd->path, 0, "flushing the bank failed: %s; the bank stays marked empty", strerror(errno));
	posix_fadvise(bd->fd, (off_t)p->offset, (off_t)p->size, POSIX_FADV_DONTNEED);
	hasher_init(&back);
	for (size_t i = 0; i < h->n; i++)
		for (uint64_t at = 0; at < h->ext[i].length;) {
			size_t n = h->ext[i].length - at < sizeof(chunk) ? (size_t)(h->ext[i].length - at) : sizeof(chunk);
			if (pread(bd->fd, chunk, n, (off_t)(p->offset + h->ext[i].offset + at)) != (ssize_t)n)
				return diag_set(d, bd->path, 0, "reading the bank back failed: %s; the bank stays marked "
						"empty", strerror(errno));
			hasher_add(&back, chunk, n);
			at += n;
			done += n;
			progress("bankctl: reading back   ", done, h->data_bytes, prog);
		}
	hasher_end(&back, hex);
	if (strcmp(hex, want) != 0)
		return diag_set(d, bd->path, 0, "the bank did not read back as written; the disk may be failing, the bank "
				"stays marked empty");
	return 0;
}

/* The saved configuration of the kept bank, when it has one. */
static int fetch_state(const struct bootdisk *bd, const struct stage_opts *o, struct buf *ret, struct diag *d)
{
	return bootdisk_read_file(bd, &bd->bank[!o->target], "/state.tgz", ret, d);
}

static unsigned long newest_gen(const struct bank_env *e)
{
	return e->bank[0].gen > e->bank[1].gen ? e->bank[0].gen : e->bank[1].gen;
}

static int mark(const struct bootdisk *bd, struct bootstate *st, int bank, enum bank_state_kind s, unsigned tries,
		unsigned long gen, struct diag *d)
{
	struct bank_env e = st->env;

	e.bank[bank] = (struct bank){s, tries, gen};
	return bootstate_write(bd, st, &e, d);
}

static int stage_payload(struct bootdisk *bd, struct bootstate *st, const struct stage_opts *o,
			 const struct bundle_manifest *m, const struct signing_info *signer, struct diag *d)
{
	const struct bootdisk_part *p = &bd->bank[o->target];
	char hex[HASH_HEX_LEN];
	struct hvimg h = {0};
	struct buf saved = {0};
	bool state = o->keep->state;
	int r = verify_pass(p, o, d);

	if (r == 0 && state)
		r = fetch_state(bd, o, &saved, d);
	/* A verified bundle's new keys and revocations are kept whatever happens to the staging. */
	if (r == 0)
		r = trust_save(bd, signer, m, d);
	/* From here on the disk changes: first the bank is marked empty, so that GRUB never boots it half written. */
	if (r == 0 && st->env.bank[o->target].state != BANK_EMPTY)
		r = mark(bd, st, o->target, BANK_EMPTY, 0, st->env.bank[o->target].gen, d);
	if (r == 0)
		r = write_pass(bd, p, o, &h, hex, d);
	if (r == 0)
		r = read_back(bd, p, &h, hex, o->progress, d);
	if (r == 0 && state)
		r = bootdisk_write_file(bd, p, "/state.tgz", saved.data, saved.len, d);
	if (r == 0)
		r = mark(bd, st, o->target, BANK_TRIAL, BANK_TRIES, newest_gen(&st->env) + 1, d);
	if (r == 0)
		printf("bankctl: staged %s %s (build %s) into bank %c: %.1f MiB written and read back%s; it is tried on "
		       "the next boot (%d tries)\n", m->product, m->version, m->build_id, bank_letter(o->target),
		       h.data_bytes / 1048576.0, state ? ", saved configuration carried over" : "", BANK_TRIES);
	hvimg_free(&h);
	buf_free(&saved);
	return r;
}

/* The manifest's signature, before anything else: the bundle's revocations count already. */
static int verify_signer(struct bundle_reader *br, const struct stage_opts *o, struct signing_info *ret,
			 struct diag *d)
{
	int r;

	trust_add_revocations(o->keyring, bundle_get_manifest(br));
	r = bundle_verify_signature(br, o->keyring, ret, d);
	if (r == 0)
		printf("bankctl: signed by '%s' (sha256 %.16s...)%s\n", ret->subject, ret->fingerprint,
		       ret->chained ? ", a key certified by a trusted key: trusted from now on" : "");
	return r;
}

int stage_run(struct bootdisk *bd, struct bootstate *st, const struct stage_opts *o, struct diag *d)
{
	struct bundle_reader *br = NULL;
	struct signing_info signer = {0};
	int r = bundle_open(o->bundle, &br, d);

	if (r == 0)
		r = verify_signer(br, o, &signer, d);
	if (r == 0)
		r = check_bundle(bundle_get_manifest(br), o->keep, o, d);
	if (r == 0)
		r = stage_payload(bd, st, o, bundle_get_manifest(br), &signer, d);
	buf_free(&signer.new_certs);
	bundle_close(br);
	return r;
}
