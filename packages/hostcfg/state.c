/* The state archive, /bootbank/state.tgz (apply.h): tar + gzip through libarchive. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "apply.h"
#include "sysfile.h"

#define MEMBER_MAX (1 << 20)
#define MEMBERS_MAX 16

static la_ssize_t buf_write_cb(struct archive *a, void *ctx, const void *p, size_t n)
{
	(void)a;
	buf_add(ctx, p, n);
	return (la_ssize_t)n;
}

static int pack_one(struct archive *a, const char *rel, const char *path, struct diag *d)
{
	struct archive_entry *e;
	struct stat st;
	char *data;
	size_t len;
	int r = util_read_file(path, &data, &len);

	if (r == -ENOENT)
		return 0;
	if (r < 0 || stat(path, &st) < 0)
		return diag_set_errno(d, r < 0 ? -r : errno, path, 0, "cannot read it for the state archive; check it");
	e = archive_entry_new();
	archive_entry_set_pathname(e, rel);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, st.st_mode & 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, 0, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK || archive_write_data(a, data, len) != (la_ssize_t)len)
		r = diag_set(d, "state.tgz", 0, "cannot pack %s: %s; report this", rel, archive_error_string(a));
	archive_entry_free(e);
	explicit_bzero(data, len);
	free(data);
	return r;
}

int hc_state_pack(const char *root, struct buf *out, struct diag *d)
{
	struct archive *a = archive_write_new();
	int r = 0;

	buf_puts(out, "");
	out->len = 0;
	archive_write_add_filter_gzip(a);
	archive_write_set_format_ustar(a);
	archive_write_set_options(a, "gzip:!timestamp");
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open(a, out, NULL, buf_write_cb, NULL) != ARCHIVE_OK)
		r = diag_set(d, "state.tgz", 0, "cannot start the archive: %s; report this", archive_error_string(a));
	for (size_t i = 0; r == 0 && hc_owned[i]; i++) {
		char *path = xasprintf("%s/%s", root, hc_owned[i]);
		r = pack_one(a, hc_owned[i], path, d);
		free(path);
	}
	if (archive_write_close(a) != ARCHIVE_OK && r == 0)
		r = diag_set(d, "state.tgz", 0, "cannot finish the archive: %s; report this", archive_error_string(a));
	archive_write_free(a);
	return r;
}

/* The whole gzip stream checks out (CRC-32 and length of every member) and nothing follows it. */
static bool gzip_whole(const unsigned char *data, size_t len)
{
	z_stream z = {0};
	unsigned char out[16384];
	int r = Z_OK;

	if (len == 0 || len > UINT32_MAX || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return false;
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	while (r == Z_OK) {
		z.next_out = out;
		z.avail_out = sizeof(out);
		r = inflate(&z, Z_NO_FLUSH);
	}
	inflateEnd(&z);
	return r == Z_STREAM_END && z.avail_in == 0;
}

struct member {
	const char *name; /* an entry of hc_owned */
	char *data;       /* owned */
	size_t len;
	int mode;
};

static const char *owned_name(const char *name)
{
	if (strncmp(name, "./", 2) == 0)
		name += 2;
	for (size_t i = 0; hc_owned[i]; i++)
		if (strcmp(name, hc_owned[i]) == 0)
			return hc_owned[i];
	return NULL;
}

static int member_read(struct archive *a, struct archive_entry *e, struct member *m, const char *path, struct diag *d)
{
	la_int64_t size = archive_entry_size(e);

	m->name = owned_name(archive_entry_pathname(e));
	if (!m->name || archive_entry_filetype(e) != AE_IFREG)
		return diag_set(d, path, 0, "holds '%.80s', which is not a file of the configuration; the archive is "
				"not one hostcfg save wrote", archive_entry_pathname(e));
	if (size < 0 || size > MEMBER_MAX)
		return diag_set(d, path, 0, "%s is larger than 1 MiB; the archive is damaged", m->name);
	m->len = (size_t)size;
	m->mode = archive_entry_perm(e) & 0644;
	m->data = xmalloc(m->len + 1);
	m->data[m->len] = '\0';
	if (archive_read_data(a, m->data, m->len) != (la_ssize_t)m->len)
		return diag_set(d, path, 0, "%s is cut short: %s; the archive is damaged", m->name, archive_error_string(a));
	return 0;
}

static void members_free(struct member *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (m[i].data)
			explicit_bzero(m[i].data, m[i].len);
		free(m[i].data);
	}
}

/* Every member of the archive in data into m[]; the count, or -EINVAL with d filled. */
static int members_read(const char *path, const char *data, size_t len, struct member *m, struct diag *d)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int n = 0, r = 0, got;

	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (!gzip_whole((const unsigned char *)data, len) || archive_read_open_memory(a, data, len) != ARCHIVE_OK)
		r = diag_set(d, path, 0, "not a whole gzip stream (cut short or damaged); the defaults stay");
	while (r == 0 && (got = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (n == MEMBERS_MAX) {
			r = diag_set(d, path, 0, "holds too many files; the archive is not one hostcfg save wrote");
			break;
		}
		m[n] = (struct member){0};
		r = member_read(a, e, &m[n], path, d);
		n++;
		for (int i = 0; r == 0 && i < n - 1; i++)
			if (m[i].name == m[n - 1].name)
				r = diag_set(d, path, 0, "holds %s twice; the archive is damaged", m[i].name);
	}
	if (r == 0 && got != ARCHIVE_EOF)
		r = diag_set(d, path, 0, "cannot read the archive: %s; the archive is damaged", archive_error_string(a));
	archive_read_free(a);
	if (r < 0) {
		members_free(m, (size_t)n);
		return r;
	}
	return n;
}

static int member_write(const char *root, const struct member *m, struct diag *d)
{
	char *path = xasprintf("%s/%s", root, m->name), *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	int r = util_mkdir_p(dir, 0755);

	if (r == 0)
		r = util_write_file_atomic(path, m->data, m->len, m->mode ? m->mode : 0600);
	if (r < 0)
		diag_set_errno(d, -r, path, 0, "cannot write; check that the file system is writable");
	free(dir);
	free(path);
	return r;
}

int hc_state_unpack(const char *path, const char *root, bool *has_conf, struct diag *d)
{
	struct member m[MEMBERS_MAX];
	char *data;
	size_t len;
	int n, r = util_read_file(path, &data, &len);

	if (r < 0)
		return diag_set_errno(d, -r, path, 0, "cannot read the saved state; the defaults stay");
	n = members_read(path, data, len, m, d);
	free(data);
	if (n < 0)
		return n;
	*has_conf = false;
	for (int i = 0; r == 0 && i < n; i++)
		if (m[i].name == hc_owned[0]) {
			struct hc_config c = {0};
			*has_conf = true;
			r = hc_parse(path, m[i].data, m[i].len, &c, d);
			hc_free(&c);
		}
	for (int i = 0; r == 0 && i < n; i++)
		r = member_write(root, &m[i], d);
	members_free(m, (size_t)n);
	return r;
}

static int fsync_dir(const char *dir, struct diag *d)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL))
		r = diag_set_errno(d, errno, dir, 0, "cannot flush the folder; check the boot bank");
	if (fd >= 0)
		close(fd);
	return r;
}

/* Write data to path, then fsync it: the new archive, beside the old one. */
static int write_new(const char *path, const struct buf *b, struct diag *d)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), r = 0;

	if (fd < 0)
		return diag_set_errno(d, errno, path, 0, "cannot create the new state archive; is the bank writable?");
	if ((r = sysfile_write_all(fd, b->data, b->len)) < 0 || fsync(fd) < 0)
		r = diag_set_errno(d, r < 0 ? -r : errno, path, 0, "cannot write the new state archive; the previous one "
				   "stays");
	if (close(fd) < 0 && r == 0)
		r = diag_set_errno(d, errno, path, 0, "cannot write the new state archive; the previous one stays");
	return r;
}

int hc_state_save(const char *root, const char *dir, bool *saved, struct diag *d)
{
	struct buf b = {0};
	char *dst = xasprintf("%s/state.tgz", dir), *tmp = xasprintf("%s/state.tgz.new", dir), *old = NULL;
	size_t old_len = 0;
	int r = hc_state_pack(root, &b, d);

	*saved = false;
	if (r == 0 && util_read_file(dst, &old, &old_len) == 0 && old_len == b.len && memcmp(old, b.data, b.len) == 0)
		goto out; /* the same configuration is saved already */
	if (r == 0 && (r = write_new(tmp, &b, d)) == 0 && rename(tmp, dst) < 0)
		r = diag_set_errno(d, errno, dst, 0, "cannot replace the state archive; the previous one stays");
	if (r == 0 && (r = fsync_dir(dir, d)) == 0)
		*saved = true;
out:
	if (old)
		explicit_bzero(old, old_len);
	free(old);
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	free(dst);
	free(tmp);
	return r;
}
