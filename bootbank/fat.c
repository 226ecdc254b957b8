/* A read-only FAT12/16/32 reader (fat.h says why it is written here). The layout is the one of
 * Microsoft's "FAT: General Overview of On-Disk Format" (the boot sector's BPB, the FAT, the
 * fixed root folder of FAT12/16, the data clusters) and VFAT's long names. */
#define _GNU_SOURCE
#include "fat.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIRENT 32
#define ATTR_HIDDEN 0x06 /* hidden or system */
#define ATTR_VOLUME 0x08
#define ATTR_DIR 0x10
#define ATTR_LFN 0x0f
#define MAX_DIR_BYTES (65536 * DIRENT) /* the most entries a folder may have */
#define MAX_DEPTH 16                   /* folders deeper than this are not listed: a loop */
#define MAX_ENTRIES 65536              /* files and folders of a listing, in all */
#define LFN_UNITS (20 * 13)            /* 20 entries of 13 UCS-2 units: 255 characters and padding */
#define PIECE (1 << 20)                /* the most read with one pread */

struct fat {
	int fd;
	unsigned long long offset, size;  /* the partition, bytes */
	unsigned bits;                    /* 12, 16 or 32 */
	unsigned long long cluster_bytes;
	unsigned long long root_at;       /* FAT12/16: the fixed root folder, bytes from offset */
	unsigned long long root_bytes;
	unsigned long long data_at;       /* cluster 2, bytes from offset */
	uint32_t clusters;                /* data clusters: numbers 2 .. clusters + 1 */
	uint32_t root_cluster;            /* FAT32 */
	unsigned char *table;             /* the first FAT, entries 0 .. clusters + 1 */
};

/* A folder's entry: its name in UTF-8 (the long one when there is one) and its short name. */
struct entry {
	char name[LFN_UNITS * 3 + 1];
	char short_name[13];
	unsigned attr;
	uint32_t first;
	uint32_t size;
};

static unsigned le(const unsigned char *p, int n)
{
	unsigned v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* len bytes at off of the partition. A read past the partition or the file's end: damaged. */
static int read_at(const struct fat *f, unsigned long long off, void *dst, size_t len)
{
	unsigned char *p = dst;

	if (off > f->size || len > f->size - off)
		return -EINVAL;
	while (len > 0) {
		ssize_t n = pread(f->fd, p, len, (off_t)(f->offset + off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -EIO;
		if (n == 0)
			return -EINVAL;
		p += n, off += (size_t)n, len -= (size_t)n;
	}
	return 0;
}

static bool power_of_two(unsigned v)
{
	return v && !(v & (v - 1));
}

/* The BPB's geometry into f; the FAT's size in bytes (*fat_bytes) and where it starts. */
static int parse_bpb(struct fat *f, const unsigned char *b, unsigned long long *fat_at, unsigned long long *fat_bytes)
{
	unsigned bps = le(b + 11, 2), spc = b[13], reserved = le(b + 14, 2), fats = b[16], roots = le(b + 17, 2);
	unsigned long long total = le(b + 19, 2) ? le(b + 19, 2) : le(b + 32, 4);
	unsigned long long fatsz = le(b + 22, 2) ? le(b + 22, 2) : le(b + 36, 4), root_sectors, data, count;

	if (b[510] != 0x55 || b[511] != 0xaa || bps < 512 || bps > 4096 || !power_of_two(bps) || !power_of_two(spc) ||
	    !reserved || !fats || !fatsz || total * bps > f->size)
		return -EINVAL;
	root_sectors = (roots * DIRENT + bps - 1) / bps;
	data = reserved + fats * fatsz + root_sectors;
	if (data >= total)
		return -EINVAL;
	count = (total - data) / spc;
	/* The type follows from the cluster count alone (the spec's rule), the root folder with it. */
	f->bits = count < 4085 ? 12 : count < 65525 ? 16 : 32;
	if ((f->bits == 32) != (roots == 0) || (f->bits == 32 && le(b + 22, 2) != 0) || count > 0x0ffffff5)
		return -EINVAL;
	if (fatsz * bps * 8 < (count + 2) * f->bits)
		return -EINVAL; /* a FAT too small for its clusters */
	f->clusters = (uint32_t)count;
	f->cluster_bytes = (unsigned long long)spc * bps;
	f->root_at = (reserved + fats * fatsz) * bps;
	f->root_bytes = (unsigned long long)roots * DIRENT;
	f->data_at = data * bps;
	f->root_cluster = f->bits == 32 ? le(b + 44, 4) & 0x0fffffff : 0;
	*fat_at = (unsigned long long)reserved * bps;
	*fat_bytes = ((count + 2) * f->bits + 7) / 8;
	return 0;
}

int fat_open(int fd, unsigned long long offset, unsigned long long size, struct fat **ret)
{
	unsigned char boot[512];
	unsigned long long fat_at = 0, fat_bytes = 0;
	struct fat *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	*f = (struct fat){.fd = fd, .offset = offset, .size = size};
	r = read_at(f, 0, boot, sizeof(boot));
	if (r == 0)
		r = parse_bpb(f, boot, &fat_at, &fat_bytes);
	if (r == 0 && f->bits == 32 && (f->root_cluster < 2 || f->root_cluster > f->clusters + 1))
		r = -EINVAL;
	if (r == 0 && !(f->table = malloc(fat_bytes)))
		r = -ENOMEM;
	if (r == 0)
		r = read_at(f, fat_at, f->table, fat_bytes);
	if (r < 0) {
		fat_close(f);
		return r;
	}
	*ret = f;
	return 0;
}

void fat_close(struct fat *f)
{
	if (f)
		free(f->table);
	free(f);
}

/* The FAT's entry for cluster c (in range). */
static uint32_t fat_entry(const struct fat *f, uint32_t c)
{
	if (f->bits == 12) {
		unsigned v = le(f->table + c + c / 2, 2);
		return c & 1 ? v >> 4 : v & 0xfff;
	}
	if (f->bits == 16)
		return le(f->table + c * 2, 2);
	return le(f->table + c * 4, 4) & 0x0fffffff;
}

static bool in_range(const struct fat *f, uint32_t c)
{
	return c >= 2 && c - 2 < f->clusters;
}

/* The cluster after c in its chain: *next 0 at the chain's end. A free, bad or out-of-range
 * entry: damaged. */
static int next_cluster(const struct fat *f, uint32_t c, uint32_t *next)
{
	uint32_t v = fat_entry(f, c), eoc = f->bits == 12 ? 0xff8 : f->bits == 16 ? 0xfff8 : 0x0ffffff8;

	if (v >= eoc) {
		*next = 0;
		return 0;
	}
	if (!in_range(f, v))
		return -EINVAL;
	*next = v;
	return 0;
}

static unsigned long long cluster_at(const struct fat *f, uint32_t c)
{
	return f->data_at + (unsigned long long)(c - 2) * f->cluster_bytes;
}

/* Append len clusters from first to out, at most room bytes; *got counts them. Read in pieces
 * of at most PIECE bytes, so that a large file costs its own size and no more. */
static int read_run(const struct fat *f, uint32_t first, uint32_t len, unsigned long long room, struct buf *out,
		    unsigned long long *got)
{
	unsigned long long at = cluster_at(f, first), left = len * f->cluster_bytes < room ? len * f->cluster_bytes : room;
	char *piece = malloc(left < PIECE ? left + 1 : PIECE);
	int r = piece ? 0 : -ENOMEM;

	while (r == 0 && left > 0) {
		size_t n = left < PIECE ? left : PIECE;
		r = read_at(f, at, piece, n);
		if (r == 0)
			buf_add(out, piece, n);
		at += n, left -= n, *got += n;
	}
	free(piece);
	return r;
}

/* Append the chain from first to out: want bytes (a file's size), or up to the chain's end when
 * want is 0 (a folder, at most max bytes). Each run of consecutive clusters is read at once
 * (read_run); a cluster seen twice is a loop. */
static int read_chain(const struct fat *f, uint32_t first, unsigned long long want, unsigned long long max,
		      struct buf *out)
{
	unsigned long long got = 0, limit = want ? want : max;
	uint32_t c = first, run_start = first, run_len = 0;
	unsigned char *seen = calloc(f->clusters / 8 + 1, 1);
	int r = !seen ? -ENOMEM : in_range(f, first) ? 0 : -EINVAL;

	while (r == 0 && c && got < limit) {
		uint32_t next = 0, i = c - 2;
		if (seen[i / 8] & 1u << (i % 8))
			r = -EINVAL;
		seen[i / 8] |= (unsigned char)(1u << (i % 8));
		if (r == 0)
			r = next_cluster(f, c, &next);
		run_len++;
		/* Read a run when it ends, or once it holds all that is wanted. */
		if (r == 0 && (next != c + 1 || run_len * f->cluster_bytes >= limit - got)) {
			r = read_run(f, run_start, run_len, limit - got, out, &got);
			run_start = next, run_len = 0;
		}
		c = next;
	}
	free(seen);
	if (r == 0 && want && got < want)
		return -EINVAL; /* the chain ends before the size says */
	if (r == 0 && !want && c)
		return -EINVAL; /* a folder larger than a folder may be */
	return r;
}

/* A folder's entries: the fixed root of FAT12/16 (dir 0), else the chain from dir. */
static int read_dir(const struct fat *f, uint32_t dir, struct buf *out)
{
	if (dir == 0 && f->bits != 32) {
		char *raw = malloc(f->root_bytes ? f->root_bytes : 1);
		int r = raw ? read_at(f, f->root_at, raw, f->root_bytes) : -ENOMEM;
		if (r == 0)
			buf_add(out, raw, f->root_bytes);
		free(raw);
		return r;
	}
	return read_chain(f, dir ? dir : f->root_cluster, 0, MAX_DIR_BYTES, out);
}

static unsigned char lfn_checksum(const unsigned char *e)
{
	unsigned char sum = 0;

	for (int i = 0; i < 11; i++)
		sum = (unsigned char)(((sum & 1) << 7) + (sum >> 1) + e[i]);
	return sum;
}

/* Append code point u to s as UTF-8; returns the new end. */
static char *put_utf8(char *s, unsigned u)
{
	if (u < 0x80) {
		*s++ = (char)u;
	} else if (u < 0x800) {
		*s++ = (char)(0xc0 | u >> 6);
		*s++ = (char)(0x80 | (u & 0x3f));
	} else if (u < 0x10000) {
		*s++ = (char)(0xe0 | u >> 12);
		*s++ = (char)(0x80 | (u >> 6 & 0x3f));
		*s++ = (char)(0x80 | (u & 0x3f));
	} else {
		*s++ = (char)(0xf0 | u >> 18);
		*s++ = (char)(0x80 | (u >> 12 & 0x3f));
		*s++ = (char)(0x80 | (u >> 6 & 0x3f));
		*s++ = (char)(0x80 | (u & 0x3f));
	}
	return s;
}

/* UTF-16 units (up to the first 0) to UTF-8 in out (LFN_UNITS * 3 + 1 bytes); a lone surrogate
 * becomes U+FFFD. Never longer than 3 bytes per unit: a pair takes two units for four bytes. */
static void utf16_to_utf8(const uint16_t *u, int n, char *out)
{
	char *s = out;

	for (int i = 0; i < n && u[i]; i++) {
		unsigned c = u[i];
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && u[i + 1] >= 0xdc00 && u[i + 1] < 0xe000)
			c = 0x10000 + ((c - 0xd800) << 10) + (u[++i] - 0xdc00);
		else if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		s = put_utf8(s, c);
	}
	*s = '\0';
}

/* "NAME.EXT" of a short entry, in lower case where the NT case bits (byte 12) say so, as mtools
 * writes "boot.cfg". Bytes outside ASCII (a code page's) become '?'. */
static void short_name(const unsigned char *e, char out[13])
{
	char *s = out;

	for (int i = 0; i < 11; i++) {
		unsigned char c = i == 0 && e[0] == 0x05 ? 0xe5 : e[i];
		bool lower = e[12] & (i < 8 ? 0x08 : 0x10);
		if (i == 8 && e[8] != ' ')
			*s++ = '.';
		if (c == ' ')
			continue;
		if (c >= 0x80 || c < 0x20)
			c = '?';
		*s++ = (char)(lower && c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	*s = '\0';
}

/* The long name being gathered from the LFN entries before a short one. */
struct lfn {
	uint16_t units[LFN_UNITS];
	int expect;              /* the sequence number due next; 0 when complete or none */
	int count;               /* entries of the name */
	unsigned char checksum;
};

static void lfn_add(struct lfn *l, const unsigned char *e)
{
	static const int at[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
	int seq = e[0] & 0x1f;

	if (e[0] & 0x40) {
		l->count = seq;
		l->expect = seq;
		l->checksum = e[13];
		memset(l->units, 0, sizeof(l->units));
	}
	if (seq == 0 || seq > 20 || seq != l->expect || e[13] != l->checksum) {
		l->count = l->expect = -1; /* out of order: not a name */
		return;
	}
	for (int i = 0; i < 13; i++)
		l->units[(seq - 1) * 13 + i] = (uint16_t)le(e + at[i], 2);
	l->expect--;
}

/* Calls fn for each entry of a folder (raw, len bytes) that is a file or a folder; stops at the
 * end marker, or when fn returns non-zero (which it returns). */
typedef int each_fn(const struct entry *e, void *ctx);
static int each_entry(const struct fat *f, const unsigned char *raw, size_t len, each_fn *fn, void *ctx)
{
	struct lfn l = {.count = -1};
	struct entry *e = malloc(sizeof(*e));
	int r = e ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i + DIRENT <= len && raw[i]; i += DIRENT) {
		const unsigned char *d = raw + i;
		bool named = l.count > 0 && l.expect == 0 && lfn_checksum(d) == l.checksum;
		if (d[0] != 0xe5 && (d[11] & 0x3f) == ATTR_LFN) {
			lfn_add(&l, d);
			continue;
		}
		l.count = -1;
		if (d[0] == 0xe5 || d[0] == '.' || (d[11] & ATTR_VOLUME))
			continue;
		short_name(d, e->short_name);
		if (named)
			utf16_to_utf8(l.units, LFN_UNITS, e->name);
		else
			strcpy(e->name, e->short_name);
		e->attr = d[11];
		e->first = (uint32_t)(le(d + 26, 2) | (f->bits == 32 ? le(d + 20, 2) << 16 : 0));
		e->size = le(d + 28, 4);
		r = fn(e, ctx);
	}
	free(e);
	return r;
}

/* A folder's cluster (0: the root) as an entry to start a walk from. */
static int check_dir(const struct fat *f, const struct entry *e)
{
	return (e->attr & ATTR_DIR) && !in_range(f, e->first) ? -EINVAL : 0;
}

struct find {
	const char *want;
	size_t len;
	struct entry *found;
};

static int find_one(const struct entry *e, void *ctx)
{
	struct find *q = ctx;

	if ((strlen(e->name) == q->len && strncasecmp(e->name, q->want, q->len) == 0) ||
	    (strlen(e->short_name) == q->len && strncasecmp(e->short_name, q->want, q->len) == 0)) {
		*q->found = *e;
		return 1;
	}
	return 0;
}

/* The entry of path (a file or a folder); -ENOENT when a component is missing or not a folder. */
static int lookup(const struct fat *f, const char *path, struct entry *ret)
{
	struct entry cur = {.attr = ATTR_DIR, .first = 0};
	const char *p = path;
	int r = 0;

	while (r == 0) {
		struct buf raw = {0};
		struct find q;
		p += strspn(p, "/");
		if (!*p)
			break;
		if (!(cur.attr & ATTR_DIR))
			return -ENOENT;
		q = (struct find){.want = p, .len = strcspn(p, "/"), .found = &cur};
		r = read_dir(f, cur.first, &raw);
		if (r == 0)
			r = each_entry(f, (unsigned char *)raw.data, raw.len, find_one, &q);
		buf_free(&raw);
		if (r == 0)
			return -ENOENT;
		r = r == 1 ? check_dir(f, &cur) : r;
		p += q.len;
	}
	*ret = cur;
	return r;
}

/* The entry of a file at path: a folder is not one. */
static int lookup_file(const struct fat *f, const char *path, struct entry *ret)
{
	int r = lookup(f, path, ret);

	if (r == 0 && (ret->attr & ATTR_DIR))
		return -ENOENT;
	return r;
}

int fat_read(struct fat *f, const char *path, struct buf *out)
{
	struct entry e;
	int r = lookup_file(f, path, &e);

	if (r < 0 || e.size == 0)
		return r;
	return read_chain(f, e.first, e.size, 0, out);
}

int fat_extent(struct fat *f, const char *path, unsigned long long *first_byte, unsigned long long *contiguous_bytes,
	       unsigned long long *file_size)
{
	struct entry e;
	uint32_t c, next = 0, run = 1;
	int r = lookup_file(f, path, &e);

	if (r < 0)
		return r;
	*file_size = e.size;
	*first_byte = *contiguous_bytes = 0;
	if (e.first == 0 && e.size == 0)
		return 0;
	if (!in_range(f, e.first))
		return -EINVAL;
	/* Each step goes one cluster up, so the walk ends within the cluster count. */
	for (c = e.first; (r = next_cluster(f, c, &next)) == 0 && next == c + 1; c = next)
		run++;
	if (r < 0)
		return r;
	*first_byte = cluster_at(f, e.first);
	*contiguous_bytes = run * f->cluster_bytes;
	return 0;
}

struct walk {
	const struct fat *f;
	struct buf *out;
	const char *prefix; /* "/dir" of the folder being listed */
	int depth;
	unsigned *entries;
};

static int list_dir(const struct fat *f, uint32_t dir, const char *prefix, int depth, unsigned *entries,
		    struct buf *out);

/* mdir -/ lists a folder's own line, then its contents, as the folder's entry comes. Without -a
 * it leaves out hidden and system entries, but not what a hidden folder holds: so here. */
static int list_one(const struct entry *e, void *ctx)
{
	struct walk *w = ctx;
	bool shown = !(e->attr & ATTR_HIDDEN);
	int r = 0;

	if (++*w->entries > MAX_ENTRIES)
		return -EINVAL;
	if (!(e->attr & ATTR_DIR)) {
		if (shown)
			buf_printf(w->out, "::%s/%s\n", w->prefix, e->name);
		return 0;
	}
	if ((r = check_dir(w->f, e)) == 0) {
		char *sub = malloc(strlen(w->prefix) + strlen(e->name) + 2);
		if (!sub)
			return -ENOMEM;
		sprintf(sub, "%s/%s", w->prefix, e->name);
		if (shown)
			buf_printf(w->out, "::%s/\n", sub);
		r = list_dir(w->f, e->first, sub, w->depth + 1, w->entries, w->out);
		free(sub);
	}
	return r;
}

static int list_dir(const struct fat *f, uint32_t dir, const char *prefix, int depth, unsigned *entries,
		    struct buf *out)
{
	struct walk w = {f, out, prefix, depth, entries};
	struct buf raw = {0};
	int r = depth > MAX_DEPTH ? -EINVAL : read_dir(f, dir, &raw);

	if (r == 0)
		r = each_entry(f, (unsigned char *)raw.data, raw.len, list_one, &w);
	buf_free(&raw);
	return r;
}

int fat_list(struct fat *f, struct buf *out)
{
	unsigned entries = 0;

	return list_dir(f, 0, "", 0, &entries, out);
}
