/* Saving into the boot bank, and the saver service (host.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "sysfile.h"

#define BANK "bootbank"
#define PIDFILE "run/hostcfg/saver.pid"
#define BANK_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

char *host_path(const struct host *h, const char *rel)
{
	return xasprintf("%s/%s", strcmp(h->root, "/") == 0 ? "" : h->root, rel);
}

void host_defaults(const struct host *h, struct hc_config *c)
{
	char *path = host_path(h, "system/etc/hostname"), *text = NULL;
	size_t len;
	struct diag d;

	hc_defaults(c);
	if (util_read_file(path, &text, &len) == 0) {
		text[strcspn(text, "\n")] = '\0';
		hc_set(c, "hostname", text, &d); /* an invalid one leaves the library's default */
	}
	free(text);
	free(path);
}

int host_conf_load(const struct host *h, struct hc_config *c, struct diag *d)
{
	char *path = host_path(h, HC_CONF);
	struct stat st;
	int r = 0;

	struct hc_config base;

	host_defaults(h, &base);
	if (stat(path, &st) < 0 && errno == ENOENT) {
		hc_free(c);
		hc_copy(c, &base);
	} else {
		r = hc_load_over(path, &base, c, d);
	}
	hc_free(&base);
	free(path);
	return r;
}

int host_lock(struct host *h, struct diag *d)
{
	char *dir = host_path(h, "run/hostcfg"), *path = host_path(h, "run/hostcfg/lock");
	int r = util_mkdir_p(dir, 0755);

	h->lock_fd = r == 0 ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
	if (h->lock_fd < 0 || flock(h->lock_fd, LOCK_EX) < 0)
		r = diag_set_errno(d, r < 0 ? -r : errno, path, 0, "cannot take the configuration's lock; run as root");
	free(dir);
	free(path);
	return r;
}

void host_unlock(struct host *h)
{
	if (h->lock_fd >= 0)
		close(h->lock_fd);
	h->lock_fd = -1;
}

bool host_has_bank(const struct host *h)
{
	char mounts[65536];
	struct stat st;
	char *dir;
	bool ok;

	if (h->live)
		return sysfile_read("/proc/mounts", mounts, sizeof(mounts)) > 0 && strstr(mounts, " /" BANK " ");
	dir = host_path(h, BANK);
	ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
	free(dir);
	return ok;
}

static int bank_remount(const struct host *h, bool rw, struct diag *d)
{
	if (!h->live || mount(NULL, "/" BANK, NULL, MS_REMOUNT | BANK_FLAGS | (rw ? 0 : MS_RDONLY), NULL) == 0)
		return 0;
	return diag_set_errno(d, errno, "/" BANK, 0, "cannot remount %s; check the boot bank",
			      rw ? "read-write" : "read-only");
}

/* fn() on the bank made writable, then read-only again whatever fn() did. */
static int bank_writable(struct host *h, int (*fn)(struct host *h, const char *dir, struct diag *d), struct diag *d)
{
	char *dir = host_path(h, BANK);
	struct diag d2;
	int r;

	if (!host_has_bank(h)) {
		free(dir);
		return diag_set(d, "/" BANK, 0, "no boot bank is mounted (a live boot); install the host to keep its "
				"configuration");
	}
	r = bank_remount(h, true, d);
	if (r == 0) {
		r = fn(h, dir, d);
		if (bank_remount(h, false, &d2) < 0 && r == 0)
			r = -EIO, *d = d2;
	}
	free(dir);
	return r;
}

static int save_in(struct host *h, const char *dir, struct diag *d)
{
	struct hc_config c = {0};
	bool saved = false;
	int r = host_conf_load(h, &c, d);

	hc_free(&c);
	if (r == 0)
		r = hc_state_save(h->root, dir, &saved, d);
	if (r == 0)
		printf("hostcfg: %s /%s/state.tgz\n", saved ? "saved the configuration into" : "unchanged:", BANK);
	return r;
}

int host_save(struct host *h, struct diag *d)
{
	return bank_writable(h, save_in, d);
}

static int firstboot_in(struct host *h, const char *dir, struct diag *d)
{
	static const char *const names[] = {"firstboot.conf", "firstboot.sh"};
	int r = save_in(h, dir, d);

	/* Saved first: a cut before the removal applies the same settings again at the next boot. */
	for (size_t i = 0; r == 0 && i < 2; i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		if (unlink(p) < 0 && errno != ENOENT)
			r = diag_set_errno(d, errno, p, 0, "cannot remove the first-boot file; remove it by hand");
		free(p);
	}
	return r;
}

int host_firstboot_done(struct host *h, struct diag *d)
{
	return bank_writable(h, firstboot_in, d);
}

static int remove_in(struct host *h, const char *dir, struct diag *d)
{
	static const char *const names[] = {"state.tgz.new", "state.tgz"};
	int r = 0;

	(void)h;
	/* The partial one first: a cut between the two leaves the previous state whole. */
	for (size_t i = 0; r == 0 && i < 2; i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		if (unlink(p) < 0 && errno != ENOENT)
			r = diag_set_errno(d, errno, p, 0, "cannot remove the saved state; check the boot bank");
		free(p);
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			fsync(fd), close(fd);
	}
	return r;
}

int host_state_remove(struct host *h, struct diag *d)
{
	return bank_writable(h, remove_in, d);
}

/* The running saver's pid, or 0: the pidfile's, when that process is a hostcfg (a stale pidfile
 * whose number a later process took must not have that process signalled). */
static pid_t saver_pid(const struct host *h)
{
	char *path = host_path(h, PIDFILE), text[32], comm[64], proc[64];
	ssize_t n = sysfile_read(path, text, sizeof(text));
	long pid = n > 0 ? strtol(text, NULL, 10) : 0;

	free(path);
	snprintf(proc, sizeof(proc), "/proc/%ld/comm", pid);
	if (pid <= 1 || sysfile_read(proc, comm, sizeof(comm)) <= 0 || strcmp(comm, "hostcfg\n") != 0)
		return 0;
	return (pid_t)pid;
}

bool host_saver_notify(const struct host *h)
{
	pid_t pid = saver_pid(h);

	return pid > 0 && kill(pid, SIGHUP) == 0;
}

/* One save by the saver: under the lock; a failure is printed and retried at the next change. */
static void saver_save(struct host *h, const char *why)
{
	struct diag d;

	if (host_lock(h, &d) == 0 && host_save(h, &d) == 0) {
		printf("hostcfg: saver: saved (%s)\n", why);
	} else {
		diag_print("hostcfg: saver", &d);
	}
	fflush(stdout);
	host_unlock(h);
}

static int pidfile_write(const struct host *h, struct diag *d)
{
	char *dir = host_path(h, "run/hostcfg"), *path = host_path(h, PIDFILE), text[32];
	int r = util_mkdir_p(dir, 0755);

	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (r == 0)
		r = util_write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0)
		diag_set_errno(d, -r, path, 0, "cannot write the saver's pidfile; run as root");
	free(dir);
	free(path);
	return r;
}

static struct timespec secs(double s)
{
	if (s < 0)
		s = 0;
	return (struct timespec){(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
}

int host_saver_run(struct host *h)
{
	double next_periodic = util_now() + h->interval, due = 0;
	sigset_t set;
	struct diag d;
	char *pidfile = host_path(h, PIDFILE);

	sigemptyset(&set);
	sigaddset(&set, SIGHUP), sigaddset(&set, SIGTERM), sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (saver_pid(h) > 0) {
		fprintf(stderr, "hostcfg: a saver runs already (pid %ld); stop it first\n", (long)saver_pid(h));
		free(pidfile);
		return 1;
	}
	if (pidfile_write(h, &d) < 0) {
		diag_print("hostcfg", &d);
		free(pidfile);
		return 1;
	}
	printf("hostcfg: saver: started (a change is saved after %g s, everything every %g s)\n", h->delay, h->interval);
	fflush(stdout);
	for (;;) {
		double now = util_now(), until = due ? due : next_periodic;
		struct timespec ts = secs(until - now);
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGHUP && !due)
			due = util_now() + h->delay; /* later changes within the delay join this save */
		else if (sig == SIGTERM || sig == SIGINT)
			break;
		now = util_now();
		if (due && now >= due)
			saver_save(h, "changed"), due = 0;
		if (now >= next_periodic)
			saver_save(h, "periodic"), next_periodic = now + h->interval;
	}
	saver_save(h, "stopping");
	unlink(pidfile);
	free(pidfile);
	return 0;
}
