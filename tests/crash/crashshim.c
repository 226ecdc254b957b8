/*
 * crashshim.so: a power cut at the N-th write to a disk, for tests/crash/crash.sh (LD_PRELOAD).
 *
 * Every call that changes one of the watched files (write, pwrite, writev, pwritev, fsync,
 * fdatasync, ftruncate, fallocate, sync_file_range, rename onto or from one) is counted, across the
 * process and its children (bankctl runs mtools), in a counter file under a lock. At the N-th:
 *
 *   CRASH_MODE=before   the process group is killed (SIGKILL) before the call takes effect
 *   CRASH_MODE=after    the call is made, then the process group is killed
 *   CRASH_MODE=torn1    a write puts only its first 512 bytes on the disk, then the kill
 *   CRASH_MODE=torn2    a write puts only its bytes 512..1023 (its second sector), then the kill
 *   CRASH_MODE=run      no cut: the shell command CRASH_RUN runs, then the call is made (a file
 *                       the program reads, changed by someone else in the middle of its run)
 *
 * CRASH_DIR instead watches every file in one folder, those made during the run too, and the
 * folder itself (its fsync, a rename or unlink in it): for hostcfg's state archive
 * (tests/crash/hostcfg.sh), whose new file does not exist when the run starts.
 *
 * Environment: CRASH_FILES (watched paths, ':' between them), CRASH_COUNTER (the counter file,
 * made empty by the caller), CRASH_AT (N; 0 counts only), CRASH_MODE, CRASH_LOG (optional: one
 * line per counted call, "N CALL OFFSET LENGTH PID"). The caller runs the program in a process
 * group of its own (setsid), so that the kill takes the children too, as a power cut does.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_WATCHED 8

static struct {
	int n;
	dev_t dev[MAX_WATCHED];
	ino_t ino[MAX_WATCHED];
	long at;
	char mode[8];
} cfg;

__attribute__((constructor)) static void shim_init(void)
{
	const char *files = getenv("CRASH_FILES"), *at = getenv("CRASH_AT"), *mode = getenv("CRASH_MODE");
	char *list = files ? strdup(files) : NULL, *save = NULL;

	for (char *p = list ? strtok_r(list, ":", &save) : NULL; p && cfg.n < MAX_WATCHED; p = strtok_r(NULL, ":", &save)) {
		struct stat st;
		if (stat(p, &st) == 0) {
			cfg.dev[cfg.n] = st.st_dev;
			cfg.ino[cfg.n++] = st.st_ino;
		}
	}
	free(list);
	cfg.at = at ? atol(at) : 0;
	snprintf(cfg.mode, sizeof(cfg.mode), "%s", mode ? mode : "before");
}

static bool watched_stat(const struct stat *st)
{
	for (int i = 0; i < cfg.n; i++)
		if (st->st_dev == cfg.dev[i] && st->st_ino == cfg.ino[i])
			return true;
	return false;
}

/* Whether path (absolute) is CRASH_DIR or directly in it. */
static bool in_dir(const char *path)
{
	const char *dir = getenv("CRASH_DIR"), *slash;
	size_t n = dir ? strlen(dir) : 0;

	if (!n || strncmp(path, dir, n) != 0)
		return false;
	slash = path[n] == '/' ? strchr(path + n + 1, '/') : NULL;
	return path[n] == '\0' || (path[n] == '/' && !slash);
}

static bool in_dir_fd(int fd)
{
	char link[64], path[4096];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = getenv("CRASH_DIR") ? readlink(link, path, sizeof(path) - 1) : -1;
	if (len <= 0)
		return false;
	path[len] = '\0';
	return in_dir(path);
}

/* The absolute form of path (relative to dirfd, or the working folder) is in CRASH_DIR. */
static bool in_dir_path(int dirfd, const char *path)
{
	char base[4096], full[8192], link[64];
	ssize_t len;

	if (!getenv("CRASH_DIR"))
		return false;
	if (path[0] == '/')
		return in_dir(path);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	len = dirfd == AT_FDCWD ? (getcwd(base, sizeof(base)) ? (ssize_t)strlen(base) : -1)
				: readlink(link, base, sizeof(base) - 1);
	if (len <= 0)
		return false;
	base[len] = '\0';
	snprintf(full, sizeof(full), "%s/%s", base, path);
	return in_dir(full);
}

static bool watched_fd(int fd)
{
	struct stat st;

	return (cfg.n && fstat(fd, &st) == 0 && watched_stat(&st)) || in_dir_fd(fd);
}

static bool watched_path(int dirfd, const char *path)
{
	struct stat st;

	return (cfg.n && fstatat(dirfd, path, &st, 0) == 0 && watched_stat(&st)) || in_dir_path(dirfd, path);
}

/* The shared count, one up; the log line for it. */
static long count_call(const char *call, long long off, long long len)
{
	const char *path = getenv("CRASH_COUNTER"), *log = getenv("CRASH_LOG");
	int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
	char buf[32] = "";
	long n = 0;

	if (fd < 0)
		return 0;
	flock(fd, LOCK_EX);
	if (pread(fd, buf, sizeof(buf) - 1, 0) > 0)
		n = atol(buf);
	n++;
	int w = snprintf(buf, sizeof(buf), "%ld\n", n);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)w, 0) != w)
		n = 0;
	if (log && n) {
		FILE *f = fopen(log, "a");
		if (f) {
			fprintf(f, "%ld %s %lld %lld %d\n", n, call, off, len, (int)getpid());
			fclose(f);
		}
	}
	close(fd);
	return n;
}

static void power_cut(void)
{
	kill(0, SIGKILL);
	for (;;)
		pause();
}

#define REAL(ret, name, ...) ((ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name))

/* Before the call: count it and cut the power now (before) or return whether to cut after it. */
static bool before_call(int fd, const char *call, long long off, long long len)
{
	long n;

	if (!watched_fd(fd))
		return false;
	n = count_call(call, off, len);
	if (n != cfg.at || cfg.at == 0)
		return false;
	if (strcmp(cfg.mode, "run") == 0) {
		const char *cmd = getenv("CRASH_RUN");
		if (cmd && system(cmd) != 0)
			fprintf(stderr, "crashshim: CRASH_RUN failed: %s\n", cmd);
		return false;
	}
	if (strcmp(cfg.mode, "before") == 0)
		power_cut();
	return true;
}

/* A torn write: one of its first two sectors reaches the disk, then the power is gone. */
static void torn(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t (*real_pwrite)(int, const void *, size_t, off_t) = REAL(ssize_t, pwrite64, int, const void *, size_t, off_t);
	size_t from = strcmp(cfg.mode, "torn2") == 0 ? 512 : 0;

	if (len > from)
		real_pwrite(fd, (const char *)buf + from, len - from < 512 ? len - from : 512, off + (off_t)from);
	power_cut();
}

static bool tearing(void)
{
	return strncmp(cfg.mode, "torn", 4) == 0;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	bool cut = before_call(fd, "pwrite", off, (long long)len);

	if (cut && tearing())
		torn(fd, buf, len, off);
	ssize_t r = REAL(ssize_t, pwrite64, int, const void *, size_t, off_t)(fd, buf, len, off);
	if (cut)
		power_cut();
	return r;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return pwrite64(fd, buf, len, off);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	off_t off = watched_fd(fd) ? lseek(fd, 0, SEEK_CUR) : -1;
	bool cut = before_call(fd, "write", off, (long long)len);

	if (cut && tearing())
		torn(fd, buf, len, off);
	ssize_t r = REAL(ssize_t, write, int, const void *, size_t)(fd, buf, len);
	if (cut)
		power_cut();
	return r;
}

static size_t iov_len(const struct iovec *iov, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	bool cut = before_call(fd, "writev", -1, (long long)iov_len(iov, n));
	ssize_t r = REAL(ssize_t, writev, int, const struct iovec *, int)(fd, iov, n);

	if (cut)
		power_cut();
	return r;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t off)
{
	bool cut = before_call(fd, "pwritev", off, (long long)iov_len(iov, n));
	ssize_t r = REAL(ssize_t, pwritev64, int, const struct iovec *, int, off_t)(fd, iov, n, off);

	if (cut)
		power_cut();
	return r;
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	return pwritev64(fd, iov, n, off);
}

/* fsync, fdatasync, ftruncate, fallocate, sync_file_range: counted; nothing to tear. */
#define SIMPLE(name, sig, args, off, len)                                  \
	int name sig                                                       \
	{                                                                  \
		bool cut = before_call(fd, #name, off, len);               \
		int r = ((int(*) sig)dlsym(RTLD_NEXT, #name))args;         \
		if (cut)                                                   \
			power_cut();                                       \
		return r;                                                  \
	}
SIMPLE(fsync, (int fd), (fd), -1, 0)
SIMPLE(fdatasync, (int fd), (fd), -1, 0)
SIMPLE(ftruncate64, (int fd, off_t len), (fd, len), -1, (long long)len)
SIMPLE(fallocate64, (int fd, int mode, off_t off, off_t len), (fd, mode, off, len), off, (long long)len)
SIMPLE(sync_file_range, (int fd, off_t off, off_t len, unsigned flags), (fd, off, len, flags), off, (long long)len)

int ftruncate(int fd, off_t len)
{
	return ftruncate64(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	return fallocate64(fd, mode, off, len);
}

int renameat2(int olddir, const char *from, int newdir, const char *to, unsigned flags)
{
	bool mine = watched_path(olddir, from) || watched_path(newdir, to);
	long n = mine ? count_call("rename", -1, 0) : 0;

	if (n && n == cfg.at && strcmp(cfg.mode, "before") == 0)
		power_cut();
	int r = REAL(int, renameat2, int, const char *, int, const char *, unsigned)(olddir, from, newdir, to, flags);
	if (n && n == cfg.at)
		power_cut();
	return r;
}

int renameat(int olddir, const char *from, int newdir, const char *to)
{
	return renameat2(olddir, from, newdir, to, 0);
}

int rename(const char *from, const char *to)
{
	return renameat2(AT_FDCWD, from, AT_FDCWD, to, 0);
}

/* unlink in CRASH_DIR (hostcfg restore-defaults); the files of CRASH_FILES are never unlinked. */
int unlinkat(int dirfd, const char *path, int flags)
{
	long n = in_dir_path(dirfd, path) ? count_call("unlink", -1, 0) : 0;

	if (n && n == cfg.at && strcmp(cfg.mode, "before") == 0)
		power_cut();
	int r = REAL(int, unlinkat, int, const char *, int)(dirfd, path, flags);
	if (n && n == cfg.at)
		power_cut();
	return r;
}

int unlink(const char *path)
{
	return unlinkat(AT_FDCWD, path, 0);
}
