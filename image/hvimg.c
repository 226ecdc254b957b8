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
