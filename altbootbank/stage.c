#define _GNU_SOURCE
#include "stage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* bank.img as pass 1 of a mapped bundle file leaves it for pass 2: its header, and its data in
 * memory of bankctl's own, verified. */
struct held_image {
	struct hvimg h;
	unsigned char *data; /* h.data_bytes, mapped (owned: held_free), or NULL: not mapped */
};

/* The copy's mapped length (an empty image still maps one byte). */
static size_t held_len(const struct held_image *held)
{
	return held->h.data_bytes ? (size_t)held->h.data_bytes : 1;
}

static void held_free(struct held_image *held)
{
	if (held->data)
		munmap(held->data, held_len(held));
	hvimg_free(&held->h);
	*held = (struct held_image){0};
}

/* n bytes of memory for the copy, in huge pages where the kernel has them: read into 4 KiB
 * pages, a 10 MiB image took 10 ms here, most of it page faults; into 2 MiB pages, 2.6 ms. */
static int held_alloc(struct held_image *held, const struct stage_opts *o, struct diag *d)
{
	size_t n = held_len(held);
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return diag_set_errno(d, errno, o->bundle, 0, "cannot hold the bank image (%.1f MiB) in memory to "
				      "verify it; free some memory, or stage it from a pipe (cat FILE | bankctl stage -)",
				      n / 1048576.0);
	madvise(p, n, MADV_HUGEPAGE);
	held->data = p;
	return 0;
}

static int hash_piece(void *ctx, const void *p, size_t n, uint64_t off)
{
	(void)off;
	hasher_add(ctx, p, n);
	return 0;
}

/* Pass 1 of a bundle file (mapped): bank.img's data read out of the file into held->data, 1 MiB
 * at a time, each piece hashed in a second thread (lib/worker.h) while the next is read, and
 * the hash checked against the manifest. What pass 2 writes and the read-back compares with is
 * then that copy: bytes verified where nobody else can change them, so that a writer of the file
 * in the meantime changes nothing. Nothing is written here, so that a damaged bundle leaves both
 * banks as they were. */
static int verify_pass(struct bundle_reader *br, const struct bootdisk_part *p, const struct stage_opts *o,
		       struct held_image *held, struct diag *d)
{
	const unsigned char *bytes = NULL;
	struct hasher hash = {0};
	struct worker w = {0};
	int r = bundle_image_view(br, &held->h, &bytes, d);

	if (r == 0)
		r = check_fits(&held->h, p, o, d);
	if (r < 0)
		return r;
	hasher_init(&hash);
	hasher_add(&hash, bytes, held->h.header_len);
	bytes += held->h.header_len;
	r = held_alloc(held, o, d);
	for (uint64_t done = 0, n; r == 0 && done < held->h.data_bytes; done += n) {
		n = held->h.data_bytes - done < (1 << 20) ? held->h.data_bytes - done : (1 << 20);
		if ((r = bundle_view_read(br, bytes + done, held->data + done, (size_t)n, d)) == 0)
			worker_start(&w, hash_piece, &hash, held->data + done, (size_t)n, done);
		progress_step(o->progress, "verifying bundle", done + n, held->h.data_bytes);
	}
	worker_wait(&w);
	if (r == 0)
		r = bundle_image_close(br, d);
	if (r == 0)
		r = bundle_image_check(br, &hash, NULL, d);
	else
		hasher_end(&hash, (char[HASH_HEX_LEN]){0});
	return r;
}

/* Where a FAT boot sector keeps the volume serial: FAT12/16 at 39, FAT32 (no 16-bit FAT size) at 67. */
static size_t fat_serial_at(const unsigned char *boot)
{
	return (boot[22] | boot[23]) ? 39 : 67;
}

/* bank.img's data as the source of extents_write(), with the target's FAT serial patched in
 * (GRUB finds a bank by its FAT serial, the first 8 hex digits of the partition's UUID):
 * - held (a bundle file, pass 1 verified a copy of its data): written from that copy, and the
 *   read-back compared with it byte for byte;
 * - streamed (a pipe): written as it comes, and read back from the disk into a SHA-256 with the
 *   image's own serial put back: that hash must be the manifest's, so one hash proves that the
 *   bank holds exactly the signed image (a bundle damaged on its way, and a disk that did not
 *   keep the bytes, are both caught there). */
struct image_source {
	const char *uuid;
	struct bundle_reader *br;
	unsigned char *held;       /* the next piece to write in the verified copy (held), or NULL */
	const unsigned char *want; /* the next piece the read-back must find (held) */
	struct diag *d;
	struct hasher back;        /* streamed: the read-back's hash */
	uint64_t differs_at;       /* held: where the read-back found other bytes (+1; 0: nowhere) */
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

/* The next piece in place in the verified copy (bankctl's own: the first one is patched there). */
static const void *source_view(void *ctx, size_t n, uint64_t off)
{
	struct image_source *s = ctx;
	unsigned char *p = s->held;

	s->held += n;
	source_patch(s, p, n, off);
	return p;
}

/* Held: the piece read back against what was written. */
static int source_compare(void *ctx, const void *buf, size_t n, uint64_t off)
{
	struct image_source *s = ctx;
	const unsigned char *want = s->want, *b = buf;
	size_t i = 0;

	s->want += n;
	if (memcmp(b, want, n) == 0)
		return 0;
	while (b[i] == want[i])
		i++;
	s->differs_at = off + i + 1;
	return -EILSEQ;
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

static int write_fail(const struct bootdisk *bd, const struct stage_opts *o, const struct image_source *s,
		      enum extents_step step, int r, struct diag *d)
{
	if (step == EXTENTS_MISMATCH && s->differs_at)
		return diag_set(d, bd->path, 0, "%s as read back from bank %c does not match what was written (at byte "
				"%llu of the bank); the disk did not keep it: the bank stays marked empty, check the "
				"disk (dmesg) and stage again", BUNDLE_IMAGE, bank_letter(o->target),
				(unsigned long long)(s->differs_at - 1));
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

/* bank.img's extents written into the bank from s (pass 1's verified copy, or as they stream
 * from the bundle), flushed, read back from the disk and compared or hashed (struct
 * image_source). The bank was marked empty before, so that a bundle found damaged at its end
 * leaves an empty bank, never a half-written one that GRUB would try. */
static int write_extents(const struct bootdisk *bd, const struct bootdisk_part *p, const struct stage_opts *o,
			 const struct hvimg *h, struct image_source *s, struct diag *d)
{
	struct extents_source src = {source_read, NULL, source_patch, s, s->held ? source_compare : source_readback,
				     s->held ? source_view : NULL};
	struct phase_names pn = {o->progress};
	struct progress named = {phase_step, NULL, &pn};
	enum extents_step step = 0;
	int r = check_fits(h, p, o, d);

	if (r == 0 && (r = extents_write(bd->fd, p->offset, h->ext, h->n, &src, &named, &step)) < 0)
		r = write_fail(bd, o, s, step, r, d);
	return r;
}

/* Streamed: the read-back's hash of s against the manifest's when all went well (r == 0); else
 * only ended. */
static int check_read_back(struct bundle_reader *br, const struct stage_opts *o, struct image_source *s, int r,
			   struct diag *d)
{
	char where[40];

	if (r < 0) {
		hasher_end(&s->back, (char[HASH_HEX_LEN]){0});
		return r;
	}
	snprintf(where, sizeof(where), " as read back from bank %c", bank_letter(o->target));
	return bundle_image_check(br, &s->back, where, d);
}

/* The one pass of a bundle read once (a pipe): the header, then the data as it streams. */
static int write_streamed(const struct bootdisk *bd, const struct bootdisk_part *p, const struct stage_opts *o,
			  struct bundle_reader *br, unsigned long long *ret_bytes, struct diag *d)
{
	struct image_source s = {.uuid = p->uuid, .br = br, .d = d};
	struct hvimg h = {0};
	int r = bundle_image_open_deferred(br, &h, &s.back, d);

	if (r == 0)
		r = write_extents(bd, p, o, &h, &s, d);
	if (r == 0)
		r = bundle_image_close(br, d);
	if ((r = check_read_back(br, o, &s, r, d)) == 0)
		*ret_bytes = h.data_bytes;
	hvimg_free(&h);
	return r;
}

/* Pass 2 from the copy pass 1 verified: the bundle is not read again, so that the file changed
 * or cut short in between changes nothing; the read-back is compared with the copy. */
static int write_held(const struct bootdisk *bd, const struct bootdisk_part *p, const struct stage_opts *o,
		      struct bundle_reader *br, struct held_image *held, unsigned long long *ret_bytes, struct diag *d)
{
	struct image_source s = {.uuid = p->uuid, .br = br, .held = held->data, .want = held->data, .d = d};
	int r = write_extents(bd, p, o, &held->h, &s, d);

	if (r == 0)
		*ret_bytes = held->h.data_bytes;
	return r;
}

/* A bundle file: verified whole first (pass 1), then written from that copy (pass 2); one
 * that cannot be mapped ("-", a pipe, a socket, a device): written as it streams, in one pass. */
static int write_payload(const struct bootdisk *bd, const struct stage_opts *o, struct bundle_reader *br,
			 struct held_image *held, unsigned long long *ret_bytes, struct diag *d)
{
	const struct bootdisk_part *p = &bd->bank[o->target];

	if (held->data)
		return write_held(bd, p, o, br, held, ret_bytes, d);
	return write_streamed(bd, p, o, br, ret_bytes, d);
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
	struct held_image held = {0};
	bool state = o->keep->state, once = !bundle_mapped(br);
	int r = once ? 0 : verify_pass(br, p, o, &held, d);

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
		r = write_payload(bd, o, br, &held, &bytes, d);
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
	held_free(&held);
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
