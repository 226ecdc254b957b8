#define _GNU_SOURCE
#include "bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "util.h"

static const char *const manifest_keys[] = {
	"format", "product", "version", "build-id", "source-date-epoch", "image", "file", "revoke", NULL,
};

/* Payload paths are plain relative paths: no "..", no leading '/', no odd characters. */
static int valid_path(const char *p)
{
	if (!*p || *p == '/' || strstr(p, "..") || strstr(p, "//") || p[strlen(p) - 1] == '/')
		return 0;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-/+", *p))
			return 0;
	return 1;
}

/* "<sha256> <size> <path>" of a file or image line. */
static int parse_entry(const char *name, const struct kv *kv, struct bundle_file *ret, struct diag *d)
{
	struct strv w = {0};
	struct bundle_file f = {0};
	char *end = NULL;
	int r = 0;

	kv_split(kv->value, &w);
	if (w.n == 3) {
		errno = 0;
		f.size = strtoull(w.v[1], &end, 10);
	}
	if (w.n != 3 || strlen(w.v[0]) != 64 || strspn(w.v[0], "0123456789abcdef") != 64 || !end || *end ||
	    errno || !isdigit((unsigned char)w.v[1][0]))
		r = diag_set(d, name, kv->line, "expected '%s = <sha256> <size> <path>'; the bundle is damaged", kv->key);
	else if (!valid_path(w.v[2]))
		r = diag_set(d, name, kv->line, "unsafe payload path '%s'; the bundle is damaged or hostile", w.v[2]);
	if (r == 0) {
		memcpy(f.sha256, w.v[0], 65);
		f.path = xstrdup(w.v[2]);
		*ret = f;
	}
	strv_free(&w);
	return r;
}

static int add_file(struct bundle_manifest *m, const char *name, const struct kv *kv, struct diag *d)
{
	struct bundle_file f;
	int r = parse_entry(name, kv, &f, d);

	if (r == 0 && m->payload_size + f.size < m->payload_size) {
		free(f.path);
		r = diag_set(d, name, kv->line, "payload size overflows; the bundle is damaged");
	}
	if (r == 0) {
		m->files = xrealloc(m->files, (m->nfiles + 1) * sizeof(*m->files));
		m->files[m->nfiles++] = f;
		m->payload_size += f.size;
	}
	return r;
}

static int set_image(struct bundle_manifest *m, const char *name, const struct kv *kv, struct diag *d)
{
	struct bundle_file f;
	int r;

	if (m->image_sha256[0])
		return diag_set(d, name, kv->line, "'image' given twice; the bundle is damaged");
	if ((r = parse_entry(name, kv, &f, d)) < 0)
		return r;
	if (strcmp(f.path, BUNDLE_IMAGE) != 0)
		r = diag_set(d, name, kv->line, "the image must be called %s, not '%s'; the bundle is damaged",
			     BUNDLE_IMAGE, f.path);
	else {
		memcpy(m->image_sha256, f.sha256, sizeof(f.sha256));
		m->image_size = f.size;
	}
	free(f.path);
	return r;
}

static int add_revoke(struct bundle_manifest *m, const char *name, const struct kv *kv, struct diag *d)
{
	if (strlen(kv->value) != 64 || strspn(kv->value, "0123456789abcdef") != 64)
		return diag_set(d, name, kv->line, "expected 'revoke = <sha256 fingerprint, 64 lower-case hex digits>'; "
				"the bundle is damaged");
	strv_push(&m->revoked, kv->value);
	return 0;
}

static int set_field(struct bundle_manifest *m, const char *name, const struct kv *kv, struct diag *d)
{
	char **field = strcmp(kv->key, "product") == 0 ? &m->product :
		       strcmp(kv->key, "version") == 0 ? &m->version : &m->build_id;

	if (*field)
		return diag_set(d, name, kv->line, "'%s' given twice; the bundle is damaged", kv->key);
	if (!*kv->value || strpbrk(kv->value, " \t\n\\"))
		return diag_set(d, name, kv->line, "'%s' needs a one-word value; the bundle is damaged", kv->key);
	*field = xstrdup(kv->value);
	return 0;
}

static int apply(struct bundle_manifest *m, const char *name, const struct kv *kv, struct diag *d)
{
	int r = kv_check_key(name, kv, manifest_keys, d);

	if (r < 0)
		return r;
	if (strcmp(kv->key, "file") == 0)
		return add_file(m, name, kv, d);
	if (strcmp(kv->key, "image") == 0)
		return set_image(m, name, kv, d);
	if (strcmp(kv->key, "revoke") == 0)
		return add_revoke(m, name, kv, d);
	if (strcmp(kv->key, "format") == 0)
		return strcmp(kv->value, "1") == 0 ? 0
			: diag_set(d, name, kv->line, "bundle format %s is not known here; update bankctl first", kv->value);
	if (strcmp(kv->key, "source-date-epoch") == 0) {
		char *end;
		m->epoch = strtoll(kv->value, &end, 10);
		return *end || !*kv->value ? diag_set(d, name, kv->line, "source-date-epoch is not a number") : 0;
	}
	return set_field(m, name, kv, d);
}

int bundle_manifest_parse(const char *name, const char *text, size_t len, struct bundle_manifest *ret,
			  struct diag *d)
{
	struct bundle_manifest m = {0};
	struct kv_lexer lx;
	struct kv kv;
	int r;

	kv_init(&lx, name, text, len);
	while ((r = kv_next(&lx, &kv, d)) > 0) {
		r = apply(&m, name, &kv, d);
		kv_free(&kv);
		if (r < 0)
			break;
	}
	if (r == 0 && (!m.product || !m.version || !m.build_id))
		r = diag_set(d, name, 0, "missing product, version or build-id; this is not a complete bundle");
	if (r == 0 && m.nfiles == 0)
		r = diag_set(d, name, 0, "the manifest lists no payload files; this is not a complete bundle");
	if (r == 0 && !m.image_sha256[0])
		r = diag_set(d, name, 0, "the manifest names no bank image; this is not a complete bundle");
	if (r < 0) {
		bundle_manifest_free(&m);
		return r;
	}
	*ret = m;
	return 0;
}

void bundle_manifest_free(struct bundle_manifest *m)
{
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	strv_free(&m->revoked);
	free(m->product);
	free(m->version);
	free(m->build_id);
	*m = (struct bundle_manifest){0};
}

int bundle_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		char *ea, *eb;
		unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (ea == a || eb == b) /* not numbers: compare the rest as text */
			return strcmp(a, b) < 0 ? -1 : strcmp(a, b) > 0;
		a = *ea == '.' ? ea + 1 : ea;
		b = *eb == '.' ? eb + 1 : eb;
		if ((*ea && *ea != '.') || (*eb && *eb != '.'))
			return strcmp(a, b) < 0 ? -1 : strcmp(a, b) > 0;
	}
	return 0;
}

/* --- reading --- */

struct bundle_reader {
	struct archive *a;
	char *path;
	struct bundle_manifest m;
	char *text;      /* the manifest's bytes, as signed */
	size_t text_len;
	char *signature; /* NULL when the bundle is unsigned */
	size_t signature_len;
	struct archive_entry *pending; /* the first payload entry, read while looking for the signature */
	struct hasher image_hash;      /* over bank.img as it streams */
	bool hashing;                  /* image_hash is started and not yet ended (false: deferred) */
	struct hasher *hash_to;        /* where bank.img's bytes go: &image_hash, a caller's, or NULL */
	bool stdin_;                   /* read from standard input */
	unsigned long long image_read;
	void *map;                     /* a bundle file mapped whole (libarchive reads it in place), or NULL */
	size_t map_len;
	int map_fd;                    /* the mapped file, open while it is mapped */
};

static int read_entry_text(struct bundle_reader *b, struct archive_entry *e, char **ret, size_t *ret_len,
			   struct diag *d)
{
	la_int64_t size = archive_entry_size(e);
	char *text;

	if (size < 0 || size > BUNDLE_MANIFEST_MAX)
		return diag_set(d, b->path, 0, "%s is %lld bytes, more than a manifest can be; this is not a bundle",
				archive_entry_pathname(e), (long long)size);
	text = xmalloc((size_t)size + 1);
	if (archive_read_data(b->a, text, (size_t)size) != size) {
		free(text);
		return diag_set(d, b->path, 0, "the bundle is truncated inside %s; download it again",
				archive_entry_pathname(e));
	}
	text[size] = '\0';
	*ret = text;
	*ret_len = (size_t)size;
	return 0;
}

static int read_manifest(struct bundle_reader *b, struct diag *d)
{
	struct archive_entry *e;
	char *text, *label;
	size_t len;
	int r;

	if (archive_read_next_header(b->a, &e) != ARCHIVE_OK || strcmp(archive_entry_pathname(e), BUNDLE_MANIFEST) != 0)
		return diag_set(d, b->path, 0, "not an update bundle (no %s first); build one with 'make' "
				"(out/<name>-<version>.bundle)", BUNDLE_MANIFEST);
	if ((r = read_entry_text(b, e, &text, &len, d)) < 0)
		return r;
	label = xasprintf("%s: %s", b->path, BUNDLE_MANIFEST);
	r = bundle_manifest_parse(label, text, len, &b->m, d);
	free(label);
	b->text = text;
	b->text_len = len;
	return r;
}

static int read_signature(struct bundle_reader *b, struct diag *d)
{
	struct archive_entry *e;
	int st = archive_read_next_header(b->a, &e);

	if (st == ARCHIVE_EOF)
		return diag_set(d, b->path, 0, "the bundle ends after its manifest; it is truncated, download it again");
	if (st != ARCHIVE_OK)
		return diag_set(d, b->path, 0, "the bundle is damaged after its manifest: %s", archive_error_string(b->a));
	if (strcmp(archive_entry_pathname(e), BUNDLE_SIGNATURE) != 0) {
		b->pending = archive_entry_clone(e);
		return 0;
	}
	return read_entry_text(b, e, &b->signature, &b->signature_len, d);
}

/* Map a bundle file whole, for libarchive to read in place (no copy into its buffers, and
 * bank.img's bytes handed out where they are: bundle_image_view). The file stays open, for
 * bundle_view_read(). Its pages are not read ahead (MAP_POPULATE): the
 * parser touches the headers only, and bank.img's data is read out with bundle_view_read().
 * Nothing when it cannot be mapped (not a regular file, empty, or a file system without mmap):
 * it is then read as it streams. */
static void map_bundle(struct bundle_reader *b, const char *path)
{
	struct stat st;
	/* Only a regular file is opened here: opening a FIFO would wait for, then lose, its writer. */
	int fd = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	void *p = MAP_FAILED;

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (unsigned long long)st.st_size <= SIZE_MAX)
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		if (fd >= 0)
			close(fd);
		return;
	}
	b->map = p;
	b->map_len = (size_t)st.st_size;
	b->map_fd = fd;
}

static int open_archive(struct bundle_reader *b, const char *path)
{
	if (b->stdin_) {
		/* A pipe of 1 MiB instead of 64 KiB: its writer blocks (and the two switch) 16 times less. */
		fcntl(0, F_SETPIPE_SZ, 1 << 20);
		return archive_read_open_fd(b->a, 0, 1 << 20);
	}
	map_bundle(b, path);
	if (b->map)
		return archive_read_open_memory(b->a, b->map, b->map_len);
	return archive_read_open_filename(b->a, path, 1 << 20);
}

int bundle_open(const char *path, struct bundle_reader **ret, struct diag *d)
{
	struct bundle_reader *b = xcalloc(1, sizeof(*b));
	int r = 0;

	bool in = strcmp(path, "-") == 0;

	b->path = xstrdup(in ? "standard input" : path);
	b->stdin_ = in;
	b->a = archive_read_new();
	archive_read_support_format_tar(b->a);
	if (open_archive(b, path) != ARCHIVE_OK)
		r = diag_set(d, b->path, 0, "not an update bundle (%s); give the .bundle file that 'make' builds",
			     archive_error_string(b->a));
	if (r == 0)
		r = read_manifest(b, d);
	if (r == 0)
		r = read_signature(b, d);
	if (r < 0) {
		bundle_close(b);
		return r;
	}
	*ret = b;
	return 0;
}

bool bundle_mapped(const struct bundle_reader *b)
{
	return b->map != NULL;
}

int bundle_view_read(const struct bundle_reader *b, const void *at, void *buf, size_t n, struct diag *d)
{
	off_t off = (off_t)((const char *)at - (const char *)b->map);
	ssize_t got = 0;

	for (size_t done = 0; done < n; done += (size_t)got)
		if ((got = pread(b->map_fd, (char *)buf + done, n - done, off + (off_t)done)) <= 0)
			return got < 0 ? diag_set(d, b->path, 0, "cannot read: %s", strerror(errno))
				       : diag_set(d, b->path, 0, "the bundle file was cut short while it was being "
						  "staged; stage it again");
	return 0;
}

const struct bundle_manifest *bundle_get_manifest(const struct bundle_reader *b)
{
	return &b->m;
}

int bundle_verify_signature(const struct bundle_reader *b, const struct keyring *k, struct signing_info *ret,
			    struct diag *d)
{
	char *name = xasprintf("%s: %s", b->path, BUNDLE_SIGNATURE);
	int r = 0;

	if (!b->signature)
		r = diag_set(d, b->path, 0, "the bundle is not signed (no %s); refusing it, build it with a signing key",
			     BUNDLE_SIGNATURE);
	else
		r = signing_verify(k, b->text, b->text_len, b->signature, b->signature_len, name, ret, d);
	free(name);
	return r < 0 ? -EBADMSG : 0;
}

void bundle_close(struct bundle_reader *b)
{
	if (!b)
		return;
	if (b->a)
		archive_read_free(b->a);
	if (b->map) {
		munmap(b->map, b->map_len);
		close(b->map_fd);
	}
	if (b->pending)
		archive_entry_free(b->pending);
	if (b->hashing) {
		char hex[HASH_HEX_LEN];
		hasher_end(&b->image_hash, hex);
	}
	bundle_manifest_free(&b->m);
	free(b->text);
	free(b->signature);
	free(b->path);
	free(b);
}

/* The entry after the manifest (and signature): it must be bank.img. */
static int image_entry(struct bundle_reader *b, struct diag *d)
{
	struct archive_entry *e = NULL;
	int st = b->pending ? ARCHIVE_OK : archive_read_next_header(b->a, &e);
	const char *name = b->pending ? archive_entry_pathname(b->pending) : st == ARCHIVE_OK ? archive_entry_pathname(e) : "";
	int r = 0;

	if (st == ARCHIVE_EOF)
		r = diag_set(d, b->path, 0, "the bundle ends before %s; it is truncated, download it again", BUNDLE_IMAGE);
	else if (st != ARCHIVE_OK)
		r = diag_set(d, b->path, 0, "the bundle is truncated or damaged before %s (%s); download it again",
			     BUNDLE_IMAGE, archive_error_string(b->a));
	else if (strcmp(name, BUNDLE_IMAGE) != 0)
		r = diag_set(d, b->path, 0, "found %s where %s should come; the bundle is damaged", name, BUNDLE_IMAGE);
	if (b->pending)
		archive_entry_free(b->pending);
	b->pending = NULL;
	return r;
}

int bundle_image_read(struct bundle_reader *b, void *buf, size_t n, struct diag *d)
{
	ssize_t got = 0;

	for (size_t done = 0; done < n; done += (size_t)got) {
		got = archive_read_data(b->a, (char *)buf + done, n - done);
		if (got <= 0)
			return diag_set(d, b->path, 0, "%s ends %llu bytes in, the manifest says %llu; the bundle is "
					"truncated or damaged, download it again", BUNDLE_IMAGE, b->image_read + done,
					b->m.image_size);
	}
	if (b->hash_to)
		hasher_add(b->hash_to, buf, n);
	b->image_read += n;
	return 0;
}

/* bank.img's entry and header, hashed into hash_to; the data that follows into data_to. */
/* bank.img's header: how long it is, from its first HVIMG_HEADER of avail bytes at p (0 with d
 * when they are not one, or it would be longer than max), and its parse (len bytes at p), for a
 * streamed and a mapped bundle. */
static size_t header_len(const struct bundle_reader *b, const unsigned char *p, size_t avail, size_t max,
			 struct diag *d)
{
	size_t len = hvimg_header_len(p, avail);

	if (len > max)
		len = 0;
	if (len == 0)
		diag_set(d, b->path, 0, "%s is not a bank image (no HVIMG1 header); the bundle is damaged", BUNDLE_IMAGE);
	return len;
}

static int header_parse(const struct bundle_reader *b, const unsigned char *p, size_t len, struct hvimg *ret,
			struct diag *d)
{
	const char *why = NULL;

	if (hvimg_parse(p, len, ret, &why) < 0)
		return diag_set(d, b->path, 0, "%s: %s; the bundle is damaged", BUNDLE_IMAGE, why);
	return 0;
}

static int image_open(struct bundle_reader *b, struct hvimg *ret, struct hasher *hash_to, struct hasher *data_to,
		      struct diag *d)
{
	unsigned char head[HVIMG_HEADER], *all = NULL;
	size_t len;
	int r = image_entry(b, d);

	b->hash_to = hash_to;
	b->image_read = 0;
	if (r == 0)
		r = bundle_image_read(b, head, sizeof(head), d);
	if (r == 0 && (len = header_len(b, head, sizeof(head), SIZE_MAX, d)) == 0)
		r = -EINVAL;
	if (r == 0) {
		all = xmalloc(len);
		memcpy(all, head, sizeof(head));
		r = bundle_image_read(b, all + sizeof(head), len - sizeof(head), d);
	}
	if (r == 0)
		r = header_parse(b, all, len, ret, d);
	free(all);
	b->hash_to = data_to;
	return r;
}

int bundle_image_open(struct bundle_reader *b, struct hvimg *ret, struct diag *d)
{
	if (!b->hashing)
		hasher_init(&b->image_hash);
	b->hashing = true;
	return image_open(b, ret, &b->image_hash, &b->image_hash, d);
}

int bundle_image_open_deferred(struct bundle_reader *b, struct hvimg *ret, struct hasher *ret_hash, struct diag *d)
{
	char hex[HASH_HEX_LEN];

	if (b->hashing) /* an earlier bundle_image_open() never closed */
		hasher_end(&b->image_hash, hex);
	b->hashing = false;
	hasher_init(ret_hash);
	return image_open(b, ret, ret_hash, NULL, d);
}

int bundle_image_view(struct bundle_reader *b, struct hvimg *ret, const unsigned char **ret_bytes, struct diag *d)
{
	const void *p = NULL;
	size_t n = 0, len = 0;
	la_int64_t off = -1;
	int r;

	if (!b->map)
		return -ENOTSUP;
	if ((r = image_entry(b, d)) < 0)
		return r;
	b->hash_to = NULL;
	b->image_read = 0;
	if (archive_read_data_block(b->a, &p, &n, &off) != ARCHIVE_OK || off != 0 || n != b->m.image_size)
		return diag_set(d, b->path, 0, "%s is not the %llu bytes the manifest says; the bundle is truncated or "
				"damaged, download it again", BUNDLE_IMAGE, b->m.image_size);
	if ((len = header_len(b, p, n, n, d)) == 0)
		return -EINVAL;
	if ((r = header_parse(b, p, len, ret, d)) < 0)
		return r;
	if (ret->header_len + ret->data_bytes != n) {
		hvimg_free(ret);
		return diag_set(d, b->path, 0, "%s holds %llu bytes, its header says %llu; the bundle is damaged",
				BUNDLE_IMAGE, (unsigned long long)n,
				(unsigned long long)(ret->header_len + ret->data_bytes));
	}
	b->image_read = n;
	*ret_bytes = p;
	return 0;
}

int bundle_image_check(const struct bundle_reader *b, struct hasher *h, const char *where, struct diag *d)
{
	char hex[HASH_HEX_LEN];
	int r = hasher_end(h, hex);

	if (r < 0)
		return diag_set_errno(d, -r, b->path, 0, "cannot compute the sha256 of %s; free some memory and try again",
				      BUNDLE_IMAGE);
	if (strcmp(hex, b->m.image_sha256) != 0)
		return diag_set(d, b->path, 0, "%s%s does not match its sha256 in the manifest; the bundle is damaged or "
				"was altered%s", BUNDLE_IMAGE, where ? where : "",
				where ? ", or the disk did not keep what was written" : "");
	return 0;
}

int bundle_image_close(struct bundle_reader *b, struct diag *d)
{
	char extra;
	struct archive_entry *e;
	bool hashed = b->hashing;
	int st, r = 0;

	b->hash_to = NULL;
	if (b->image_read != b->m.image_size || archive_read_data(b->a, &extra, 1) != 0)
		r = diag_set(d, b->path, 0, "%s is not the %llu bytes the manifest says; the bundle is damaged",
			     BUNDLE_IMAGE, b->m.image_size);
	if (hashed) {
		struct diag later;
		int rh = bundle_image_check(b, &b->image_hash, NULL, r < 0 ? &later : d);
		b->hashing = false;
		r = r < 0 ? r : rh;
	}
	if (r < 0)
		return r;
	if ((st = archive_read_next_header(b->a, &e)) != ARCHIVE_EOF)
		return diag_set(d, b->path, 0, st == ARCHIVE_OK ? "unexpected entry %s after %s; the bundle is damaged"
				: "the bundle is damaged after %s%s", st == ARCHIVE_OK ? archive_entry_pathname(e) : "",
				BUNDLE_IMAGE);
	return 0;
}
