/* hostd's calls about the boot banks, through bankctl (docs/ab-boot.md): its status as it prints
 * it, the rollback, and the staging of a bundle uploaded in the request body: `bankctl stage -`
 * starts when the request's head is read and gets the body on its stdin as it arrives (it checks
 * the signature first and writes the inactive bank in one pass, docs/ab-boot.md), so a bundle is
 * never held whole in memory nor on a disk. hostd answers when bankctl ends, serving other calls
 * (and its VMs' consoles) meanwhile. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "hostd.h"
#include "run.h"
#include "util.h"

/* bankctl ARGS...; its exit status (or -errno), its output (stdout and stderr) in *out. */
static int bankctl(struct hostd *hd, struct buf *out, const char *a1, const char *a2)
{
	char *argv[] = {(char *)hd->bankctl, (char *)a1, (char *)a2, NULL};

	buf_puts(out, "");
	return run_argv(argv, NULL, NULL, NULL, out);
}

/* The last line of text that says something (bankctl's message), trimmed of \r progress. */
static const char *last_line(char *text)
{
	size_t n = strlen(text);
	char *l;

	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	l = text + n;
	while (l > text && l[-1] != '\n' && l[-1] != '\r')
		l--;
	return l;
}

void get_banks(struct call *c)
{
	struct buf out = {0};
	struct api_error e = {0};
	json_t *j;
	int r = bankctl(c->hd, &out, "status", "--json");

	if (r == 0 && (j = json_loads(out.data, 0, NULL))) {
		reply(c->req, 200, j);
	} else {
		logf_(c->hd, LOG_ERR, "bankctl status --json: exit %d: %s", r, last_line(out.data));
		error_set(&e, 500, "bankctl status failed; see the host's log");
		reply_error(c->req, &e);
	}
	buf_free(&out);
}

/* bankctl's answer to a change: 200 {"result": its last line}, or 409 with it. */
static void bankctl_reply(struct call *c, int r, struct buf *out, const char *what)
{
	struct api_error e = {0};
	const char *msg = last_line(out->data);

	if (r == 0) {
		audit(c, what, NULL);
		reply(c->req, 200, json_pack("{s:s}", "result", msg));
		return;
	}
	error_set(&e, r < 0 ? 500 : 409, *msg ? msg : "bankctl failed; see the host's log");
	if (c->id == API_BANKS_STAGE)
		snprintf(e.field, sizeof(e.field), "body");
	refuse(c, what, &e);
}

void post_rollback(struct call *c)
{
	struct buf out = {0};
	int r = bankctl(c->hd, &out, "rollback", NULL);

	bankctl_reply(c, r, &out, "");
	buf_free(&out);
}

/* The staged version from bankctl status --json: the bank marked to be tried. */
static void staged_version(struct hostd *hd, json_t *o)
{
	struct buf out = {0};
	json_t *j = bankctl(hd, &out, "status", "--json") == 0 ? json_loads(out.data, 0, NULL) : NULL;

	if (j)
		json_object_set(o, "banks", j);
	json_decref(j);
	buf_free(&out);
}

int stage_begin(struct hostd *hd, struct spool *sp, struct api_error *e)
{
	char *argv[] = {(char *)hd->bankctl, "stage", "-", NULL};
	posix_spawn_file_actions_t fa;
	int in[2], r;

	if ((sp->out = memfd_create("bankctl-output", MFD_CLOEXEC)) < 0 || pipe2(in, O_CLOEXEC) < 0) {
		logf_(hd, LOG_ERR, "bankctl stage: %s", strerror(errno));
		return error_set(e, 500, "cannot start bankctl; see the host's log");
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, sp->out, 1);
	posix_spawn_file_actions_adddup2(&fa, sp->out, 2);
	r = posix_spawnp(&sp->pid, hd->bankctl, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	if (r != 0) {
		close(in[1]);
		sp->pid = 0;
		logf_(hd, LOG_ERR, "cannot run %s: %s", hd->bankctl, strerror(r));
		return error_set(e, 500, "cannot start bankctl; see the host's log");
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	sp->fd = in[1];
	return 0;
}

int stage_end(struct spool *sp)
{
	int st, r = -1;

	if (sp->pid > 0) {
		if (sp->fd >= 0) /* the upload did not end: bankctl must not take a short bundle */
			kill(sp->pid, SIGTERM);
		while (waitpid(sp->pid, &st, 0) < 0 && errno == EINTR)
			;
		r = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		sp->pid = 0;
	}
	return r;
}

/* bankctl's output so far, from its memfd. */
static void stage_output(struct spool *sp, struct buf *out)
{
	char chunk[4096];
	ssize_t n;
	off_t at = 0;

	while (sp->out >= 0 && (n = pread(sp->out, chunk, sizeof(chunk), at)) > 0) {
		buf_add(out, chunk, (size_t)n);
		at += n;
	}
	buf_puts(out, ""); /* NUL-terminated */
}

/* bankctl stage - has ended (its status st): its answer. */
static void stage_done(struct call *c, int st)
{
	struct spool *sp = c->spool;
	struct buf out = {0};
	json_t *o;

	stage_output(sp, &out);
	if (sp->err && sp->err != EPIPE)
		logf_(c->hd, LOG_ERR, "bankctl stage: writing the upload: %s", strerror(sp->err));
	if (st != 0) {
		bankctl_reply(c, st, &out, "");
	} else {
		o = json_pack("{s:s, s:I}", "result", last_line(out.data), "size", (json_int_t)sp->size);
		staged_version(c->hd, o);
		audit(c, "", NULL);
		reply(c->req, 200, o);
	}
	buf_free(&out);
}

/* The bundle has come whole: bankctl verifies, writes the rest, reads back and marks the trial
 * while hostd serves on; the answer comes when it ends. */
void post_stage(struct call *c)
{
	close(c->spool->fd); /* the end of the bundle */
	c->spool->fd = -1;
	c->wait_pid = c->spool->pid, c->wait_done = stage_done;
}
