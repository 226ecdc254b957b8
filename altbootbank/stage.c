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
#include "run.h"

static void extract_progress(unsigned long long done, unsigned long long total, void *ctx)
{
	static unsigned long long last;

	if (*(bool *)ctx && (done - last >= (1 << 20) || done == total)) {
		util_progress_bar("bankctl: verifying bundle", done, total);
		last = done;
	}
}

/* Refuse what must not be staged, before anything is written. */
static int check_bundle(const struct bootdisk *bd, const struct bundle_manifest *m, const struct bankinfo *cur,
			const struct stage_opts *o, struct diag *d)
{
	unsigned long long room = bd->bank[o->target].size / 100 * 95; /* what the FAT leaves for files */

	if (cur->product && strcmp(cur->product, m->product) != 0)
		return diag_set(d, o->bundle, 0, "the bundle is for '%s', this host runs '%s'; use a %s bundle",
				m->product, cur->product, cur->product);
	if (cur->version && !o->allow_downgrade && bundle_version_cmp(m->version, cur->version) < 0)
		return diag_set(d, o->bundle, 0, "version %s is older than the running %s; refusing a downgrade "
				"(pass --allow-downgrade to stage it anyway)", m->version, cur->version);
	if (m->payload_size > room)
		return diag_set(d, o->bundle, 0, "the payload (%.1f MiB) does not fit bank %c (%.1f MiB usable); "
				"this bundle is not for this disk layout", m->payload_size / 1048576.0,
				bank_letter(o->target), room / 1048576.0);
	return 0;
}

static int fat_tool(char *const argv[], const char *what, struct diag *d)
{
	struct buf out = {0};
	int st = run_argv(argv, NULL, NULL, NULL, &out);

	if (st != 0)
		diag_set(d, argv[0], 0, "%s failed (exit %d): %s", what, st, out.data ? out.data : "");
	buf_free(&out);
	return st == 0 ? 0 : -EIO;
}

/* mmd every folder above path that is not made yet. */
static int make_parents(const char *img, const char *path, struct strv *made, struct diag *d)
{
	char *copy = xstrdup(path);
	int r = 0;

	for (char *s = strchr(copy, '/'); s && r == 0; s = strchr(s + 1, '/')) {
		*s = '\0';
		char *dir = xasprintf("::/%s", copy);
		char *argv[] = {"mmd", "-i", (char *)img, dir, NULL};
		if (!strv_contains(made, dir) && (r = fat_tool(argv, "making a folder in the bank image", d)) == 0)
			strv_push(made, dir);
		free(dir);
		*s = '/';
	}
	free(copy);
	return r;
}

/* The bank's FAT image, in a scratch file: the payload, and the saved configuration carried over. */
static int build_image(const struct bootdisk *bd, const struct bundle_manifest *m, const char *tmp,
		       const struct stage_opts *o, struct diag *d)
{
	char *img = xasprintf("%s/bank.img", tmp), *kib = xasprintf("%llu", bd->bank[o->target].size / 1024);
	char serial[9], label[8];
	struct strv made = {0};
	int r;

	snprintf(serial, sizeof(serial), "%.8s", bd->bank[o->target].uuid); /* GRUB finds the bank by it */
	snprintf(label, sizeof(label), "BANK-%c", bank_letter(o->target));
	char *mkfs[] = {"mkfs.fat", "-C", "-i", serial, "-n", label, "-S", "512", img, kib, NULL};
	r = fat_tool(mkfs, "mkfs.fat", d);
	for (size_t i = 0; i < m->nfiles && r == 0; i++) {
		char *from = xasprintf("%s/payload/%s", tmp, m->files[i].path), *to = xasprintf("::/%s", m->files[i].path);
		char *argv[] = {"mcopy", "-i", img, from, to, NULL};
		if ((r = make_parents(img, m->files[i].path, &made, d)) == 0)
			r = fat_tool(argv, "copying into the bank image", d);
		free(from), free(to);
	}
	char *state = xasprintf("%s/state.tgz", tmp);
	char *cp[] = {"mcopy", "-i", img, state, "::/state.tgz", NULL};
	if (r == 0 && access(state, F_OK) == 0)
		r = fat_tool(cp, "carrying the saved configuration over", d);
	free(state), strv_free(&made), free(img), free(kib);
	return r;
}

/* The saved configuration of the running bank, if it has one, into tmp/state.tgz. */
static int fetch_state(const struct bootdisk *bd, int from, const char *tmp, struct diag *d)
{
	struct buf data = {0};
	char *path = xasprintf("%s/state.tgz", tmp);
	int r = bootdisk_read_file(bd, &bd->bank[from], "/state.tgz", &data, d);

	if (r == 0)
		r = util_write_file_atomic(path, data.data, data.len, 0600);
	else if (r == -ENOENT)
		r = 0;
	buf_free(&data);
	free(path);
	return r;
}

/* Where a FAT image's data area starts: everything before it is written even where it is zero. */
static unsigned long long fat_meta_bytes(int fd)
{
	unsigned char b[512];

	if (pread(fd, b, sizeof(b), 0) != sizeof(b))
		return 0;
	unsigned bps = b[11] | b[12] << 8, reserved = b[14] | b[15] << 8, roots = b[17] | b[18] << 8;
	unsigned fatsz = (b[22] | b[23] << 8) ? (unsigned)(b[22] | b[23] << 8)
		: (unsigned)(b[36] | b[37] << 8 | b[38] << 16 | (unsigned)b[39] << 24);
	return ((unsigned long long)reserved + (unsigned long long)b[16] * fatsz + (roots * 32ULL + bps - 1) / bps) * bps;
}

struct extent {
	off_t off, len;
};

/* The metadata region, then each data extent of the sparse image file. */
static size_t list_extents(int fd, off_t size, struct extent **ret, unsigned long long *total)
{
	off_t meta = (off_t)fat_meta_bytes(fd), pos = meta, data, hole;
	struct extent *e = xmalloc(sizeof(*e));
	size_t n = 1;

	e[0] = (struct extent){0, meta};
	*total = (unsigned long long)meta;
	while (pos < size && (data = lseek(fd, pos, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = size;
		e = xrealloc(e, (n + 1) * sizeof(*e));
		e[n++] = (struct extent){data, hole - data};
		*total += (unsigned long long)(hole - data);
		pos = hole;
	}
	*ret = e;
	return n;
}

/* Copy (compare == false) or compare (compare == true) one extent; 0, -EIO or -EILSEQ. */
static int do_extent(int in, int disk, unsigned long long base, const struct extent *e, bool compare,
		     unsigned long long *done, unsigned long long total, bool progress)
{
	static char a[1 << 20], b[1 << 20];

	for (off_t off = e->off; off < e->off + e->len;) {
		size_t n = (size_t)(e->off + e->len - off < (off_t)sizeof(a) ? e->off + e->len - off : (off_t)sizeof(a));
		if (pread(in, a, n, off) != (ssize_t)n)
			return -EIO;
		if (!compare && pwrite(disk, a, n, (off_t)base + off) != (ssize_t)n)
			return -EIO;
		if (compare && (pread(disk, b, n, (off_t)base + off) != (ssize_t)n || memcmp(a, b, n) != 0))
			return -EILSEQ;
		off += (off_t)n;
		*done += n;
		if (progress)
			util_progress_bar(compare ? "bankctl: reading back   " : "bankctl: writing bank   ", *done, total);
	}
	return 0;
}

int stage_write_image(const struct bootdisk *bd, const struct bootdisk_part *p, const char *img, bool progress,
		      unsigned long long *ret_bytes, struct diag *d)
{
	int in = open(img, O_RDONLY | O_CLOEXEC), r = 0;
	struct extent *e = NULL;
	struct stat st;
	unsigned long long total = 0, done = 0;
	size_t n = 0;

	if (in < 0 || fstat(in, &st) < 0 || (unsigned long long)st.st_size > p->size)
		r = diag_set(d, img, 0, "cannot use the bank image: %s", in < 0 ? strerror(errno) : "larger than the bank");
	if (r == 0)
		n = list_extents(in, st.st_size, &e, &total);
	for (size_t i = 0; i < n && r == 0; i++)
		if (do_extent(in, bd->fd, p->offset, &e[i], false, &done, total, progress) < 0)
			r = diag_set(d, bd->path, 0, "writing the bank failed: %s; the bank stays marked empty", strerror(errno));
	if (r == 0 && fsync(bd->fd) < 0)
		r = diag_set(d, bd->path, 0, "flushing the bank failed: %s; the bank stays marked empty", strerror(errno));
	/* The page cache would answer the read-back: drop it, so that the disk does. */
	if (r == 0)
		posix_fadvise(bd->fd, (off_t)p->offset, (off_t)p->size, POSIX_FADV_DONTNEED);
	done = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		if (do_extent(in, bd->fd, p->offset, &e[i], true, &done, total, progress) < 0)
			r = diag_set(d, bd->path, 0, "the bank did not read back as written; the disk may be failing, "
				     "the bank stays marked empty");
	if (in >= 0)
		close(in);
	free(e);
	*ret_bytes = total;
	return r;
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

static int stage_payload(struct bootdisk *bd, struct bootstate *st, struct bundle_reader *br, const char *tmp,
			 const struct stage_opts *o, struct diag *d)
{
	const struct bundle_manifest *m = bundle_get_manifest(br);
	char *payload = xasprintf("%s/payload", tmp), *img = xasprintf("%s/bank.img", tmp);
	bool prog = o->progress;
	unsigned long long bytes = 0;
	int other = !o->target, r = bundle_extract(br, payload, extract_progress, &prog, d);

	if (r == 0)
		r = fetch_state(bd, other, tmp, d);
	if (r == 0)
		r = build_image(bd, m, tmp, o, d);
	/* From here on the disk changes: first the bank is marked empty, so that GRUB never boots it half written. */
	if (r == 0 && st->env.bank[o->target].state != BANK_EMPTY)
		r = mark(bd, st, o->target, BANK_EMPTY, 0, st->env.bank[o->target].gen, d);
	if (r == 0)
		r = stage_write_image(bd, &bd->bank[o->target], img, o->progress, &bytes, d);
	if (r == 0)
		r = mark(bd, st, o->target, BANK_TRIAL, BANK_TRIES, newest_gen(&st->env) + 1, d);
	if (r == 0)
		printf("bankctl: staged %s %s (build %s) into bank %c: %.1f MiB written and read back; it is tried on the "
		       "next boot (%d tries)\n", m->product, m->version, m->build_id, bank_letter(o->target),
		       bytes / 1048576.0, BANK_TRIES);
	free(payload);
	free(img);
	return r;
}

int stage_run(struct bootdisk *bd, struct bootstate *st, const struct stage_opts *o, struct diag *d)
{
	struct bundle_reader *br = NULL;
	struct bankinfo cur = {0};
	const char *tmpdir = getenv("TMPDIR");
	char *tmp = xasprintf("%s/bankctl.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	int r = bundle_open(o->bundle, &br, d);

	if (r == 0)
		r = bankinfo_read(bd, !o->target, &cur, d);
	if (r == 0)
		r = check_bundle(bd, bundle_get_manifest(br), &cur, o, d);
	if (r == 0 && !mkdtemp(tmp))
		r = diag_set(d, tmp, 0, "cannot make a scratch folder: %s; set TMPDIR", strerror(errno));
	if (r == 0) {
		r = stage_payload(bd, st, br, tmp, o, d);
		util_rm_rf(tmp);
	}
	bankinfo_free(&cur);
	bundle_close(br);
	free(tmp);
	return r;
}
