#define _GNU_SOURCE
#include "hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int hasher_init(struct hasher *h)
{
	h->err = 0;
	h->md = EVP_MD_CTX_new();
	if (!h->md)
		h->err = -ENOMEM;
	else if (EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
		h->err = -EIO;
	return h->err;
}

void hasher_add(struct hasher *h, const void *p, size_t n)
{
	if (h->err == 0 && EVP_DigestUpdate(h->md, p, n) != 1)
		h->err = -EIO;
}

int hasher_copy(struct hasher *dst, const struct hasher *src)
{
	*dst = (struct hasher){.err = src->err};
	if (dst->err == 0 && !(dst->md = EVP_MD_CTX_new()))
		dst->err = -ENOMEM;
	else if (dst->err == 0 && EVP_MD_CTX_copy_ex(dst->md, src->md) != 1)
		dst->err = -EIO;
	return dst->err;
}

void hasher_add_str(struct hasher *h, const char *s)
{
	hasher_add(h, s, strlen(s) + 1);
}

int hasher_end(struct hasher *h, char out[HASH_HEX_LEN])
{
	unsigned char md[32];
	unsigned int n = 0;

	if (h->err == 0 && (EVP_DigestFinal_ex(h->md, md, &n) != 1 || n != sizeof(md)))
		h->err = -EIO;
	EVP_MD_CTX_free(h->md);
	h->md = NULL;
	out[0] = '\0';
	for (unsigned int i = 0; i < 32 && h->err == 0; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	return h->err;
}

int hash_buf(const void *p, size_t n, char out[HASH_HEX_LEN])
{
	struct hasher h;

	hasher_init(&h);
	hasher_add(&h, p, n);
	return hasher_end(&h, out);
}

/* The cache: one line per file, "<hex> <size> <mtime-ns> <inode> <path>". */
struct cache_ent {
	char *path;
	long long size, mtime_ns, ino;
	char hex[HASH_HEX_LEN];
};
static struct {
	char *path;
	struct cache_ent *ents;
	size_t n;
	int dirty;
} cache;

static void cache_parse_line(char *line)
{
	struct cache_ent e = {0};
	int off = 0;

	if (sscanf(line, "%64s %lld %lld %lld %n", e.hex, &e.size, &e.mtime_ns, &e.ino, &off) < 4 || !off)
		return;
	line[strcspn(line, "\n")] = '\0';
	e.path = xstrdup(line + off);
	cache.ents = xrealloc(cache.ents, (cache.n + 1) * sizeof(*cache.ents));
	cache.ents[cache.n++] = e;
}

void hash_cache_open(const char *path)
{
	char *text, *save = NULL;

	cache.path = xstrdup(path);
	if (util_read_file(path, &text, NULL) < 0)
		return;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		cache_parse_line(l);
	free(text);
}

int hash_cache_close(void)
{
	struct buf b = {0};
	int r = 0;

	if (cache.dirty && cache.path) {
		buf_puts(&b, "");
		for (size_t i = 0; i < cache.n; i++)
			buf_printf(&b, "%s %lld %lld %lld %s\n", cache.ents[i].hex, cache.ents[i].size,
				   cache.ents[i].mtime_ns, cache.ents[i].ino, cache.ents[i].path);
		r = util_write_file_atomic(cache.path, b.data, b.len, 0644);
		buf_free(&b);
	}
	for (size_t i = 0; i < cache.n; i++)
		free(cache.ents[i].path);
	free(cache.ents);
	free(cache.path);
	cache.ents = NULL;
	cache.path = NULL;
	cache.n = 0;
	cache.dirty = 0;
	return r;
}

static struct cache_ent *cache_find(const char *path)
{
	for (size_t i = 0; i < cache.n; i++)
		if (strcmp(cache.ents[i].path, path) == 0)
			return &cache.ents[i];
	return NULL;
}

static int hash_fd(int fd, char out[HASH_HEX_LEN])
{
	static char chunk[1 << 16];
	struct hasher h;
	ssize_t n;
	int r, e;

	hasher_init(&h);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		hasher_add(&h, chunk, (size_t)n);
	r = n < 0 ? -errno : 0;
	e = hasher_end(&h, out);
	return r < 0 ? r : e;
}

static void cache_store(const char *path, const struct stat *st, const char *hex)
{
	struct cache_ent *e = cache_find(path);

	if (!e) {
		cache.ents = xrealloc(cache.ents, (cache.n + 1) * sizeof(*cache.ents));
		e = &cache.ents[cache.n++];
		e->path = xstrdup(path);
	}
	e->size = st->st_size;
	e->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	e->ino = (long long)st->st_ino;
	memcpy(e->hex, hex, HASH_HEX_LEN);
	cache.dirty = 1;
}

int hash_file(const char *path, char out[HASH_HEX_LEN])
{
	struct stat st;
	struct cache_ent *e;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	e = cache.path ? cache_find(path) : NULL;
	if (e && e->size == st.st_size && e->ino == (long long)st.st_ino &&
	    e->mtime_ns == (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec) {
		memcpy(out, e->hex, HASH_HEX_LEN);
		close(fd);
		return 0;
	}
	r = hash_fd(fd, out);
	close(fd);
	if (r == 0 && cache.path)
		cache_store(path, &st, out);
	return r;
}

static int tree_add(struct hasher *h, const char *path, const char *rel);

static int hash_cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int tree_dir(struct hasher *h, const char *path, const char *rel)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, hash_cmp_names), r = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		if (r == 0 && strcmp(name, ".") && strcmp(name, "..")) {
			char *p = xasprintf("%s/%s", path, name), *rl = xasprintf("%s/%s", rel, name);
			r = tree_add(h, p, rl);
			free(p);
			free(rl);
		}
		free(ents[i]);
	}
	free(ents);
	return r;
}

static int tree_add(struct hasher *h, const char *path, const char *rel)
{
	struct stat st;
	char hex[HASH_HEX_LEN], mode[32], link[4096];
	ssize_t n;

	if (lstat(path, &st) < 0)
		return -errno;
	snprintf(mode, sizeof(mode), "%o", (unsigned)st.st_mode);
	hasher_add_str(h, rel);
	hasher_add_str(h, mode);
	if (S_ISDIR(st.st_mode))
		return tree_dir(h, path, rel);
	if (S_ISLNK(st.st_mode)) {
		if ((n = readlink(path, link, sizeof(link) - 1)) < 0)
			return -errno;
		link[n] = '\0';
		hasher_add_str(h, link);
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((n = hash_file(path, hex)) < 0)
		return (int)n;
	hasher_add_str(h, hex);
	return 0;
}

int hash_tree(const char *path, char out[HASH_HEX_LEN])
{
	struct hasher h;
	int r, e;

	hasher_init(&h);
	r = tree_add(&h, path, ".");
	e = hasher_end(&h, out);
	return r < 0 ? r : e;
}
