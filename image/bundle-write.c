/* Writing update bundles (imgbuild): the format is in bundle.h. Kept apart from the reader so
 * that the bankctl built for the appliance links only libarchive's tar reader. */
#define _GNU_SOURCE
#include "bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "util.h"

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

static int manifest_text(struct buf *m, const char *image, const char *root, const char *const *files, size_t n,
			 const struct bundle_identity *id, const struct strv *revoked, struct diag *d)
{
	char hex[HASH_HEX_LEN];
	struct stat st;

	if (stat(image, &st) < 0 || hash_file(image, hex) < 0)
		return diag_set(d, image, 0, "cannot read the bank image for the bundle: %s", strerror(errno));
	buf_printf(m, "# Update bundle manifest; written by imgbuild.\nformat = %d\nproduct = %s\nversion = %s\n"
		   "build-id = %s\nsource-date-epoch = %lld\nimage = %s %lld %s\n", BUNDLE_FORMAT, id->product,
		   id->version, id->build_id, id->epoch, hex, (long long)st.st_size, BUNDLE_IMAGE);
	for (size_t i = 0; i < n; i++) {
		char *p = xasprintf("%s/%s", root, files[i]);
		int r = stat(p, &st) < 0 ? -errno : hash_file(p, hex);
		free(p);
		if (r < 0)
			return diag_set(d, root, 0, "cannot read %s for the bundle: %s", files[i], strerror(-r));
		buf_printf(m, "file = %s %lld %s\n", hex, (long long)st.st_size, files[i]);
	}
	for (size_t i = 0; revoked && i < revoked->n; i++)
		buf_printf(m, "revoke = %s\n", revoked->v[i]);
	return 0;
}

int bundle_write(const char *out, const char *image, const char *root, const char *const *files, size_t nfiles,
		 const struct bundle_identity *id, const struct strv *revoked, const struct signer *signer,
		 struct diag *d)
{
	struct buf m = {0}, sig = {0};
	char *tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
	struct archive *a = archive_write_new();
	int r = manifest_text(&m, image, root, files, nfiles, id, revoked, d);

	if (r == 0 && signer)
		r = signing_sign(signer, m.data, m.len, id->epoch, &sig, d);
	archive_write_set_format_pax_restricted(a);
	if (r == 0 && archive_write_open_filename(a, tmp) != ARCHIVE_OK)
		r = diag_set(d, out, 0, "cannot create the bundle: %s", archive_error_string(a));
	if (r == 0 && add_entry(a, BUNDLE_MANIFEST, NULL, m.data, m.len, id->epoch) < 0)
		r = diag_set(d, out, 0, "cannot write the manifest: %s", archive_error_string(a));
	if (r == 0 && signer && add_entry(a, BUNDLE_SIGNATURE, NULL, sig.data, sig.len, id->epoch) < 0)
		r = diag_set(d, out, 0, "cannot write the signature: %s", archive_error_string(a));
	if (r == 0 && add_entry(a, BUNDLE_IMAGE, image, NULL, 0, id->epoch) < 0)
		r = diag_set(d, out, 0, "cannot add the bank image: %s", archive_error_string(a));
	if (archive_write_close(a) != ARCHIVE_OK && r == 0)
		r = diag_set(d, out, 0, "cannot finish the bundle: %s", archive_error_string(a));
	archive_write_free(a);
	if (r == 0 && rename(tmp, out) < 0)
		r = diag_set(d, out, 0, "cannot move the bundle into place: %s", strerror(errno));
	if (r < 0)
		unlink(tmp);
	buf_free(&m);
	buf_free(&sig);
	free(tmp);
	return r;
}
