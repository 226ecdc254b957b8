#define _GNU_SOURCE
#include "pkg.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "tree.h"
#include "util.h"

static int info_line(struct buf *info, const char *root, const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel), hex[HASH_HEX_LEN], link[4096];
	struct stat st;
	int r = lstat(p, &st) < 0 ? -errno : 0;
	unsigned mode = st.st_mode & 07777;
	ssize_t n;

	if (r == 0 && S_ISDIR(st.st_mode)) {
		buf_printf(info, "d %04o - /%s\n", mode, rel);
	} else if (r == 0 && S_ISLNK(st.st_mode)) {
		n = readlink(p, link, sizeof(link) - 1);
		link[n < 0 ? 0 : n] = '\0';
		buf_printf(info, "l 0777 %s /%s\n", link, rel);
	} else if (r == 0 && S_ISREG(st.st_mode) && (r = hash_file(p, hex)) == 0) {
		buf_printf(info, "f %04o %s /%s\n", mode, hex, rel);
	} else if (r == 0) {
		r = -EINVAL;
	}
	free(p);
	return r;
}

static struct archive_entry *entry_for(const char *path, const char *rel, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_copy_sourcepath(e, path);
	archive_entry_copy_stat(e, st);
	archive_entry_set_pathname(e, rel);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_set_ino(e, 0);
	archive_entry_set_dev(e, 0);
	archive_entry_set_nlink(e, 1);
	return e;
}

int pkg_write_file(struct archive *a, const char *path)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (archive_write_data(a, chunk, (size_t)n) != n) {
			close(fd);
			return -EIO;
		}
	close(fd);
	return n < 0 ? -errno : 0;
}

static int add_file(struct archive *a, const char *root, const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel), link[4096];
	struct stat st;
	struct archive_entry *e;
	ssize_t n;
	int r = lstat(p, &st) < 0 ? -errno : 0;

	if (r == 0) {
		e = entry_for(p, rel, &st);
		if (S_ISLNK(st.st_mode) && (n = readlink(p, link, sizeof(link) - 1)) >= 0) {
			link[n] = '\0';
			archive_entry_set_symlink(e, link);
		}
		if (archive_write_header(a, e) != ARCHIVE_OK)
			r = -EIO;
		else if (S_ISREG(st.st_mode))
			r = pkg_write_file(a, p);
		archive_entry_free(e);
	}
	free(p);
	return r;
}

static int add_info(struct archive *a, const struct buf *info)
{
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	archive_entry_set_pathname(e, ".PKGINFO");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)info->len);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	if (archive_write_header(a, e) != ARCHIVE_OK || archive_write_data(a, info->data, info->len) != (ssize_t)info->len)
		r = -EIO;
	archive_entry_free(e);
	return r;
}

static struct archive *open_writer(const char *path)
{
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_zstd(a);
	archive_write_set_filter_option(a, "zstd", "compression-level", "3");
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		archive_write_free(a);
		return NULL;
	}
	return a;
}

static int write_pkg(const char *root, const struct strv *files, const struct buf *info, const char *tmp,
		     struct diag *d)
{
	struct archive *a = open_writer(tmp);
	int r;

	if (!a)
		return diag_set(d, tmp, 0, "cannot create the package; check that out/ is writable");
	r = add_info(a, info);
	for (size_t i = 0; i < files->n && r == 0; i++)
		r = add_file(a, root, files->v[i]);
	if (r < 0)
		diag_set(d, tmp, 0, "cannot write the package: %s", archive_error_string(a) ?
			 archive_error_string(a) : strerror(-r));
	if (archive_write_close(a) != ARCHIVE_OK && r == 0)
		r = diag_set(d, tmp, 0, "cannot finish the package: %s", archive_error_string(a));
	archive_write_free(a);
	return r;
}

int pkg_create(const char *root, const char *name, const char *version, const char *key,
	       const char *out, struct diag *d)
{
	struct strv files = {0};
	struct buf info = {0};
	char *tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
	int r = tree_list(root, &files);

	if (r < 0)
		diag_set(d, root, 0, "cannot list the package's files: %s", strerror(-r));
	buf_printf(&info, "name = %s\nversion = %s\nkey = %s\n", name, version, key);
	for (size_t i = 0; i < files.n && r == 0; i++)
		if ((r = info_line(&info, root, files.v[i])) < 0)
			diag_set(d, root, 0, "cannot package '%s' (only files, folders and symlinks can be): %s",
				 files.v[i], strerror(-r));
	if (r == 0)
		r = write_pkg(root, &files, &info, tmp, d);
	if (r == 0 && rename(tmp, out) < 0)
		r = diag_set(d, out, 0, "cannot rename the finished package into place: %s", strerror(errno));
	if (r < 0)
		unlink(tmp);
	free(tmp);
	buf_free(&info);
	strv_free(&files);
	return r;
}

static struct archive *open_reader(const char *pkg, struct diag *d)
{
	struct archive *a = archive_read_new();

	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, pkg, 1 << 16) != ARCHIVE_OK) {
		diag_set(d, pkg, 0, "cannot open the package: %s; delete it to rebuild", archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

int pkg_read_info(const char *pkg, char **ret, struct diag *d)
{
	struct archive *a = open_reader(pkg, d);
	struct archive_entry *e;
	int r = -EINVAL;

	if (!a)
		return -EINVAL;
	if (archive_read_next_header(a, &e) == ARCHIVE_OK && strcmp(archive_entry_pathname(e), ".PKGINFO") == 0) {
		la_int64_t size = archive_entry_size(e);
		char *text = xmalloc((size_t)size + 1);
		if (archive_read_data(a, text, (size_t)size) == size) {
			text[size] = '\0';
			*ret = text;
			r = 0;
		} else {
			free(text);
		}
	}
	if (r < 0)
		diag_set(d, pkg, 0, "not a package (no .PKGINFO first); delete it to rebuild");
	archive_read_free(a);
	return r;
}

static int copy_data(struct archive *a, struct archive *disk)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(disk, buf, size, off) != ARCHIVE_OK)
			return ARCHIVE_FATAL;
	return r == ARCHIVE_EOF ? ARCHIVE_OK : r;
}

/* Unpack one entry under dest; refuses paths that would leave it. */
static int extract_entry(struct archive *a, struct archive *disk, struct archive_entry *e, const char *dest,
			 const char *pkg, struct diag *d)
{
	const char *name = archive_entry_pathname(e);
	char *full;
	int r = 0;

	if (strcmp(name, ".PKGINFO") == 0)
		return 0;
	if (name[0] == '/' || strstr(name, ".."))
		return diag_set(d, pkg, 0, "unsafe path '%s' in package; delete it to rebuild", name);
	full = xasprintf("%s/%s", dest, name);
	archive_entry_set_pathname(e, full);
	free(full);
	if (archive_write_header(disk, e) != ARCHIVE_OK ||
	    (archive_entry_size(e) > 0 && copy_data(a, disk) != ARCHIVE_OK))
		r = diag_set(d, pkg, 0, "cannot unpack into %s: %s", dest, archive_error_string(disk));
	return r;
}

int pkg_extract(const char *pkg, const char *dest, struct diag *d)
{
	struct archive *a = open_reader(pkg, d), *disk;
	struct archive_entry *e;
	int r = 0, st;

	if (!a)
		return -EINVAL;
	if (util_mkdir_p(dest, 0755) < 0) {
		archive_read_free(a);
		return diag_set(d, dest, 0, "cannot create: %s", strerror(errno));
	}
	disk = archive_write_disk_new();
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	while (r == 0 && (st = archive_read_next_header(a, &e)) == ARCHIVE_OK)
		r = extract_entry(a, disk, e, dest, pkg, d);
	if (r == 0 && st != ARCHIVE_EOF)
		r = diag_set(d, pkg, 0, "corrupt package: %s; delete it to rebuild", archive_error_string(a));
	if (archive_write_close(disk) != ARCHIVE_OK && r == 0)
		r = diag_set(d, dest, 0, "cannot finish unpacking: %s", archive_error_string(disk));
	archive_write_free(disk);
	archive_read_free(a);
	return r;
}
