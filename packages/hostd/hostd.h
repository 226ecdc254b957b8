/* hostd's parts on the network (hostd.c serves, the other files answer calls): what a handler
 * gets and the ways it replies. A route is a line of routes.def and a handler here. */
#ifndef HOSTD_HOSTD_H
#define HOSTD_HOSTD_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "api.h"
#include "auth.h"
#include "cache.h"
#include "host.h"
#include "reply.h"
#include "server.h"

struct hostd {
	struct host h;
	struct auth_paths auth;    /* owned strings */
	struct auth_cache cache;   /* good passwords seen lately (packages/auth/cache.h) */
	const char *listen;        /* ADDR:PORT */
	char *socket, *cert, *key; /* owned */
	char *datastore;           /* owned: root/vmfs/volumes/datastore1 */
	char *spool;               /* owned: datastore/.hostd-spool, where uploads land */
	const char *bankctl;       /* the bankctl program (--bankctl, tests) */
	struct event_base *base;
	struct srv *srv;           /* the HTTPS and UNIX socket listeners and their connections */
	SSL_CTX *ctx;              /* for new TLS connections; tls_reload() replaces it */
	struct vms *vms;           /* the VMs (vms.c), while serving */
	struct facts *facts;       /* what facts.c keeps of the host's files */
};

/* Connections at once (HTTPS and the UNIX socket together); more are answered 503. */
#define CONNECTIONS_MAX 64

/* Where a STREAM route's body went as it arrived (hostd.c upload_begin(), banks.c stage_begin()):
 * a file at path (PUT /api/datastore/PATH: the handler renames it; whatever is left at path is
 * removed after it), or the stdin (fd) of bankctl stage - (pid; its output in the memfd out).
 * size is the bytes the body had, err the errno of the first failed write (0). */
struct spool {
	char path[4096];
	int fd;
	pid_t pid;
	int out;
	long long size;
	int err;
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
	struct sreq *req;
	const struct caller *who;
	enum api_call id;
	const char *arg;
	const char *body;
	size_t len;
	struct spool *spool; /* STREAM routes */
	/* Set by a handler that answers only when its child ends, without holding hostd up meanwhile:
	 * done(c, the child's exit status or 128 + signal) is called then, with c->req NULL when the
	 * client has gone (reply() and reply_error() then answer no one; the audit still happens). */
	pid_t wait_pid;
	void (*wait_done)(struct call *c, int status);
};

#define ROUTE(m_, p_, id_, fn_, role_, body_) void fn_(struct call *c);
#include "routes.def"
#undef ROUTE

/* Authenticate a caller (the Authorization value authz, or the UNIX socket's root peer on fd)
 * and check its role for the call. 0, or -1 with e filled (401, 403, 500); audited when refused. */
int caller_check(struct hostd *hd, bool local, int fd, const char *authz, enum api_call id, struct caller *who,
		 struct api_error *e);
/* After the host name changed from old to name: hostd's own certificate made again for it. */
void cert_follow(struct hostd *hd, const char *old, const char *name);
/* An SSL_CTX from hd->cert and hd->key (TLS 1.2 or later), or NULL (said on stderr). */
SSL_CTX *tls_context(const struct hostd *hd);
/* A new SSL_CTX from hd->cert and hd->key for the connections to come. 0 or -1 (kept). */
int tls_reload(struct hostd *hd);

/* POST /api/banks/stage's sink: bankctl stage - started with its stdin a pipe (sp->fd, non-blocking)
 * and its output a memfd (sp->out). 0, or -1 with e. */
int stage_begin(struct hostd *hd, struct spool *sp, struct api_error *e);
/* bankctl of sp ended: killed when the upload was not whole (sp->fd still open), else reaped;
 * its exit status (or -1 when sp started none). sp->out stays open. */
int stage_end(struct spool *sp);

/* reply_error() and reply() (reply.h) take a NULL req: nothing is sent. */
void reply_error(struct sreq *req, const struct api_error *e);
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
/* What hostd reads of the host (facts.c), read again only when its file changed. */
/* {"status", "version", "bank"} of the host. New reference. */
json_t *facts(struct hostd *hd);
/* The configuration: hostd's copy, valid until the next call; NULL with d when it cannot be read. */
const struct hc_config *conf_get(struct hostd *hd, struct diag *d);
/* A copy of the configuration into cf (hc_free it), or a 500 replied (then -1). */
int conf_load(struct hostd *hd, struct hc_config *cf, struct sreq *req);
void facts_free(struct hostd *hd);

#endif
