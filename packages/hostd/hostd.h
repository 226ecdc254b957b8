/* hostd's parts on the network (hostd.c serves, the other files answer calls): what a handler
 * gets and the ways it replies. A route is a line of routes.def and a handler here. */
#ifndef HOSTD_HOSTD_H
#define HOSTD_HOSTD_H

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>

#include "api.h"
#include "auth.h"
#include "host.h"

struct hostd {
	struct host h;
	struct auth_paths auth;    /* owned strings */
	const char *listen;        /* ADDR:PORT */
	char *socket, *cert, *key; /* owned */
	struct event_base *base;
};

/* Who called, once authenticated. */
struct caller {
	char user[64];
	enum hc_role role;
	char peer[64];
};

/* One call to a handler: the request, its caller, the route's decoded argument (a user or VM
 * name, a datastore path; "" when the route has none) and the body (JSON routes: the whole body,
 * at most API_BODY_MAX bytes, NUL-terminated). The handler replies exactly once. */
struct call {
	struct hostd *hd;
	struct evhttp_request *req;
	const struct caller *who;
	enum api_call id;
	const char *arg;
	const char *body;
	size_t len;
};

#define ROUTE(m_, p_, id_, fn_, role_, body_) void fn_(struct call *c);
#include "routes.def"
#undef ROUTE

/* Reply with status and body (taken). */
void reply(struct evhttp_request *req, int status, json_t *body);
void reply_error(struct evhttp_request *req, const struct api_error *e);
/* Fill e with status and msg (no field); returns -1. */
int error_set(struct api_error *e, int status, const char *msg);
/* Fill e with a 400 about field. Returns -1. */
int error_field(struct api_error *e, const char *field, const char *msg);
/* syslog, and stderr too on a --root tree (the tests read it). */
void logf_(const struct hostd *hd, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The audit line of a change: who, from where, the call, what ("" none) and the result: "done",
 * or e's status and field. Never a password. */
void audit(const struct call *c, const char *what, const struct api_error *e);
/* Reply e to a change, audited. */
void refuse(const struct call *c, const char *what, const struct api_error *e);
/* {"status", "version", "bank"} of the host. New reference. */
json_t *facts(const struct hostd *hd);
/* A file under the root, or "" when it cannot be read; owned by the caller. */
char *root_file(const struct hostd *hd, const char *rel);
/* The configuration, or a 500 replied (then -1). */
int conf_load(struct hostd *hd, struct hc_config *cf, struct evhttp_request *req);

#endif
