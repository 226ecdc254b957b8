/* hostd's datastore calls (GET, PUT, DELETE /api/datastore/PATH) under hd->datastore
 * (/vmfs/volumes/datastore1). Every path is opened with openat2(RESOLVE_BENEATH) from the
 * datastore's folder, so neither ".." nor a symbolic link leads out of it; a file is sent in
 * pieces as the connection takes them (server.c) and written from the upload spooled as it
 * arrived (hostd.c), fsynced and renamed into place once whole. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "hostd.h"
#include "util.h"

/* Without openat2 (a kernel before 5.6, valgrind): rel walked a component at a time from top,
 * no symbolic link followed at all (ELOOP). api_datastore_path() has refused "..". */
static int walk(int top, const char *rel, int flags)
{
	char *copy = xstrdup(rel), *save = NULL, *comp = strtok_r(copy, "/", &save), *next;
	int fd = openat(top, ".", O_PATH | O_DIRECTORY | O_CLOEXEC), sub, err;
	struct stat st;

	for (; fd >= 0 && comp; comp = next) {
		next = strtok_r(NULL, "/", &save);
		sub = openat(fd, comp, (next ? O_PATH | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 && (errno == ENOTDIR || errno == ELOOP) && fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			errno = ELOOP; /* a symbolic link: refused, wherever it leads */
		err = errno;
		close(fd);
		fd = sub;
		errno = err;
	}
	if (fd >= 0 && !*rel && (flags & O_ACCMODE) == O_RDONLY && !(flags & O_PATH)) {
		sub = openat(fd, ".", flags | O_CLOEXEC);
		close(fd);
		fd = sub;
	}
	err = errno;
	free(copy);
	errno = err;
	return fd;
}

/* rel opened beneath the datastore; -1 with errno (EXDEV, ELOOP: it leads out). */
static int beneath(struct hostd *hd, const char *rel, int flags)
{
	struct open_how how = {.flags = (unsigned long long)flags | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	int top = open(hd->datastore, O_PATH | O_DIRECTORY | O_CLOEXEC), fd, err;

	if (top < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, top, *rel ? rel : ".", &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = walk(top, rel, flags);
	err = errno;
	close(top);
	errno = err;
	return fd;
}

/* A failed open as the client's error. */
static int open_error(struct api_error *e, int err)
{
	if (err == EXDEV || err == ELOOP)
		return error_field(e, "path", "the path leads out of the datastore (a symbolic link); name files inside it");
	if (err == ENOENT || err == ENOTDIR)
		return error_set(e, 404, "no such file or folder on the datastore");
	return error_set(e, 500, "the datastore cannot be read; see the host's log");
}

/* c->arg checked and split; the folder opened (O_PATH). -1 with e filled. */
static int folder_of(struct call *c, char *base, size_t bsize, bool *folder, struct api_error *e)
{
	char parent[4096];
	int fd;

	if (api_datastore_path(c->arg, parent, sizeof(parent), base, bsize, folder, e) < 0)
		return -1;
	if ((fd = beneath(c->hd, parent, O_PATH | O_DIRECTORY)) < 0)
		return open_error(e, errno);
	return fd;
}

static json_t *listing(int fd, const char *path)
{
	json_t *a = json_array();
	DIR *d = fdopendir(fd);
	struct dirent *de;
	struct stat st;

	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (!*path && strcmp(de->d_name, ".hostd-spool") == 0))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "name", de->d_name, "type",
						   S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other",
						   "size", (json_int_t)st.st_size));
	}
	if (d)
		closedir(d);
	else
		close(fd);
	return json_pack("{s:s, s:o}", "path", path, "entries", a);
}

void get_datastore(struct call *c)
{
	struct api_error e = {0};
	char parent[4096], base[256];
	bool folder;
	struct stat st;
	int fd = -1;

	if (api_datastore_path(c->arg, parent, sizeof(parent), base, sizeof(base), &folder, &e) == 0 &&
	    (fd = beneath(c->hd, c->arg, O_RDONLY)) < 0)
		open_error(&e, errno);
	if (e.status)
		return reply_error(c->req, &e);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		return reply(c->req, 200, listing(fd, c->arg));
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		error_set(&e, 409, "not a file or folder");
		return reply_error(c->req, &e);
	}
	sreq_reply_fd(c->req, 200, "application/octet-stream", fd, st.st_size); /* takes fd */
}

/* The spooled upload renamed to base in the folder dir, the folder fsynced. */
static int put_file(struct call *c, int dir, const char *base, struct api_error *e)
{
	struct stat st;

	if (c->spool->err || fsync(c->spool->fd) < 0) {
		logf_(c->hd, LOG_ERR, "upload to %s: %s", c->spool->path, strerror(c->spool->err ? c->spool->err : errno));
		return error_set(e, 507, "the upload could not be written to the datastore; see the host's log");
	}
	if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
		return error_set(e, 409, "a folder or other non-file is there; DELETE it first");
	/* The spool file is 0600 (mkostemp); a datastore file is the administrator's, readable. */
	if (chmod(c->spool->path, 0644) < 0 || renameat(AT_FDCWD, c->spool->path, dir, base) < 0) {
		logf_(c->hd, LOG_ERR, "rename %s: %s", c->spool->path, strerror(errno));
		return error_set(e, 500, "the upload cannot be put in place; see the host's log");
	}
	c->spool->path[0] = '\0';
	fsync(dir);
	return 0;
}

void put_datastore(struct call *c)
{
	struct api_error e = {0};
	char base[256];
	bool folder;
	int dir = folder_of(c, base, sizeof(base), &folder, &e), fd = -1, r = -1;

	if (dir >= 0 && !base[0])
		error_field(&e, "path", "name a file or a folder (ending in '/') inside the datastore");
	else if (dir >= 0 && (fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		open_error(&e, errno);
	else if (dir >= 0 && folder && mkdirat(fd, base, 0755) < 0)
		errno == EEXIST ? error_set(&e, 409, "it exists already") : open_error(&e, errno);
	else if (dir >= 0)
		r = folder ? 0 : put_file(c, fd, base, &e);
	if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);
	if (r < 0)
		return refuse(c, "", &e);
	audit(c, c->arg, NULL);
	reply(c->req, 201, json_pack("{s:s, s:I}", "path", c->arg, "size", (json_int_t)(folder ? 0 : c->spool->size)));
}

void delete_datastore(struct call *c)
{
	struct api_error e = {0};
	char base[256];
	bool folder;
	int dir = folder_of(c, base, sizeof(base), &folder, &e), fd = -1;

	if (dir >= 0 && !base[0])
		error_field(&e, "path", "the datastore itself cannot be deleted");
	else if (dir >= 0 && (fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		open_error(&e, errno);
	else if (dir >= 0 && unlinkat(fd, base, 0) < 0 && (errno != EISDIR || unlinkat(fd, base, AT_REMOVEDIR) < 0))
		errno == ENOTEMPTY ? error_set(&e, 409, "the folder is not empty; delete what is in it first")
				   : open_error(&e, errno);
	if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);
	if (e.status)
		return refuse(c, "", &e);
	audit(c, c->arg, NULL);
	reply(c->req, 200, json_pack("{s:s}", "deleted", c->arg));
}
