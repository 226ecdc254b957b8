#include "hvimg.h"

#include <stdlib.h>
#include <string.h>

size_t hvimg_header_len(const unsigned char *buf, size_t len)
{
	uint64_t n;

	if (len < HVIMG_HEADER || memcmp(buf, HVIMG_MAGIC, 8) != 0)
		return 0;
	n = hvimg_le64(buf + 16);
	return n > HVIMG_MAX_EXTENTS ? 0 : HVIMG_HEADER + (size_t)n * 16;
}

/* Extents in order, each after the last, none empty, none past the disk's end. */
static const char *check_extents(const struct hvimg *h)
{
	uint64_t end = 0;

	for (size_t i = 0; i < h->n; i++) {
		const struct hvimg_extent *e = &h->ext[i];
		if (e->length == 0 || e->offset < end || e->offset + e->length < e->offset ||
		    e->offset + e->length > h->disk_size)
			return "its extents overlap, are out of order or lie outside the image";
		end = e->offset + e->length;
	}
	return NULL;
}

int hvimg_parse(const unsigned char *buf, size_t len, struct hvimg *ret, const char **why)
{
	size_t need = hvimg_header_len(buf, len);
	struct hvimg h = {0};

	*why = need == 0 ? "no HVIMG1 header, or too many extents" : need > len ? "the header is cut short" : NULL;
	if (*why)
		return -1;
	h.disk_size = hvimg_le64(buf + 8);
	h.n = (size_t)hvimg_le64(buf + 16);
	h.header_len = need;
	h.ext = calloc(h.n ? h.n : 1, sizeof(*h.ext));
	if (!h.ext) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < h.n; i++) {
		h.ext[i].offset = hvimg_le64(buf + HVIMG_HEADER + 16 * i);
		h.ext[i].length = hvimg_le64(buf + HVIMG_HEADER + 16 * i + 8);
		h.data_bytes += h.ext[i].length;
	}
	if ((*why = check_extents(&h))) {
		hvimg_free(&h);
		return -1;
	}
	*ret = h;
	return 0;
}

void hvimg_free(struct hvimg *h)
{
	free(h->ext);
	h->ext = NULL;
	h->n = 0;
}

size_t hvimg_header_size(size_t n)
{
	return HVIMG_HEADER + n * 16;
}

void hvimg_header_format(unsigned char *out, uint64_t disk_size, const struct hvimg_extent *e, size_t n)
{
	memcpy(out, HVIMG_MAGIC, 8);
	hvimg_put64(out + 8, disk_size);
	hvimg_put64(out + 16, n);
	for (size_t i = 0; i < n; i++) {
		hvimg_put64(out + HVIMG_HEADER + 16 * i, e[i].offset);
		hvimg_put64(out + HVIMG_HEADER + 16 * i + 8, e[i].length);
	}
}

size_t hvimg2_header_len(const unsigned char *buf, size_t len)
{
	uint64_t f, n;

	if (len < HVIMG2_HEADER || memcmp(buf, HVIMG2_MAGIC, 8) != 0)
		return 0;
	f = hvimg_le64(buf + 16);
	n = hvimg_le64(buf + 24);
	if (f > HVIMG2_MAX_FILES || n > HVIMG_MAX_EXTENTS)
		return 0;
	return hvimg2_header_size((size_t)f, (size_t)n);
}

bool hvimg2_path_ok(const char *path)
{
	const char *c = path;

	if (!*path || *path == '/')
		return false;
	for (const char *p = path; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    !strchr("._/-", *p))
			return false;
	/* Each component: not empty, not "." or "..". */
	while (*c) {
		size_t len = strcspn(c, "/");
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += len;
		if (*c == '/' && !*++c)
			return false;
	}
	return true;
}

/* A path field: NUL-terminated inside its 64 bytes, NUL-padded after, allowed characters only. */
static const char *parse_file(const unsigned char *p, struct hvimg2_file *f)
{
	const unsigned char *nul = memchr(p, '\0', HVIMG2_PATH);

	if (!nul)
		return "a file's path fills its 64 bytes with no NUL";
	for (const unsigned char *q = nul; q < p + HVIMG2_PATH; q++)
		if (*q)
			return "a file's path is not NUL-padded";
	memcpy(f->path, p, HVIMG2_PATH);
	if (!hvimg2_path_ok(f->path))
		return "a file's path is empty, absolute, has a . or .. component or a character outside [A-Za-z0-9._/-]";
	f->size = hvimg_le64(p + HVIMG2_PATH);
	memcpy(f->sha256, p + HVIMG2_PATH + 8, 32);
	return NULL;
}

/* A literal extent has file offset 0; a file extent names a file and lies inside it. */
static const char *check_sources(const struct hvimg2 *h)
{
	for (size_t i = 0; i < h->img.n; i++) {
		const struct hvimg2_source *s = &h->src[i];
		uint64_t len = h->img.ext[i].length;
		if (s->file == HVIMG2_LITERAL && s->file_offset != 0)
			return "a literal extent has a file offset";
		if (s->file != HVIMG2_LITERAL && s->file >= h->nfiles)
			return "an extent names a file the image does not list";
		if (s->file != HVIMG2_LITERAL &&
		    (s->file_offset > h->file[s->file].size || len > h->file[s->file].size - s->file_offset))
			return "a file extent reaches past the end of its file";
	}
	return NULL;
}

static const char *parse2_body(const unsigned char *buf, struct hvimg2 *h)
{
	const unsigned char *ext = buf + HVIMG2_HEADER + h->nfiles * HVIMG2_FILE_LEN;
	const char *why = NULL;

	for (size_t i = 0; i < h->nfiles && !why; i++)
		why = parse_file(buf + HVIMG2_HEADER + i * HVIMG2_FILE_LEN, &h->file[i]);
	for (size_t i = 0; i < h->img.n && !why; i++) {
		const unsigned char *e = ext + i * HVIMG2_EXTENT_LEN;
		h->img.ext[i] = (struct hvimg_extent){hvimg_le64(e), hvimg_le64(e + 8)};
		h->src[i] = (struct hvimg2_source){hvimg_le64(e + 16), hvimg_le64(e + 24)};
		if (h->src[i].file == HVIMG2_LITERAL)
			h->img.data_bytes += h->img.ext[i].length;
	}
	if (!why)
		why = check_extents(&h->img);
	return why ? why : check_sources(h);
}

int hvimg2_parse(const unsigned char *buf, size_t len, struct hvimg2 *ret, const char **why)
{
	size_t need = hvimg2_header_len(buf, len);
	struct hvimg2 h = {0};

	*why = need == 0 ? "no HVIMG2 header, or too many files or extents" : need > len ? "the header is cut short" : NULL;
	if (*why)
		return -1;
	h.img.disk_size = hvimg_le64(buf + 8);
	h.nfiles = (size_t)hvimg_le64(buf + 16);
	h.img.n = (size_t)hvimg_le64(buf + 24);
	h.img.header_len = need;
	h.file = calloc(h.nfiles ? h.nfiles : 1, sizeof(*h.file));
	h.src = calloc(h.img.n ? h.img.n : 1, sizeof(*h.src));
	h.img.ext = calloc(h.img.n ? h.img.n : 1, sizeof(*h.img.ext));
	*why = !h.file || !h.src || !h.img.ext ? "out of memory" : parse2_body(buf, &h);
	if (*why) {
		hvimg2_free(&h);
		return -1;
	}
	*ret = h;
	return 0;
}

void hvimg2_free(struct hvimg2 *h)
{
	hvimg_free(&h->img);
	free(h->file);
	free(h->src);
	h->file = NULL;
	h->src = NULL;
	h->nfiles = 0;
}

size_t hvimg2_header_size(size_t nfiles, size_t n)
{
	return HVIMG2_HEADER + nfiles * HVIMG2_FILE_LEN + n * HVIMG2_EXTENT_LEN;
}

void hvimg2_header_format(unsigned char *out, uint64_t disk_size, const struct hvimg2_file *f, size_t nfiles,
			  const struct hvimg_extent *e, const struct hvimg2_source *src, size_t n)
{
	unsigned char *ext = out + HVIMG2_HEADER + nfiles * HVIMG2_FILE_LEN;

	memcpy(out, HVIMG2_MAGIC, 8);
	hvimg_put64(out + 8, disk_size);
	hvimg_put64(out + 16, nfiles);
	hvimg_put64(out + 24, n);
	for (size_t i = 0; i < nfiles; i++) {
		unsigned char *p = out + HVIMG2_HEADER + i * HVIMG2_FILE_LEN;
		memset(p, 0, HVIMG2_PATH);
		memcpy(p, f[i].path, strnlen(f[i].path, HVIMG2_PATH - 1));
		hvimg_put64(p + HVIMG2_PATH, f[i].size);
		memcpy(p + HVIMG2_PATH + 8, f[i].sha256, 32);
	}
	for (size_t i = 0; i < n; i++) {
		hvimg_put64(ext + i * HVIMG2_EXTENT_LEN, e[i].offset);
		hvimg_put64(ext + i * HVIMG2_EXTENT_LEN + 8, e[i].length);
		hvimg_put64(ext + i * HVIMG2_EXTENT_LEN + 16, src[i].file);
		hvimg_put64(ext + i * HVIMG2_EXTENT_LEN + 24, src[i].file_offset);
	}
}
