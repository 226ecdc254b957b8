#define _GNU_SOURCE
#include "hvimg-pack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extents.h"
#include "hash.h"
#include "hvimg.h"
#include "util.h"

/* An extent and where its bytes come from, sorted together. */
struct piece {
	struct hvimg_extent e;
	struct hvimg2_source s;
};

struct pack {
	int fd;                    /* the disk image */
	uint64_t size;
	struct hvimg2_file *file;  /* one per placed file */
	struct piece *p;
	size_t n;
};

static int by_offset(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	return x->e.offset < y->e.offset ? -1 : x->e.offset > y->e.offset;
}

static void unhex(const char *hex, unsigned char out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = hex[2 * i + j];
			v = v << 4 | (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		out[i] = (unsigned char)v;
	}
}

/* The placed file's size and sha256, after checking that the image holds it at its offset. */
static int place_file(struct pack *k, const struct hvimg2_placed *f, struct hvimg2_file *ret, struct diag *d)
{
	char *data = NULL, *disk = NULL, hex[HASH_HEX_LEN];
	size_t len = 0;
	int r = util_read_file(f->local, &data, &len);

	if (r < 0)
		return diag_set_errno(d, -r, f->local, 0, "cannot read the file to place in the installer's image");
	if (strlen(f->path) >= HVIMG2_PATH || !hvimg2_path_ok(f->path))
		r = diag_set(d, f->local, 0, "its path on the medium, %s, is not one HVIMG2 allows (image/hvimg.h); "
			     "rename it", f->path);
	disk = xmalloc(len ? len : 1);
	if (r == 0 && (len == 0 || f->disk_offset > k->size || len > k->size - f->disk_offset ||
		       pread(k->fd, disk, len, (off_t)f->disk_offset) != (ssize_t)len || memcmp(disk, data, len) != 0))
		r = diag_set(d, f->local, 0, "the disk image does not hold this file at byte %llu; place only files "
			     "the disk holds whole, in one piece", (unsigned long long)f->disk_offset);
	if (r == 0 && (r = hash_buf(data, len, hex)) < 0)
		r = diag_set_errno(d, -r, f->local, 0, "cannot hash (SHA-256); free some memory and build again");
	if (r == 0) {
		memset(ret, 0, sizeof(*ret));
		memcpy(ret->path, f->path, strlen(f->path));
		ret->size = len;
		unhex(hex, ret->sha256);
	}
	free(data), free(disk);
	return r;
}

static void add(struct pack *k, uint64_t off, uint64_t len, uint64_t file)
{
	k->p = xrealloc(k->p, (k->n + 1) * sizeof(*k->p));
	k->p[k->n++] = (struct piece){{off, len}, {file, 0}};
}

/* The data extents outside the files' ranges (files sorted by offset), as literal pieces. */
static void add_literal(struct pack *k, const struct hvimg_extent *data, size_t nd, const struct piece *f, size_t nf)
{
	for (size_t i = 0; i < nd; i++) {
		uint64_t pos = data[i].offset, end = data[i].offset + data[i].length;
		for (size_t j = 0; j < nf && pos < end; j++) {
			uint64_t fa = f[j].e.offset, fb = fa + f[j].e.length;
			if (fb <= pos || fa >= end)
				continue;
			if (fa > pos)
				add(k, pos, fa - pos, HVIMG2_LITERAL);
			pos = fb;
		}
		if (pos < end)
			add(k, pos, end - pos, HVIMG2_LITERAL);
	}
}

/* Every piece: the files' ranges and the literal rest, sorted. */
static int plan(struct pack *k, const char *image, const struct hvimg2_placed *files, size_t n, struct diag *d)
{
	struct piece *f = xcalloc(n ? n : 1, sizeof(*f));
	struct hvimg_extent *data = NULL;
	unsigned long long bytes;
	ssize_t nd = extents_list(k->fd, (off_t)k->size, &data, &bytes);
	int r = nd < 0 ? diag_set_errno(d, ENOMEM, image, 0, "cannot list its extents") : 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		r = place_file(k, &files[i], &k->file[i], d);
		f[i] = (struct piece){{files[i].disk_offset, k->file[i].size}, {i, 0}};
	}
	qsort(f, n, sizeof(*f), by_offset);
	for (size_t i = 1; i < n && r == 0; i++)
		if (f[i].e.offset < f[i - 1].e.offset + f[i - 1].e.length)
			r = diag_set(d, files[f[i].s.file].local, 0, "its range on the disk overlaps that of %s; place "
				     "each byte of the disk once", files[f[i - 1].s.file].local);
	if (r == 0) {
		add_literal(k, data, (size_t)nd, f, n);
		for (size_t i = 0; i < n; i++)
			add(k, f[i].e.offset, f[i].e.length, f[i].s.file);
		qsort(k->p, k->n, sizeof(*k->p), by_offset);
	}
	if (r == 0 && k->n > HVIMG_MAX_EXTENTS)
		r = diag_set(d, image, 0, "the installer's image would have %zu extents, more than the format takes (%d)",
			     k->n, HVIMG_MAX_EXTENTS);
	free(f), free(data);
	return r;
}

static int write_all(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -EIO;
}

static int write_header(const struct pack *k, size_t nfiles, int out)
{
	struct hvimg_extent *e = xcalloc(k->n ? k->n : 1, sizeof(*e));
	struct hvimg2_source *s = xcalloc(k->n ? k->n : 1, sizeof(*s));
	size_t len = hvimg2_header_size(nfiles, k->n);
	unsigned char *h = xmalloc(len);
	int r;

	for (size_t i = 0; i < k->n; i++)
		e[i] = k->p[i].e, s[i] = k->p[i].s;
	hvimg2_header_format(h, k->size, k->file, nfiles, e, s, k->n);
	r = write_all(out, h, len);
	free(e), free(s), free(h);
	return r;
}

/* The header, then the literal pieces' bytes in order. */
static int write_image(const struct pack *k, size_t nfiles, int out)
{
	static char buf[1 << 20];
	int r = write_header(k, nfiles, out);

	for (size_t i = 0; i < k->n && r == 0; i++) {
		if (k->p[i].s.file != HVIMG2_LITERAL)
			continue;
		for (uint64_t off = k->p[i].e.offset, end = off + k->p[i].e.length; off < end && r == 0;) {
			size_t len = end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
			r = pread(k->fd, buf, len, (off_t)off) == (ssize_t)len ? write_all(out, buf, len) : -EIO;
			off += len;
		}
	}
	return r;
}

int hvimg2_pack(const char *image, const char *out, const struct hvimg2_placed *files, size_t n, struct diag *d)
{
	struct pack k = {.fd = open(image, O_RDONLY | O_CLOEXEC)};
	struct stat st;
	int fd = -1, r = 0;

	if (n > HVIMG2_MAX_FILES)
		return diag_set(d, image, 0, "%zu files to place, more than the format takes (%d)", n, HVIMG2_MAX_FILES);
	if (k.fd < 0 || fstat(k.fd, &st) < 0)
		r = diag_set_errno(d, errno, image, 0, "cannot read the disk image");
	k.size = r == 0 ? (uint64_t)st.st_size : 0;
	k.file = xcalloc(n ? n : 1, sizeof(*k.file));
	if (r == 0)
		r = plan(&k, image, files, n, d);
	if (r == 0 && (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		r = diag_set_errno(d, errno, out, 0, "cannot create");
	if (r == 0 && write_image(&k, n, fd) < 0)
		r = diag_set_errno(d, errno ? errno : EIO, out, 0, "cannot write the installer's image");
	if (fd >= 0)
		close(fd);
	if (k.fd >= 0)
		close(k.fd);
	free(k.file), free(k.p);
	return r;
}
