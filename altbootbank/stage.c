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
#include "worker.h"

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

static char chunk[2][1 << 20];

static int hash_piece(void *ctx, const void *p, size_t n, uint64_t off)
{
	(void)off;
	hasher_add(ctx, p, n);
	return 0;
}

/* Pass 1 of a bundle file: read bank.img through and check every byte against the manifest.
 * Nothing is written, so that a damaged bundle leaves both banks as they were. Each piece is
 * hashed in a second thread while the next is read (lib/worker.h), the two buffers in turn. */
static int verify_pass(struct bundle_reader *br, const struct bootdisk_part *p, const struct stage_opts *o,
		       struct diag *d)
{
	struct hvimg h = {0};
	struct hasher hash;
	struct worker w = {0};
	unsigned long long done = 0;
	int r = bundle_image_open_deferred(br, &h, &hash, d);

	if (r == 0)
		r = check_fits(&h, p, o, d);
	for (int i = 0; r == 0 && done < h.data_bytes; i = !i) {
		size_t n = h.data_bytes - done < sizeof(chunk[i]) ? (size_t)(h.data_bytes - done) : sizeof(chunk[i]);
		if ((r = bundle_image_read(br, chunk[i], n, d)) == 0)
			worker_start(&w, hash_piece, &hash, chunk[i], n, done);
		done += n;
		progress_step(o->progress, "verifying bundle", done, h.data_bytes);
	}
	worker_wait(&w);
	if (r == 0)
		r = bundle_image_close(br, d);
	if (r == 0)
		r = bundle_image_check(br, &hash, NULL, d);
	else
		hasher_end(&hash, (char[HASH_HEX_LEN]){0});
	hvimg_free(&h);
	return r;
}

/* Where a FAT boot sector keeps the volume serial: FAT12/16 at 39, FAT32 (no 16-bit FAT size) at 67. */
static size_t fat_serial_at(const unsigned char *boot)
{
	return (boot[22] | boot[23]) ? 39 : 67;
}

/* bank.img's data as the source of extents_write(): streamed from the bundle with the target's
 * FAT serial patched in (GRUB finds a bank by its FAT serial, the first 8 hex digits of the
 * partition's UUID), and read back from the disk into a SHA-256 with the image's own serial put
 * back: that hash must be the manifest's, so one hash proves that the bank holds exactly the
 * signed image (a bundle damaged on its way, a file changed between the passes, and a disk that
 * did not keep the bytes are all caught there). */
struct image_source {
	const char *uuid;
	struct bundle_reader *br;
	struct diag *d;
	struct hasher back;
	unsigned char serial[4];  /* the image's own serial bytes, at serial_at of the first sector */
	size_t serial_at;         /* 0: nothing patched */
};

static int source_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct image_source *s = ctx;

	(void)off;
	return bundle_image_read(s->br, buf, n, s->d);
}

static void source_patch(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct image_source *s = ctx;
	unsigned char *b = buf;
	unsigned long serial = strtoul((char[9]){s->uuid[0], s->uuid[1], s->uuid[2], s->uuid[3], s->uuid[4], s->uuid[5],
						 s->uuid[6], s->uuid[7], 0}, NULL, 16);

	if (off != 0 || n < 512)
		return;
	s->serial_at = fat_serial_at(b);
	memcpy(s->serial, b + s->serial_at, sizeof(s->serial));
	for (int i = 0; i < 4; i++)
		b[s->serial_at + (size_t)i] = (unsigned char)(serial >> (8 * i));
}

static int source_readback(void *ctx, const void *buf, size_t n, uint64_t off)
{
	struct image_source *s = ctx;
	const unsigned char *b = buf;

	if (off != 0 || !s->serial_at || n < s->serial_at + sizeof(s->serial)) {
		hasher_add(&s->back, b, n);
		return 0;
	}
	hasher_add(&s->back, b, s->serial_at);
	hasher_add(&s->back, s->serial, sizeof(s->serial));
	hasher_add(&s->back, b + s->serial_at + sizeof(s->serial), n - s->serial_at - sizeof(s->serial));
	return 0;
}

static int write_fail(const struct bootdisk *bd, enum extents_step step, int r, struct diag *d)
{
	if (step == EXTENTS_SOURCE)
		return r; /* the bundle reader said what is wrong */
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

/* bank.img's extents written into the bank as they stream from br, flushed, read back from the
 * disk and hashed (struct image_source). The bank was marked empty before, so a bundle found
 * damaged at its end leaves an empty bank, never a half-written one that GRUB would try. */
static int write_bank(const struct bootdisk *bd, const struct bootdisk_part *p, const struct stage_opts *o,
		      struct bundle_reader *br, unsigned long long *ret_bytes, struct diag *d)
{
	struct image_source s = {.uuid = p->uuid, .br = br, .d = d};
	struct extents_source src = {source_read, NULL, source_patch, &s, source_readback};
	struct phase_names pn = {o->progress};
	struct progress named = {phase_step, NULL, &pn};
	char where[40];
	enum extents_step step = 0;
	struct hvimg h = {0};
	int r = bundle_image_open_deferred(br, &h, &s.back, d);

	snprintf(where, sizeof(where), " as read back from bank %c", bank_letter(o->target));
	if (r == 0)
		r = check_fits(&h, p, o, d);
	if (r == 0 && (r = extents_write(bd->fd, p->offset, h.ext, h.n, &src, &named, &step)) < 0)
		r = write_fail(bd, step, r, d);
	if (r == 0)
		r = bundle_image_close(br, d);
	if (r == 0)
		r = bundle_image_check(br, &s.back, where, d);
	else
		hasher_end(&s.back, (char[HASH_HEX_LEN]){0});
	if (r == 0)
		*ret_bytes = h.data_bytes;
	hvimg_free(&h);
	return r;
}

/* A bundle file: verified whole first (pass 1), then opened again and written (pass 2); a pipe
 * (`bankctl stage -`): written as it streams, in one pass. */
static int write_payload(const struct bootdisk *bd, const struct stage_opts *o, struct bundle_reader *br, bool once,
			 unsigned long long *ret_bytes, struct diag *d)
{
	struct bundle_reader *again = NULL;
	int r = once ? 0 : bundle_reopen(br, &again, d);

	if (r == 0)
		r = write_bank(bd, &bd->bank[o->target], o, once ? br : again, ret_bytes, d);
	bundle_close(again);
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
	int r = once ? 0 : verify_pass(br, p, o, d);

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
		r = write_payload(bd, o, br, once, &bytes, d);
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
