#define _GNU_SOURCE
#include "build.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"
#include "pkg.h"
#include "run.h"
#include "util.h"

static const char *const kind_names[] = {"file", "deb", "tar"};

/* Where source i goes under $SRC (struct source's place, else its base name). */
static char *base_of(const struct job *j, size_t i)
{
	char *c, *b;

	if (j->r->sources[i].place)
		return xstrdup(j->r->sources[i].place);
	c = xstrdup(j->srcs[i]);
	b = xstrdup(basename(c));
	free(c);
	return b;
}

/* The key: the builder's format, the recipe text, each source's name and content hash, and the
 * keys of the dependencies. Paths are left out so that two clones agree. */
static int job_key(struct build *b, struct job *j, struct diag *d)
{
	struct hasher h;
	struct recipe *r = j->r;

	char *dl = xasprintf("%s/dl", b->out);
	int err = 0, herr;

	j->srcs = xcalloc(r->nsources + 1, sizeof(*j->srcs));
	util_mkdir_p(dl, 0755);
	hasher_init(&h);
	hasher_add_str(&h, BUILD_FORMAT);
	hasher_add(&h, r->text, r->text_len);
	for (size_t i = 0; i < r->nsources && err == 0; i++) {
		char hex[HASH_HEX_LEN], *base;
		if ((err = fetch_source(r, &r->sources[i], dl, &j->srcs[i], hex, d)) < 0)
			break;
		base = base_of(j, i);
		hasher_add_str(&h, kind_names[r->sources[i].kind]);
		hasher_add_str(&h, base);
		hasher_add_str(&h, hex);
		free(base);
	}
	for (size_t i = 0; i < r->deps.n; i++)
		hasher_add_str(&h, j->deps[i]->key);
	if ((herr = hasher_end(&h, j->key)) < 0 && err == 0)
		err = diag_set_errno(d, -herr, r->path, 0, "cannot compute the build key (SHA-256); free some memory "
				     "and build again");
	free(dl);
	return err;
}

struct job *build_find(const struct build *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->job[i].r->name, name) == 0)
			return &b->job[i];
	return NULL;
}

int build_prepare(struct build *b, struct recipe **order, size_t n, struct diag *d)
{
	b->job = xcalloc(n, sizeof(*b->job));
	for (size_t i = 0; i < n; i++) {
		struct job *j = &b->job[b->n++];
		j->r = order[i];
		j->deps = xcalloc(j->r->deps.n + 1, sizeof(*j->deps));
		for (size_t k = 0; k < j->r->deps.n; k++)
			j->deps[k] = build_find(b, j->r->deps.v[k]);
		if (job_key(b, j, d) < 0)
			return -EINVAL;
		j->pkg = xasprintf("%s/%s-%.16s.pkg.tar.zst", b->store, j->r->name, j->key);
		j->dir = xasprintf("%s/build/%s", b->out, j->r->name);
		j->dest = xasprintf("%s/dest", j->dir);
	}
	return 0;
}

static int staged_key_matches(const struct job *j)
{
	char *stamp = xasprintf("%s/dest.key", j->dir), *text = NULL;
	int ok = util_read_file(stamp, &text, NULL) == 0 && strncmp(text, j->key, 64) == 0;

	free(stamp);
	free(text);
	return ok;
}

static void write_stamp(const struct job *j)
{
	char *stamp = xasprintf("%s/dest.key", j->dir);

	util_write_file_atomic(stamp, j->key, 64, 0644);
	free(stamp);
}

int build_stage(struct job *j, struct diag *d)
{
	char *stamp;

	if (staged_key_matches(j))
		return 0;
	util_rm_rf(j->dest);
	stamp = xasprintf("%s/dest.key", j->dir);
	unlink(stamp);
	free(stamp);
	if (pkg_extract(j->pkg, j->dest, d) < 0)
		return -EINVAL;
	write_stamp(j);
	return 0;
}

/* --- in the child: one recipe's build --- */

static int copy_tree(const char *from, const char *to)
{
	char *argv[] = {"cp", "-a", "--", (char *)from, (char *)to, NULL};
	char *parent = xstrdup(to), *slash = strrchr(parent, '/');
	int r = 0;

	/* file://packages/init goes to $SRC/packages/init: make $SRC/packages first. */
	if (slash) {
		*slash = '\0';
		r = util_mkdir_p(parent, 0755);
	}
	free(parent);
	return r == 0 && run_argv(argv, NULL, NULL, NULL, NULL) == 0 ? 0 : -EIO;
}

static int untar(const char *tarball, const char *dest)
{
	struct archive *a = archive_read_new(), *disk = archive_write_disk_new();
	struct archive_entry *e;
	int r = 0, st;

	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (archive_read_open_filename(a, tarball, 1 << 16) != ARCHIVE_OK)
		r = -EINVAL;
	while (r == 0 && (st = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		char *full = xasprintf("%s/%s", dest, archive_entry_pathname(e));
		const void *buf;
		size_t size;
		la_int64_t off;
		archive_entry_set_pathname(e, full);
		free(full);
		if (archive_write_header(disk, e) != ARCHIVE_OK)
			r = -EIO;
		while (r == 0 && archive_read_data_block(a, &buf, &size, &off) == ARCHIVE_OK)
			if (archive_write_data_block(disk, buf, size, off) != ARCHIVE_OK)
				r = -EIO;
	}
	if (r == 0 && st != ARCHIVE_EOF)
		r = -EINVAL;
	archive_write_free(disk);
	archive_read_free(a);
	return r;
}

/* $SRC holds each source under its own name; tarballs are unpacked there. */
static int prepare_sources(const struct job *j, const char *src, FILE *log)
{
	for (size_t i = 0; i < j->r->nsources; i++) {
		char *base = base_of(j, i), *to = xasprintf("%s/%s", src, base);
		int r = j->r->sources[i].kind == SOURCE_TAR ? untar(j->srcs[i], src) : copy_tree(j->srcs[i], to);
		if (r < 0)
			fprintf(log, "imgbuild: cannot put source %s into %s\n", j->srcs[i], src);
		free(base);
		free(to);
		if (r < 0)
			return j->r->sources[i].line;
	}
	return 0;
}

static void link_deps(const struct job *j, const char *deps)
{
	util_mkdir_p(deps, 0755);
	for (size_t i = 0; i < j->r->deps.n; i++) {
		char *to = xasprintf("%s/%s", deps, j->r->deps.v[i]);
		char *abs = realpath(j->deps[i]->dest, NULL);
		if (abs && symlink(abs, to) < 0)
			abs = NULL;
		free(abs);
		free(to);
	}
}

static char **step_env(const struct job *j, int jobs)
{
	char **env = xcalloc(9, sizeof(*env));
	char *abs = realpath(j->dir, NULL);

	env[0] = xasprintf("SRC=%s/src", abs);
	env[1] = xasprintf("WORK=%s/work", abs);
	env[2] = xasprintf("DEST=%s/dest", abs);
	env[3] = xasprintf("DEPS=%s/deps", abs);
	env[4] = xasprintf("NAME=%s", j->r->name);
	env[5] = xasprintf("PV=%s", j->r->version);
	env[6] = xasprintf("JOBS=%d", jobs);
	env[7] = xstrdup("LC_ALL=C");
	free(abs);
	return env;
}

/* Run the steps one by one; returns 0 or the line of the step that failed. */
static int run_steps(const struct job *j, int jobs, const char *work, const char *logpath, int *ret_status)
{
	char **env = step_env(j, jobs);
	int line = 0;

	for (size_t i = 0; i < j->r->nsteps && !line; i++) {
		char *argv[] = {"/bin/sh", "-e", "-c", j->r->steps[i].cmd, NULL};
		FILE *log = fopen(logpath, "a");
		if (log) {
			fprintf(log, "+ %s:%d: %s\n", j->r->path, j->r->steps[i].line, j->r->steps[i].cmd);
			fclose(log);
		}
		*ret_status = run_argv(argv, work, env, logpath, NULL);
		if (*ret_status != 0)
			line = j->r->steps[i].line;
	}
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
	return line;
}

static int install_one(const struct job *j, const struct install *in, FILE *log)
{
	char *from = xasprintf("%s/work/%s", j->dir, in->from), *to = xasprintf("%s%s", j->dest, in->to);
	char *parent = xstrdup(to);
	int r;

	util_mkdir_p(dirname(parent), 0755);
	r = access(from, F_OK) == 0 ? copy_tree(from, to) : -ENOENT;
	if (r == 0 && in->mode >= 0 && chmod(to, (mode_t)in->mode) < 0)
		r = -errno;
	if (r < 0)
		fprintf(log, "imgbuild: %s:%d: cannot install %s to %s: %s; check that the build step makes it\n",
			j->r->path, in->line, in->from, in->to, strerror(-r));
	free(parent);
	free(from);
	free(to);
	return r;
}

/* The whole job; returns the exit code of the child and leaves the reason in <dir>/failed. */
static int job_build(const struct job *j, int jobs);

/* job_child()'s exit status when another build put the package in the store meanwhile. */
#define JOB_TAKEN 3

/* Hold the package's lock: another build of the same key (another checkout sharing the store)
 * finishes first. -1 when the lock cannot be had (the build goes on unlocked). */
static int store_lock(const struct job *j)
{
	char *path = xasprintf("%s.lock", j->pkg);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	while (fd >= 0 && flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	free(path);
	return fd;
}

static int job_child(const struct job *j, int jobs)
{
	int lock = store_lock(j);

	(void)lock; /* held until this child exits */
	/* Built meanwhile by a build that held the lock: take it (build_stage unpacks it). */
	if (access(j->pkg, F_OK) == 0)
		return JOB_TAKEN;
	return job_build(j, jobs);
}

static int job_build(const struct job *j, int jobs)
{
	char *src = xasprintf("%s/src", j->dir), *work = xasprintf("%s/work", j->dir);
	char *deps = xasprintf("%s/deps", j->dir), *logpath = xasprintf("%s/build.log", j->dir);
	char *failed = xasprintf("%s/failed", j->dir);
	FILE *log;
	struct diag d = {{0}, 0};
	int line = 0, status = 0;

	util_rm_rf(j->dir);
	util_mkdir_p(src, 0755);
	util_mkdir_p(work, 0755);
	util_mkdir_p(j->dest, 0755);
	link_deps(j, deps);
	log = fopen(logpath, "a");
	if (!log)
		return 1;
	setvbuf(log, NULL, _IOLBF, 0);
	if ((line = prepare_sources(j, src, log)) == 0 && (line = run_steps(j, jobs, work, logpath, &status)) == 0)
		for (size_t i = 0; i < j->r->ninstalls && !line; i++)
			if (install_one(j, &j->r->installs[i], log) < 0)
				line = j->r->installs[i].line;
	if (!line && pkg_create(j->dest, j->r->name, j->r->version, j->key, j->pkg, &d) < 0) {
		fprintf(log, "imgbuild: %s\n", d.msg);
		line = -1;
	}
	fclose(log);
	if (line) {
		char *why = xasprintf("%d %d\n", line, status);
		util_write_file_atomic(failed, why, strlen(why), 0644);
		free(why);
	} else {
		write_stamp(j);
	}
	free(src), free(work), free(deps), free(logpath), free(failed);
	return line ? 1 : 0;
}

/* --- in the parent: scheduling and progress --- */

static int deps_done(const struct job *j)
{
	for (size_t i = 0; i < j->r->deps.n; i++)
		if (j->deps[i]->state != JOB_DONE)
			return 0;
	return 1;
}

/* The step "building: NAME NAME" with the jobs running now. */
static void progress(const struct build *b, unsigned done, unsigned total)
{
	struct buf phase = {0};

	if (!b->progress || !b->progress->on_step)
		return;
	buf_puts(&phase, "building:");
	for (size_t i = 0; i < b->n; i++)
		if (b->job[i].state == JOB_RUNNING)
			buf_printf(&phase, " %s", b->job[i].r->name);
	progress_step(b->progress, phase.data, done, total);
	buf_free(&phase);
}

static int start_job(struct build *b, struct job *j, struct diag *d)
{
	for (size_t i = 0; i < j->r->deps.n; i++)
		if (build_stage(j->deps[i], d) < 0)
			return -EINVAL;
	util_mkdir_p(j->dir, 0755);
	fflush(NULL);
	j->pid = fork();
	if (j->pid < 0)
		return diag_set(d, j->r->path, 0, "cannot start the build: %s", strerror(errno));
	if (j->pid == 0)
		_exit(job_child(j, b->jobs));
	j->state = JOB_RUNNING;
	j->started = util_now();
	return 0;
}

/* Say why a job failed in d, and keep the tail of its log for the program to show. */
static void record_failure(struct build *b, struct job *j, struct diag *d)
{
	char *failed = xasprintf("%s/failed", j->dir), *log = xasprintf("%s/build.log", j->dir), *why = NULL;
	int line = 0, status = 0;
	char *argv[] = {"tail", "-n", "20", log, NULL};
	struct buf tail = {0};

	if (util_read_file(failed, &why, NULL) == 0)
		sscanf(why, "%d %d", &line, &status);
	if (status)
		diag_set(d, j->r->path, line, "build step failed (exit %d); full log in %s", status, log);
	else
		diag_set(d, j->r->path, line > 0 ? line : 0, "build failed; full log in %s", log);
	run_argv(argv, NULL, NULL, NULL, &tail);
	free(b->failed_log), free(b->failed_tail);
	b->failed_log = log;
	b->failed_tail = tail.data ? tail.data : xstrdup("");
	free(why);
	free(failed);
}

static struct job *job_of_pid(struct build *b, pid_t pid)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->job[i].state == JOB_RUNNING && b->job[i].pid == pid)
			return &b->job[i];
	return NULL;
}

/* Wait for a child: 0 when one of ours built, -EINVAL when it failed, 1 for anything else. */
static int reap(struct build *b, unsigned *done, unsigned total, struct diag *d)
{
	int status;
	pid_t pid = waitpid(-1, &status, 0);
	struct job *j;

	if (pid < 0 || !(j = job_of_pid(b, pid)))
		return 1;
	j->state = JOB_DONE;
	if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != JOB_TAKEN)) {
		record_failure(b, j, d);
		return -EINVAL;
	}
	(*done)++;
	if (WEXITSTATUS(status) == JOB_TAKEN)
		progress_note(b->progress, "[%u/%u] took %s %s from the store (another build made it meanwhile)", *done,
			      total, j->r->name, j->r->version);
	else {
		b->built++;
		progress_note(b->progress, "[%u/%u] built %s %s (%.1f s)", *done, total, j->r->name, j->r->version,
			      util_now() - j->started);
	}
	progress(b, *done, total);
	return 0;
}

static unsigned mark_cached(struct build *b)
{
	unsigned todo = 0;

	for (size_t i = 0; i < b->n; i++) {
		if (access(b->job[i].pkg, F_OK) == 0)
			b->job[i].state = JOB_DONE;
		else
			todo++;
	}
	return todo;
}

int build_run(struct build *b, struct diag *d)
{
	unsigned total = mark_cached(b), done = 0;
	int running = 0, err = 0;

	if (util_mkdir_p(b->store, 0755) < 0)
		return diag_set_errno(d, errno, b->store, 0, "cannot make the package store; name another with --store "
				      "or IMGBUILD_STORE");
	while (done < total && err == 0) {
		for (size_t i = 0; i < b->n && running < b->jobs && err == 0; i++) {
			struct job *j = &b->job[i];
			if (j->state == JOB_WAITING && deps_done(j) && (err = start_job(b, j, d)) == 0)
				running++;
		}
		progress(b, done, total);
		if (err == 0 && running == 0)
			err = diag_set(d, b->out, 0, "nothing can be built next; this is a bug in imgbuild");
		if (err == 0 && running > 0) {
			int r = reap(b, &done, total, d);
			if (r <= 0)
				running--;
			if (r < 0)
				err = r;
		}
	}
	while (running > 0)
		if (waitpid(-1, NULL, 0) > 0 || errno != EINTR)
			running--;
	return err;
}

void build_free(struct build *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct job *j = &b->job[i];
		for (size_t k = 0; j->srcs && k < j->r->nsources; k++)
			free(j->srcs[k]);
		free(j->srcs);
		free(j->deps);
		free(j->pkg);
		free(j->dir);
		free(j->dest);
	}
	free(b->job);
	free(b->failed_log), free(b->failed_tail);
	*b = (struct build){0};
}
