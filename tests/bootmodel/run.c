/*
 * Runs the real bootbank/grub.cfg in grub-emu on every case and compares what it boots and
 * writes with bm_predict(). The work folder is made by tests/bootmodel/setup.sh (see there).
 */
#define _GNU_SOURCE
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GRUB_TIMEOUT_MS 20000
#define OUTPUT_MAX 65536

static const char *const files_tags[BM_FILES_KINDS] = {"ok", "missing", "badcfg", "badkernel", "badinitrd"};

struct layout {
	long env[2];   /* byte offsets of envA, envB in disk.img */
	long bank[2];  /* byte offsets of the bank-a and bank-b partitions */
};

struct worker {
	const char *dir;
	struct layout lay;
	char *banks[2][BM_FILES_KINDS];  /* each bank partition's image, per files kind */
	size_t bank_size;
	int fd;                          /* this worker's copy of disk.img */
	char img[4096], map[4096];
	int loaded[2];                   /* files kind now in each bank partition, -1 none */
};

static int read_layout(const char *dir, struct layout *lay, char *err, size_t errsize)
{
	char path[4096];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/layout", dir);
	if (!(f = fopen(path, "r"))) {
		snprintf(err, errsize, "%s:1: cannot open: %s; make the work folder with tests/bootmodel/setup.sh", path,
			 strerror(errno));
		return -1;
	}
	n = fscanf(f, "envA %ld envB %ld bankA %ld bankB %ld", &lay->env[0], &lay->env[1], &lay->bank[0], &lay->bank[1]);
	fclose(f);
	if (n != 4) {
		snprintf(err, errsize, "%s:1: expected \"envA N envB N bankA N bankB N\"; make it again with "
			 "tests/bootmodel/setup.sh", path);
		return -1;
	}
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		*len = (size_t)n;
	if (f)
		fclose(f);
	return buf;
}

static int load_banks(struct worker *w, char *err, size_t errsize)
{
	char path[4096];
	size_t len;

	for (int b = 0; b < 2; b++)
		for (int k = 0; k < BM_FILES_KINDS; k++) {
			snprintf(path, sizeof(path), "%s/banks/%c-%s.fat", w->dir, bank_letter(b), files_tags[k]);
			if (!(w->banks[b][k] = slurp(path, &len)) || (w->bank_size && len != w->bank_size)) {
				snprintf(err, errsize, "%s:1: missing or not the size of the others; make the work "
					 "folder again with tests/bootmodel/setup.sh", path);
				return -1;
			}
			w->bank_size = len;
		}
	return 0;
}

static int copy_file(const char *from, const char *to)
{
	size_t len;
	char *buf = slurp(from, &len);
	FILE *f = buf ? fopen(to, "wb") : NULL;
	int r = f && fwrite(buf, 1, len, f) == len ? 0 : -1;

	if (f && fclose(f) != 0)
		r = -1;
	free(buf);
	return r;
}

static int worker_open(struct worker *w, const char *dir, int k, char *err, size_t errsize)
{
	char from[4096];
	FILE *f;

	memset(w, 0, sizeof(*w));
	w->dir = dir;
	w->loaded[0] = w->loaded[1] = -1;
	if (read_layout(dir, &w->lay, err, errsize) < 0 || load_banks(w, err, errsize) < 0)
		return -1;
	snprintf(from, sizeof(from), "%s/disk.img", dir);
	snprintf(w->img, sizeof(w->img), "%s/worker%d.img", dir, k);
	snprintf(w->map, sizeof(w->map), "%s/worker%d.map", dir, k);
	f = fopen(w->map, "w");
	if (copy_file(from, w->img) < 0 || !f || fprintf(f, "(hd0) %s\n", w->img) < 0 || fclose(f) != 0 ||
	    (w->fd = open(w->img, O_RDWR)) < 0) {
		snprintf(err, errsize, "%s:1: cannot make this worker's copy of disk.img; make the work folder "
			 "again with tests/bootmodel/setup.sh", w->img);
		return -1;
	}
	return 0;
}

static void worker_close(struct worker *w)
{
	for (int b = 0; b < 2; b++)
		for (int k = 0; k < BM_FILES_KINDS; k++)
			free(w->banks[b][k]);
	if (w->fd > 0)
		close(w->fd);
}

static int put_case(struct worker *w, const struct bm_case *c)
{
	for (int i = 0; i < 2; i++) {
		if (pwrite(w->fd, c->env[i], BANK_ENV_SIZE, w->lay.env[i]) != BANK_ENV_SIZE)
			return -1;
		if (w->loaded[i] != (int)c->files[i]) {
			if (pwrite(w->fd, w->banks[i][c->files[i]], w->bank_size, w->lay.bank[i]) != (ssize_t)w->bank_size)
				return -1;
			w->loaded[i] = (int)c->files[i];
		}
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read the child's output until it closes, or kill it at the deadline. */
static int collect(pid_t pid, int fd, char *out, size_t size)
{
	size_t n = 0;
	long deadline = now_ms() + GRUB_TIMEOUT_MS;
	int st = 0, timed_out = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long left = deadline - now_ms();
		ssize_t r;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		r = read(fd, out + n, size - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		/* Keep the tail only (GRUB's last words say what it booted), sliding it rather than
		 * starting over, so that a line never splits where a read happened to end. */
		if (n == size - 1) {
			memmove(out, out + n / 2, n - n / 2);
			n -= n / 2;
		}
	}
	out[n] = '\0';
	close(fd);
	waitpid(pid, &st, 0);
	return timed_out ? -1 : 0;
}

static int run_grub(const struct worker *w, char *out, size_t size)
{
	char pfx[4096];
	int p[2];
	pid_t pid;

	snprintf(pfx, sizeof(pfx), "%s/pfx", w->dir);
	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		/* libfaketime: the script's `sleep 10` before a reboot takes 10 ms. Preloaded directly,
		 * as builder/sign.c does for sbsign: no wrapper process per case. */
		setenv("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", 1);
		setenv("FAKETIME", "+0 x1000", 1);
		execlp("grub-emu", "grub-emu", "-m", w->map, "-d", pfx, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	return collect(pid, p[0], out, size);
}

/* "HARNESS booting root=hd0,gpt3" (the stub initrd, just before `boot`) names the bank. */
static int booted_bank(const char *out)
{
	const char *p = strstr(out, "HARNESS booting root=");

	if (!p)
		return -1;
	p = strchr(p, '=') + 1;
	return strncmp(p, "hd0,gpt3", 8) == 0 ? 0 : strncmp(p, "hd0,gpt4", 8) == 0 ? 1 : -2;
}

static void bank_word(int b, char *out, size_t size)
{
	snprintf(out, size, "%s", b == 0 ? "A" : b == 1 ? "B" : b == -1 ? "none" : "unknown");
}

static size_t first_difference(const char *a, const char *b)
{
	size_t i = 0;

	while (i < BANK_ENV_SIZE && a[i] == b[i])
		i++;
	return i;
}

/* Compare GRUB's outcome with the prediction; on a difference, say what differs into why. */
static int compare(const struct bm_outcome *want, const struct bm_outcome *got, char *why, size_t size)
{
	char w[96], g[96];
	int n = 0;

	why[0] = '\0';
	if (want->boot != got->boot) {
		bank_word(want->boot, w, sizeof(w));
		bank_word(got->boot, g, sizeof(g));
		n += snprintf(why + n, size - (size_t)n, " boots %s, model says %s;", g, w);
	}
	for (int i = 0; i < 2 && (size_t)n < size; i++)
		if (memcmp(want->env[i], got->env[i], BANK_ENV_SIZE) != 0) {
			bm_env_describe(want->env[i], w, sizeof(w));
			bm_env_describe(got->env[i], g, sizeof(g));
			n += snprintf(why + n, size - (size_t)n, " env%c after: GRUB [%s], model [%s] (first byte "
				      "differing: %zu);", bank_letter(i), g, w, first_difference(want->env[i], got->env[i]));
		}
	return why[0] ? -1 : 0;
}

static void save_log(const char *dir, unsigned id, const char *out)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/logs/case-%u.log", dir, id);
	if ((f = fopen(path, "w"))) {
		fputs(out, f);
		fclose(f);
	}
}

/* One case: returns 0 when GRUB did what the model says, 1 when not (why says how), -1 when the
 * harness itself failed. */
static int run_case(struct worker *w, const struct bm_case *c, char *why, size_t size)
{
	static char out[OUTPUT_MAX];
	struct bm_outcome want, got;

	bm_predict(c, &want);
	if (put_case(w, c) < 0 || run_grub(w, out, sizeof(out)) < 0) {
		snprintf(why, size, " grub-emu did not finish in %d s or could not run; see logs/case-%u.log",
			 GRUB_TIMEOUT_MS / 1000, c->id);
		save_log(w->dir, c->id, out);
		return -1;
	}
	got.boot = booted_bank(out);
	for (int i = 0; i < 2; i++)
		if (pread(w->fd, got.env[i], BANK_ENV_SIZE, w->lay.env[i]) != BANK_ENV_SIZE)
			return -1;
	if (compare(&want, &got, why, size) == 0)
		return 0;
	save_log(w->dir, c->id, out);
	return 1;
}

/* A worker runs cases k, k + jobs, ... and writes one line per case to results.K:
 * "ID 0" or "ID 1|-1 why". */
static int worker_main(const char *dir, const struct bm_case *cases, size_t n, int k, int jobs)
{
	struct worker w;
	char err[8192], path[4096], why[4096];
	FILE *res;

	snprintf(path, sizeof(path), "%s/results.%d", dir, k);
	if (worker_open(&w, dir, k, err, sizeof(err)) < 0 || !(res = fopen(path, "w"))) {
		fprintf(stderr, "bootmodel: %s\n", err);
		worker_close(&w);
		return 1;
	}
	for (size_t i = (size_t)k; i < n; i += (size_t)jobs) {
		int r = run_case(&w, &cases[i], why, sizeof(why));
		char first[sizeof(why)];
		/* A case that differs runs once more: GRUB is deterministic, so a case that then agrees
		 * met a fault of the harness's machine (the line says so, and the test counts them). */
		if (r != 0) {
			snprintf(first, sizeof(first), "%s", why);
			why[0] = '\0';
			if ((r = run_case(&w, &cases[i], why, sizeof(why))) == 0)
				snprintf(why, sizeof(why), " agreed on a second run; the first:%.3000s", first);
		}
		fprintf(res, "%u %d%s\n", cases[i].id, r, why);
	}
	worker_close(&w);
	return fclose(res) == 0 ? 0 : 1;
}

int bm_run(const char *dir, const struct bm_case *cases, size_t n, int jobs, char *err, size_t errsize)
{
	char logs[4096];
	int failed = 0;

	snprintf(logs, sizeof(logs), "%s/logs", dir);
	mkdir(logs, 0755);
	for (int k = 0; k < jobs; k++) {
		pid_t pid = fork();
		if (pid < 0) {
			snprintf(err, errsize, "%s:1: cannot start a worker: %s; run with fewer jobs (-j)", dir, strerror(errno));
			return -1;
		}
		if (pid == 0) {
			fflush(stdout);
			_exit(worker_main(dir, cases, n, k, jobs));
		}
	}
	for (int k = 0; k < jobs; k++) {
		int st;
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	if (failed)
		snprintf(err, errsize, "%s:1: a worker failed (its message is above); fix that and run again", dir);
	return failed ? -1 : 0;
}
