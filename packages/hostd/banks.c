/* hostd's calls about the boot banks, through bankctl (docs/ab-boot.md): its status as it prints
 * it, the rollback, and the staging of a bundle uploaded in the request body (spooled to the
 * datastore by stream.c, never held whole in memory; bankctl reads a bundle from a file, as it
 * seeks in it). bankctl runs to its end before hostd answers the next request. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

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

void post_stage(struct call *c)
{
	struct buf out = {0};
	struct api_error e = {0};
	json_t *o;
	int r;

	if (c->spool->err) {
		logf_(c->hd, LOG_ERR, "upload to %s: %s", c->spool->path, strerror(c->spool->err));
		error_set(&e, 507, "the bundle could not be written to the datastore; see the host's log");
		return refuse(c, "", &e);
	}
	if ((r = bankctl(c->hd, &out, "stage", c->spool->path)) != 0)
		return bankctl_reply(c, r, &out, ""), buf_free(&out);
	o = json_pack("{s:s, s:I}", "result", last_line(out.data), "size", (json_int_t)c->spool->size);
	staged_version(c->hd, o);
	audit(c, "", NULL);
	reply(c->req, 200, o);
	buf_free(&out);
}
