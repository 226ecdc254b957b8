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
#include "extents.h"
#include "hash.h"
#include "trust.h"

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

/* Whether the bundle can be opened again (a file): else ("-", a pipe, a socket) it is staged in
 * one pass as it streams. */
static bool bundle_rereadable(const char *path)
{
	struct stat st;

	return strcmp(path, "-") != 0 && stat(path, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
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
		progress_step(o->progress, "verifying bundle", done, h.data_bytes);
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

/* bank.img's data as the source of extents_write(): streamed from the bundle, which is opened
 * again for the read-back (and checked against the manifest again, so that a bundle changed
 * between the passes is caught). */
struct bundle_source {
	const struct stage_opts *o;
	const char *uuid;        /* the target partition's: its FAT serial */
	struct bundle_reader *br;
	struct hvimg h;
	struct diag *d;
};

static int source_open(struct bundle_source *s, struct hvimg *ret)
{
	int r;

	bundle_close(s->br);
	s->br = NULL;
	r = bundle_open(s->o->bundle, &s->br, s->d);
	if (r == 0)
		r = bundle_image_open(s->br, ret, s->d);
	return r;
}

static int source_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct bundle_source *s = ctx;

	(void)off;
	return bundle_image_read(s->br, buf, n, s->d);
}

/* extents_write() keeps walking the first header's extents: the bundle read again must have the
 * same ones. */
static int source_rewind(void *ctx)
{
	struct bundle_source *s = ctx;
	struct hvimg again = {0};
	int r = bundle_image_close(s->br, s->d);

	if (r == 0)
		r = source_open(s, &again);
	if (r == 0 && (again.n != s->h.n || memcmp(again.ext, s->h.ext, s->h.n * sizeof(*again.ext)) != 0))
		r = diag_set(s->d, s->o->bundle, 0, "the bundle changed while it was being staged; stage it again");
	hvimg_free(&again);
	return r;
}

static void source_patch(void *ctx, void *buf, size_t n, uint64_t off)
{
	patch_serial(buf, off, n, ((struct bundle_source *)ctx)->uuid);
}

static int write_fail(const struct bootdisk *bd, enum extents_step step, int r, struct diag *d)
{
	if (step == EXTENTS_SOURCE)
		return r; /* the bundle reader said what is wrong */
	if (step == EXTENTS_MISMATCH)
		return diag_set(d, bd->path, 0, "the bank did not read back as written; the disk may be failing, the bank "
				"stays marked empty");
	return diag_set_errno(d, -r, bd->path, 0, "%s the bank failed; the bank stays marked empty",
			      step == EXTENTS_WRITE ? "writing" : step == EXTENTS_FLUSH ? "flushing" : "reading back");
}

/* extents_write()'s phases as bankctl has always named them: "writing bank", "reading back". */
struct phase_names {
	const struct progress *to;
};

static void phase_step(void *ctx, const char *phase, unsigned long long done, unsigned long long total)
{
	const struct phase_names *pn = ctx;

	progress_step(pn->to, strcmp(phase, "writing") == 0 ? "writing bank" : "reading back", done, total);
}

/* Pass 2 and 3: bank.img's extents written into the bank as they stream, flushed, read back and
 * compared with the bundle read once more. */
static int write_bank(const struct bootdisk *bd, const struct bootdisk_part *p, const struct stage_opts *o,
		      unsigned long long *ret_bytes, struct diag *d)
{
	struct bundle_source s = {.o = o, .uuid = p->uuid, .d = d};
	struct extents_source src = {source_read, source_rewind, source_patch, &s, NULL};
	struct phase_names pn = {o->progress};
	struct progress named = {phase_step, NULL, &pn};
	enum extents_step step = 0;
	int r = source_open(&s, &s.h);

	if (r == 0)
		r = check_fits(&s.h, p, o, d);
	if (r == 0 && (r = extents_write(bd->fd, p->offset, s.h.ext, s.h.n, &src, &named, &step)) < 0)
		r = write_fail(bd, step, r, d);
	if (r == 0)
		r = bundle_image_close(s.br, d);
	if (r == 0)
		*ret_bytes = s.h.data_bytes;
	hvimg_free(&s.h);
	bundle_close(s.br);
	return r;
}

/* A bundle read only once (a pipe: `bankctl stage -`): bank.img's extents written as they
 * stream from the reader that checked the signature, hashed as written (FAT serial patched in),
 * flushed, read back from the disk and hashed again; the two hashes must agree, and the
 * bundle's own sha256 the manifest's. The bank was marked empty before, so a bundle found
 * damaged at its end leaves an empty bank, never a half-written one that GRUB would try. */
struct once_source {
	const char *uuid;
	struct bundle_reader *br;
	struct diag *d;
	struct hasher written, back;
};

static int once_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct once_source *s = ctx;

	(void)off;
	return bundle_image_read(s->br, buf, n, s->d);
}

static void once_patch(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct once_source *s = ctx;

	patch_serial(buf, off, n, s->uuid);
	hasher_add(&s->written, buf, n);
}

static int once_readback(void *ctx, const void *buf, size_t n, uint64_t off)
{
	(void)off;
	hasher_add(&((struct once_source *)ctx)->back, buf, n);
	return 0;
}

static void once_discard(struct once_source *s)
{
	char hex[HASH_HEX_LEN];

	hasher_end(&s->written, hex);
	hasher_end(&s->back, hex);
}

/* The two hashes of a once-read write: 0 when they agree, else -EIO with d. */
static int once_compare(const struct bootdisk *bd, struct once_source *s, struct diag *d)
{
	char w[HASH_HEX_LEN], b[HASH_HEX_LEN];
	int rw = hasher_end(&s->written, w), rb = hasher_end(&s->back, b);

	if (rw < 0 || rb < 0)
		return diag_set_errno(d, -(rw < 0 ? rw : rb), bd->path, 0, "cannot hash the bank's bytes; free some memory "
				      "and stage again");
	if (strcmp(w, b) != 0)
		return diag_set_errno(d, EIO, bd->path, 0, "the bank did not read back as written; the disk may be failing, "
				      "the bank stays marked empty");
	return 0;
}

static int write_bank_once(const struct bootdisk *bd, const struct bootdisk_part *p, const struct stage_opts *o,
			   struct bundle_reader *br, unsigned long long *ret_bytes, struct diag *d)
{
	struct once_source s = {.uuid = p->uuid, .br = br, .d = d};
	struct extents_source src = {once_read, NULL, once_patch, &s, once_readback};
	struct phase_names pn = {o->progress};
	struct progress named = {phase_step, NULL, &pn};
	enum extents_step step = 0;
	struct hvimg h = {0};
	int r = bundle_image_open(br, &h, d);

	hasher_init(&s.written);
	hasher_init(&s.back);
	if (r == 0)
		r = check_fits(&h, p, o, d);
	if (r == 0 && (r = extents_write(bd->fd, p->offset, h.ext, h.n, &src, &named, &step)) < 0)
		r = write_fail(bd, step, r, d);
	if (r == 0)
		r = bundle_image_close(br, d);
	if (r == 0)
		r = once_compare(bd, &s, d);
	else
		once_discard(&s);
	if (r == 0)
		*ret_bytes = h.data_bytes;
	hvimg_free(&h);
	return r;
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

static int mark(const struct bootdisk *bd, const struct bootstate_copies *c, struct bootstate *st, int bank,
		enum bank_state_kind s, unsigned tries, unsigned long gen, struct diag *d)
{
	struct bank_env e = st->env;

	e.bank[bank] = (struct bank){s, tries, gen};
	return bootdisk_state_commit(bd, c, st, &e, d);
}

static int stage_payload(struct bootdisk *bd, const struct bootstate_copies *c, struct bootstate *st,
			 const struct stage_opts *o, struct bundle_reader *br, const struct signing_info *signer,
			 struct diag *d)
{
	const struct bundle_manifest *m = bundle_get_manifest(br);
	const struct bootdisk_part *p = &bd->bank[o->target];
	unsigned long long bytes = 0;
	struct buf saved = {0};
	bool state = o->keep->state, once = !bundle_rereadable(o->bundle);
	int r = once ? 0 : verify_pass(p, o, d);

	if (r == 0 && state)
		r = fetch_state(bd, o, &saved, d);
	/* A verified bundle's new keys and revocations are kept whatever happens to the staging (read
	 * once, the bundle is verified whole only at its end). */
	if (r == 0 && !once)
		r = trust_save(bd, signer, m, d);
	/* From here on the disk changes: first the bank is marked empty, so that GRUB never boots it half written. */
	if (r == 0 && st->env.bank[o->target].state != BANK_EMPTY)
		r = mark(bd, c, st, o->target, BANK_EMPTY, 0, st->env.bank[o->target].gen, d);
	if (r == 0)
		r = once ? write_bank_once(bd, p, o, br, &bytes, d) : write_bank(bd, p, o, &bytes, d);
	if (r == 0 && once)
		r = trust_save(bd, signer, m, d);
	if (r == 0 && state)
		r = bootdisk_write_file(bd, p, "/state.tgz", saved.data, saved.len, d);
	if (r == 0)
		r = mark(bd, c, st, o->target, BANK_TRIAL, BANK_TRIES, newest_gen(&st->env) + 1, d);
	if (r == 0)
		progress_note(o->progress, "staged %s %s (build %s) into bank %c: %.1f MiB written and read back%s; it is "
			      "tried on the next boot (%d tries)", m->product, m->version, m->build_id,
			      bank_letter(o->target), bytes / 1048576.0, state ? ", saved configuration carried over" : "",
			      BANK_TRIES);
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
		progress_note(o->progress, "signed by '%s' (sha256 %.16s...)%s", ret->subject, ret->fingerprint,
			      ret->chained ? ", a key certified by a trusted key: trusted from now on" : "");
	return r;
}

int stage_run(struct bootdisk *bd, const struct bootstate_copies *c, struct bootstate *st, const struct stage_opts *o,
	      struct diag *d)
{
	struct bundle_reader *br = NULL;
	struct signing_info signer = {0};
	int r = bundle_open(o->bundle, &br, d);

	if (r == 0)
		r = verify_signer(br, o, &signer, d);
	if (r == 0)
		r = check_bundle(bundle_get_manifest(br), o->keep, o, d);
	if (r == 0)
		r = stage_payload(bd, c, st, o, br, &signer, d);
	buf_free(&signer.new_certs);
	bundle_close(br);
	return r;
}
