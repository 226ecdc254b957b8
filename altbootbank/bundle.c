#define _GNU_SOURCE
#include "bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "util.h"

static const char *const manifest_keys[] = {
	"format", "product", "version", "build-id", "source-date-epoch", "file", NULL,
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

static int add_file(struct bundle_manifest *m, const char *name, const struct kv *kv, struct diag *d)
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
		r = diag_set(d, name, kv->line, "expected 'file = <sha256> <size> <path>'; the bundle is damaged");
	else if (!valid_path(w.v[2]))
		r = diag_set(d, name, kv->line, "unsafe payload path '%s'; the bundle is damaged or hostile", w.v[2]);
	else if (m->payload_size + f.size < m->payload_size)
		r = diag_set(d, name, kv->line, "payload size overflows; the bundle is damaged");
	if (r == 0) {
		memcpy(f.sha256, w.v[0], 65);
		f.path = xstrdup(w.v[2]);
		m->files = xrealloc(m->files, (m->nfiles + 1) * sizeof(*m->files));
		m->files[m->nfiles++] = f;
		m->payload_size += f.size;
	}
	strv_free(&w);
	return r;
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
	char *signature; /* NULL while bundles are unsigned */
	struct archive_entry *pending; /* the first payload entry, read while looking for the signature */
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
	free(text);
	return r;
}

static int read_signature(struct bundle_reader *b, struct diag *d)
{
	struct archive_entry *e;
	size_t len;
	int st = archive_read_next_header(b->a, &e);

	if (st == ARCHIVE_EOF)
		return diag_set(d, b->path, 0, "the bundle ends after its manifest; it is truncated, download it again");
	if (st != ARCHIVE_OK)
		return diag_set(d, b->path, 0, "the bundle is damaged after its manifest: %s", archive_error_string(b->a));
	if (strcmp(archive_entry_pathname(e), BUNDLE_SIGNATURE) != 0) {
		b->pending = archive_entry_clone(e);
		return 0;
	}
	return read_entry_text(b, e, &b->signature, &len, d);
}

int bundle_open(const char *path, struct bundle_reader **ret, struct diag *d)
{
	struct bundle_reader *b = xcalloc(1, sizeof(*b));
	int r = 0;

	b->path = xstrdup(path);
	b->a = archive_read_new();
	archive_read_support_format_tar(b->a);
	if (archive_read_open_filename(b->a, path, 1 << 16) != ARCHIVE_OK)
		r = diag_set(d, path, 0, "not an update bundle (%s); give the .bundle file that 'make' builds",
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

const struct bundle_manifest *bundle_get_manifest(const struct bundle_reader *b)
{
	return &b->m;
}

void bundle_close(struct bundle_reader *b)
{
	if (!b)
		return;
	if (b->a)
		archive_read_free(b->a);
	if (b->pending)
		archive_entry_free(b->pending);
	bundle_manifest_free(&b->m);
	free(b->signature);
	free(b->path);
	free(b);
}

struct progress {
	void (*fn)(unsigned long long, unsigned long long, void *);
	void *ctx;
	unsigned long long done, total;
};

/* Stream one payload entry into path, hashing as it goes; 0 when size and sha256 match. */
static int extract_file(struct bundle_reader *b, const struct bundle_file *f, const char *path,
			struct progress *p, struct diag *d)
{
	char chunk[1 << 16], hex[HASH_HEX_LEN];
	struct hasher h;
	unsigned long long got = 0;
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), r = 0;

	if (fd < 0)
		return diag_set(d, path, 0, "cannot create: %s", strerror(errno));
	hasher_init(&h);
	while ((n = archive_read_data(b->a, chunk, sizeof(chunk))) > 0) {
		hasher_add(&h, chunk, (size_t)n);
		got += (unsigned long long)n;
		if (r == 0 && write(fd, chunk, (size_t)n) != n)
			r = diag_set(d, path, 0, "cannot write: %s; free some space", strerror(errno));
		p->done += (unsigned long long)n;
		if (p->fn)
			p->fn(p->done, p->total, p->ctx);
	}
	hasher_end(&h, hex);
	close(fd);
	if (r == 0 && (n < 0 || got != f->size))
		r = diag_set(d, b->path, 0, "payload/%s is %llu bytes, the manifest says %llu; the bundle is truncated "
			     "or damaged", f->path, got, f->size);
	else if (r == 0 && strcmp(hex, f->sha256) != 0)
		r = diag_set(d, b->path, 0, "payload/%s does not match its sha256 in the manifest; the bundle is "
			     "damaged or was altered", f->path);
	return r;
}

static int next_entry(struct bundle_reader *b, struct archive_entry **e)
{
	if (b->pending) {
		/* The entry read while looking for the signature: the archive is positioned at its data. */
		archive_entry_free(b->pending);
		b->pending = NULL;
		*e = NULL;
		return ARCHIVE_OK;
	}
	return archive_read_next_header(b->a, e);
}

static char *entry_name(struct archive_entry *e, char *first)
{
	return e ? xstrdup(archive_entry_pathname(e)) : first;
}

static int extract_one(struct bundle_reader *b, const struct bundle_file *f, const char *dir,
		       struct progress *p, char **first, struct diag *d)
{
	struct archive_entry *e = NULL;
	char *want = xasprintf("payload/%s", f->path), *name, *path, *parent;
	int st = next_entry(b, &e), r = 0;

	name = st == ARCHIVE_OK ? entry_name(e, *first) : NULL;
	*first = NULL;
	if (st == ARCHIVE_EOF)
		r = diag_set(d, b->path, 0, "the bundle ends before %s; it is truncated, download it again", want);
	else if (st != ARCHIVE_OK)
		r = diag_set(d, b->path, 0, "the bundle is truncated or damaged before %s (%s); download it again", want,
			     archive_error_string(b->a));
	else if (strcmp(name, want) != 0)
		r = diag_set(d, b->path, 0, "found %s where the manifest says %s comes; the bundle is damaged", name, want);
	if (r == 0) {
		path = xasprintf("%s/%s", dir, f->path);
		parent = xstrdup(path);
		*strrchr(parent, '/') = '\0';
		util_mkdir_p(parent, 0755);
		r = extract_file(b, f, path, p, d);
		free(path);
		free(parent);
	}
	free(name);
	free(want);
	return r;
}

int bundle_extract(struct bundle_reader *b, const char *dir,
		   void (*progress)(unsigned long long done, unsigned long long total, void *ctx), void *ctx,
		   struct diag *d)
{
	struct progress p = {progress, ctx, 0, b->m.payload_size};
	char *first = b->pending ? xstrdup(archive_entry_pathname(b->pending)) : NULL;
	struct archive_entry *e;
	int r = 0, st;

	for (size_t i = 0; i < b->m.nfiles && r == 0; i++)
		r = extract_one(b, &b->m.files[i], dir, &p, &first, d);
	free(first);
	if (r == 0 && (st = archive_read_next_header(b->a, &e)) != ARCHIVE_EOF)
		r = diag_set(d, b->path, 0, st == ARCHIVE_OK ? "unexpected entry %s after the payload; the bundle is "
			     "damaged" : "the bundle is damaged after its payload%s", st == ARCHIVE_OK ?
			     archive_entry_pathname(e) : "");
	return r;
}

/* --- writing --- */

static int add_entry(struct archive *a, const char *name, const char *path, const char *data, size_t len,
		     long long epoch)
{
	struct archive_entry *e = archive_entry_new();
	char chunk[1 << 16];
	struct stat st;
	ssize_t n;
	int r = 0, fd = -1;

	if (path && ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0))
		r = -errno;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, path ? (la_int64_t)(r == 0 ? st.st_size : 0) : (la_int64_t)len);
	archive_entry_set_mtime(e, epoch, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	if (r == 0 && archive_write_header(a, e) != ARCHIVE_OK)
		r = -EIO;
	if (r == 0 && !path && archive_write_data(a, data, len) != (ssize_t)len)
		r = -EIO;
	while (r == 0 && path && (n = read(fd, chunk, sizeof(chunk))) > 0)
		if (archive_write_data(a, chunk, (size_t)n) != n)
			r = -EIO;
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return r;
}

static int manifest_text(struct buf *m, const char *root, const char *const *files, size_t n, const char *product,
			 const char *version, const char *build_id, long long epoch, struct diag *d)
{
	buf_printf(m, "# Update bundle manifest; written by imgbuild.\nformat = %d\nproduct = %s\nversion = %s\n"
		   "build-id = %s\nsource-date-epoch = %lld\n", BUNDLE_FORMAT, product, version, build_id, epoch);
	for (size_t i = 0; i < n; i++) {
		char *p = xasprintf("%s/%s", root, files[i]), hex[HASH_HEX_LEN];
		struct stat st;
		int r = stat(p, &st) < 0 ? -errno : hash_file(p, hex);
		free(p);
		if (r < 0)
			return diag_set(d, root, 0, "cannot read %s for the bundle: %s", files[i], strerror(-r));
		buf_printf(m, "file = %s %lld %s\n", hex, (long long)st.st_size, files[i]);
	}
	return 0;
}

int bundle_write(const char *out, const char *root, const char *const *files, size_t nfiles, const char *product,
		 const char *version, const char *build_id, long long epoch, struct diag *d)
{
	struct buf m = {0};
	char *tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
	struct archive *a = archive_write_new();
	int r = manifest_text(&m, root, files, nfiles, product, version, build_id, epoch, d);

	archive_write_set_format_pax_restricted(a);
	if (r == 0 && archive_write_open_filename(a, tmp) != ARCHIVE_OK)
		r = diag_set(d, out, 0, "cannot create the bundle: %s", archive_error_string(a));
	if (r == 0 && add_entry(a, BUNDLE_MANIFEST, NULL, m.data, m.len, epoch) < 0)
		r = diag_set(d, out, 0, "cannot write the manifest: %s", archive_error_string(a));
	for (size_t i = 0; i < nfiles && r == 0; i++) {
		char *name = xasprintf("payload/%s", files[i]), *path = xasprintf("%s/%s", root, files[i]);
		if (add_entry(a, name, path, NULL, 0, epoch) < 0)
			r = diag_set(d, out, 0, "cannot add %s: %s", files[i], archive_error_string(a));
		free(name);
		free(path);
	}
	if (archive_write_close(a) != ARCHIVE_OK && r == 0)
		r = diag_set(d, out, 0, "cannot finish the bundle: %s", archive_error_string(a));
	archive_write_free(a);
	if (r == 0 && rename(tmp, out) < 0)
		r = diag_set(d, out, 0, "cannot move the bundle into place: %s", strerror(errno));
	if (r < 0)
		unlink(tmp);
	buf_free(&m);
	free(tmp);
	return r;
}
