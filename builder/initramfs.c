#define _GNU_SOURCE
#include "initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg.h"
#include "tree.h"
#include "util.h"

/* Inode numbers count up from 1 in archive order: the kernel needs them distinct, not real. */
static int add_entry(struct archive *a, const char *root, const char *rel, long long epoch, unsigned ino)
{
	char *path = xasprintf("%s/%s", root, rel), link[4096];
	struct archive_entry *e = archive_entry_new();
	struct stat st;
	ssize_t n;
	int r = lstat(path, &st) < 0 ? -errno : 0;

	if (r == 0) {
		archive_entry_copy_stat(e, &st);
		archive_entry_set_pathname(e, rel);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_mtime(e, epoch, 0);
		archive_entry_set_ino(e, ino);
		archive_entry_set_dev(e, 0);
		archive_entry_set_nlink(e, S_ISDIR(st.st_mode) ? 2 : 1);
		if (S_ISLNK(st.st_mode) && (n = readlink(path, link, sizeof(link) - 1)) >= 0) {
			link[n] = '\0';
			archive_entry_set_symlink(e, link);
		}
		if (archive_write_header(a, e) != ARCHIVE_OK)
			r = -EIO;
		else if (S_ISREG(st.st_mode))
			r = pkg_write_file(a, path);
	}
	archive_entry_free(e);
	free(path);
	return r;
}

static int write_cpio(const char *root, const char *out, long long epoch, int zstd, struct diag *d)
{
	struct archive *a = archive_write_new();
	struct strv files = {0};
	char *tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
	int r = tree_list(root, &files);

	archive_write_set_format_cpio_newc(a);
	if (zstd) {
		archive_write_add_filter_zstd(a);
		archive_write_set_filter_option(a, "zstd", "compression-level", "19");
	}
	if (r == 0 && archive_write_open_filename(a, tmp) != ARCHIVE_OK)
		r = -EIO;
	for (size_t i = 0; i < files.n && r == 0; i++)
		r = add_entry(a, root, files.v[i], epoch, (unsigned)i + 1);
	if (archive_write_close(a) != ARCHIVE_OK && r == 0)
		r = -EIO;
	if (r < 0)
		diag_set(d, out, 0, "cannot write the initramfs: %s", archive_error_string(a) ?
			 archive_error_string(a) : strerror(-r));
	archive_write_free(a);
	if (r == 0 && rename(tmp, out) < 0)
		r = diag_set(d, out, 0, "cannot rename into place: %s", strerror(errno));
	if (r < 0)
		unlink(tmp);
	free(tmp);
	strv_free(&files);
	return r;
}

int initramfs_write(const char *root, const char *out, long long epoch, struct diag *d)
{
	return write_cpio(root, out, epoch, 1, d);
}

int initramfs_write_plain(const char *root, const char *out, long long epoch, struct diag *d)
{
	return write_cpio(root, out, epoch, 0, d);
}
