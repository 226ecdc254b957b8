/* What every handler of hostd uses to answer and to log (hostd.h): errors, the audit line of a
 * change, the log. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "hostd.h"

void logf_(const struct hostd *hd, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
	if (!hd->h.live) {
		va_start(ap, fmt);
		fputs("hostd: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputs("\n", stderr);
		va_end(ap);
	}
}

void reply_error(struct sreq *req, const struct api_error *e)
{
	if (!req)
		return;
	if (e->status == 401)
		sreq_add_header(req, "WWW-Authenticate", "Basic realm=\"hostd\", charset=\"UTF-8\"");
	reply(req, e->status, api_error_json(e));
}

int error_set(struct api_error *e, int status, const char *msg)
{
	e->status = status;
	e->field[0] = '\0';
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	return -1;
}

int error_field(struct api_error *e, const char *field, const char *msg)
{
	error_set(e, 400, msg);
	snprintf(e->field, sizeof(e->field), "%s", field);
	return -1;
}

void audit(const struct call *c, const char *what, const struct api_error *e)
{
	const struct caller *w = c->who;
	char result[128] = "done";

	if (e && e->status)
		snprintf(result, sizeof(result), "refused (%d%s%s)", e->status, e->field[0] ? ", field " : "", e->field);
	logf_(c->hd, LOG_NOTICE, "%s (%s) from %s: %s%s%s: %s", w->user, hc_role_name(w->role), w->peer,
	      api_call_name(c->id), what && *what ? " " : "", what ? what : "", result);
}

void refuse(const struct call *c, const char *what, const struct api_error *e)
{
	audit(c, what, e);
	reply_error(c->req, e);
}
