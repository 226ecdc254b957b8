/* hostd: the host's management API over HTTPS and a local UNIX socket (docs/api.md), on
 * libevent's evhttp with OpenSSL; the configuration through packages/hostcfg, the passwords
 * through packages/auth. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/un.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cert.h"
#include "hostd.h"
#include "vmdef.h"
#include "vms.h"

static void spool_release(void);


static const char usage[] =
	"Usage: hostd [--root DIR] [--listen ADDR:PORT] [--socket PATH] [--cert FILE] [--key FILE]\n"
	"             [--bankctl PROGRAM]\n"
	"\n"
	"The host's management API (docs/api.md): HTTPS on ADDR:PORT (default 0.0.0.0:443) and the same\n"
	"API without TLS on the UNIX socket PATH (default /run/hostd.sock; its root peer is an\n"
	"administrator). The certificate (default /etc/hostcfg/hostd.crt and hostd.key) is made at the\n"
	"first start when missing. Uploads (POST /api/banks/stage, PUT /api/datastore/PATH) are written\n"
	"to /vmfs/volumes/datastore1/.hostd-spool as they arrive. --bankctl names the bankctl to run\n"
	"(default: bankctl in PATH). --root DIR works on a directory tree instead of the host (tests):\n"
	"reboot, shutdown and restore-defaults are then only written to DIR/run/hostd-action.\n";

static void usage_error(const char *what)
{
	fprintf(stderr, "hostd: %s; see hostd --help\n", what);
	exit(2);
}

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

void reply_error(struct evhttp_request *req, const struct api_error *e)
{
	if (e->status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
				  "Basic realm=\"hostd\", charset=\"UTF-8\"");
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

/* The UNIX socket's peer: root is an administrator; others give credentials. */
static bool local_root(int fd, struct caller *who)
{
	struct ucred cr;
	socklen_t n = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) < 0 || cr.uid != 0)
		return false;
	snprintf(who->user, sizeof(who->user), "root");
	who->role = HC_ADMINISTRATOR;
	snprintf(who->peer, sizeof(who->peer), "local pid %d", (int)cr.pid);
	return true;
}

static int auth_refused(const struct hostd *hd, const struct caller *who, enum auth_result r,
			const struct auth_status *st, struct api_error *e)
{
	/* The name is the client's: logged only when it is a valid one (no control characters). */
	logf_(hd, LOG_WARNING, "authentication of %s from %s refused: %s",
	      auth_user_valid(who->user) ? who->user : "an invalid user name", who->peer,
	      r == AUTH_LOCKED ? "locked" : r == AUTH_NO_PASSWORD ? "no password set" : "bad password or user");
	if (r == AUTH_LOCKED)
		return error_set(e, 401, st->locked_until ? "the account is locked after repeated failures; try again later"
							 : "the account is locked; try again later");
	if (r == AUTH_NO_PASSWORD)
		return error_set(e, 401, "the user has no password set; set one on the console first");
	if (r == AUTH_ERROR)
		return error_set(e, 500, "cannot check the password; see the host's log");
	return error_set(e, 401, "wrong user name or password");
}

/* The role of an authenticated user, from the model. */
static int role_of(struct hostd *hd, struct caller *who, struct api_error *e)
{
	struct hc_config c = {0};
	struct hc_user *u;
	struct diag d;
	int r = 0;

	if (host_conf_load(&hd->h, &c, &d) < 0)
		return error_set(e, 500, "the configuration cannot be read; see the host's log");
	if ((u = hc_user_find(&c, who->user)))
		who->role = u->role;
	else
		r = error_set(e, 403, "the user has no role on this host");
	hc_free(&c);
	return r;
}

static int authenticate(struct hostd *hd, bool local, int fd, const char *hdr, struct caller *who, struct api_error *e)
{
	char pw[256];
	struct auth_status st = {0};
	enum auth_result r;

	if (local && local_root(fd, who))
		return 0;
	if (!hdr || !api_basic_parse(hdr, who->user, sizeof(who->user), pw, sizeof(pw)))
		return error_set(e, 401, "credentials needed: HTTP Basic with a user of the host");
	if (!auth_user_valid(who->user))
		r = AUTH_BAD;
	else
		r = auth_check_cached(&hd->cache, &hd->auth, who->user, pw, time(NULL), &st);
	explicit_bzero(pw, sizeof(pw));
	if (r != AUTH_OK)
		return auth_refused(hd, who, r, &st, e);
	return role_of(hd, who, e);
}

int caller_check(struct hostd *hd, bool local, int fd, const char *authz, enum api_call id, struct caller *who,
		 struct api_error *e)
{
	if (api_needs_auth(id) && authenticate(hd, local, fd, authz && *authz ? authz : NULL, who, e) < 0)
		return -1;
	if (api_allowed(id, who->role))
		return 0;
	logf_(hd, LOG_NOTICE, "%s (%s) from %s: %s: refused: role", who->user, hc_role_name(who->role), who->peer,
	      api_call_name(id));
	return error_set(e, 403, "the user's role may not make this call; an administrator may");
}

/* A file under the root, or "" when it cannot be read; owned by the caller. */
char *root_file(const struct hostd *hd, const char *rel)
{
	char *path = host_path(&hd->h, rel), *data = NULL;
	size_t len;

	if (util_read_file(path, &data, &len) < 0)
		data = xstrdup("");
	free(path);
	return data;
}

json_t *facts(const struct hostd *hd)
{
	char *health = root_file(hd, "run/health"), *osr = root_file(hd, "etc/os-release"),
	     *cmdline = root_file(hd, "proc/cmdline"), *version = api_os_version(osr);
	json_t *o = json_pack("{s:s, s:s, s:s}", "status", api_health_status(health), "version", version, "bank",
			      api_bank(cmdline));

	free(health);
	free(osr);
	free(cmdline);
	free(version);
	return o;
}

void get_health(struct call *c)
{
	reply(c->req, 200, facts(c->hd));
}

int conf_load(struct hostd *hd, struct hc_config *c, struct evhttp_request *req)
{
	struct diag d;
	struct api_error e;

	if (host_conf_load(&hd->h, c, &d) == 0)
		return 0;
	logf_(hd, LOG_ERR, "%s", d.msg);
	error_set(&e, 500, "the configuration cannot be read; see the host's log");
	reply_error(req, &e);
	return -1;
}

void get_config(struct call *c)
{
	struct hc_config cf = {0};

	if (conf_load(c->hd, &cf, c->req) == 0) {
		reply(c->req, 200, api_config_json(&cf));
		hc_free(&cf);
	}
}

/* hostd's own certificate follows a new host name (a certificate put through the API stays). */
void cert_follow(struct hostd *hd, const char *old, const char *name)
{
	struct diag d;
	int r = cert_renew(hd->cert, hd->key, old, name, &d);

	if (r < 0)
		logf_(hd, LOG_ERR, "%s", d.msg);
	else if (r > 0 && tls_reload(hd) == 0)
		logf_(hd, LOG_NOTICE, "a new certificate for %s", name);
}

/* The body checked against the running configuration and committed, under hostcfg's lock. */
static int patch_commit(struct hostd *hd, const char *body, size_t len, char **names, struct api_error *e)
{
	struct api_patch_edit p = {.body = body, .len = len, .e = e};
	struct diag d;
	int r;

	e->status = 0;
	if ((r = host_edit(&hd->h, api_patch_edit, &p, &d)) < 0) {
		logf_(hd, LOG_ERR, "%s", d.msg);
		error_set(e, 500, p.names ? "the configuration cannot be applied; nothing changed; see the host's log"
					  : "the configuration cannot be read; see the host's log");
	} else if (r == HOST_EDIT_REFUSED && !e->status) {
		error_field(e, "body", d.msg); /* api_patch() checks the whole first: not expected */
	} else if (r == 0 && strcmp(p.hostname_old, p.hostname_new) != 0) {
		cert_follow(hd, p.hostname_old, p.hostname_new);
	}
	if (r != 0) {
		free(p.names);
		return -1;
	}
	*names = p.names;
	return 0;
}

void patch_config(struct call *c)
{
	struct api_error e = {0};
	char *names = NULL;

	if (patch_commit(c->hd, c->body, c->len, &names, &e) < 0)
		return refuse(c, "", &e);
	audit(c, names, NULL);
	free(names);
	get_config(c);
}

static void (*const handlers[API_NCALLS])(struct call *) = {
#define ROUTE(m_, p_, id_, fn_, role_, body_) [API_##id_] = fn_,
#include "routes.def"
#undef ROUTE
};

void peer_of(int fd, bool local, char *out, size_t size)
{
	struct sockaddr_storage sa;
	socklen_t n = sizeof(sa);
	char addr[INET6_ADDRSTRLEN] = "?";

	if (local) {
		snprintf(out, size, "the local socket");
		return;
	}
	if (getpeername(fd, (struct sockaddr *)&sa, &n) == 0)
		getnameinfo((struct sockaddr *)&sa, n, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
	snprintf(out, size, "%s", strncmp(addr, "::ffff:", 7) == 0 ? addr + 7 : addr);
}

static enum api_method method_of(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		return API_GET;
	case EVHTTP_REQ_POST:
		return API_POST;
	case EVHTTP_REQ_PUT:
		return API_PUT;
	case EVHTTP_REQ_PATCH:
		return API_PATCH;
	case EVHTTP_REQ_DELETE:
		return API_DELETE;
	default:
		return API_OTHER;
	}
}

/* The call made: its argument decoded, its JSON body NUL-terminated, its streamed body spooled;
 * or e filled. */
static int call_run(struct call *c, const struct api_route *rt, struct api_error *e)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t len = evbuffer_get_length(in);
	char arg[4096] = "";

	if (rt->arg && !api_arg_decode(rt->arg, rt->arglen, arg, sizeof(arg)))
		return error_field(e, "path", "a bad %-escape, a NUL or too long a name in the path");
	c->arg = arg;
	if (api_body_kind(c->id) == API_BODY_JSON) {
		if (len > API_BODY_MAX)
			return error_set(e, 413, "the body is over 1 MiB; JSON bodies are limited to 1 MiB");
		evbuffer_add(in, "", 1);
		c->body = (const char *)evbuffer_pullup(in, -1);
		c->len = len;
	}
	handlers[c->id](c);
	if (c->spool)
		spool_release();
	return 0;
}

/* A STREAM route's body (evhttp has read it whole, at most UPLOAD_MAX) written to a file under
 * hd->spool and fsynced, after the caller and its role are checked; c->spool names it. */
static struct spool upload;

static int streamed(struct endpoint *ep, struct evhttp_request *req, int fd, struct caller *who, struct call *c,
		    struct api_error *e)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct hostd *hd = ep->hd;
	int out, r = util_mkdir_p(hd->spool, 0700);

	if (caller_check(hd, ep->local, fd, evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization"),
			 c->id, who, e) < 0)
		return -1;
	if (r < 0)
		return error_set(e, 507, "no folder to hold the upload; see the host's log");
	snprintf(upload.path, sizeof(upload.path), "%s/upload.XXXXXX", hd->spool);
	if ((out = mkostemp(upload.path, O_CLOEXEC)) < 0)
		return error_set(e, 500, "cannot make a file for the upload on the datastore; see the host's log");
	upload.size = (long long)evbuffer_get_length(in);
	upload.err = 0;
	while (evbuffer_get_length(in) && (r = evbuffer_write(in, out)) > 0)
		;
	if (evbuffer_get_length(in) || fsync(out) < 0)
		upload.err = errno ? errno : EIO;
	close(out);
	c->spool = &upload;
	return 0;
}

static void spool_release(void)
{
	if (upload.path[0])
		unlink(upload.path);
	upload.path[0] = '\0';
}

static void handle(struct evhttp_request *req, void *arg)
{
	struct endpoint *ep = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct api_route rt = api_route(method_of(req), path ? path : "");
	struct caller who = {.role = HC_READ_ONLY};
	struct api_error e = {0};
	struct call c = {.hd = ep->hd, .req = req, .who = &who, .id = rt.call, .arg = "", .body = "", .len = 0};
	int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evhttp_request_get_connection(req)));

	peer_of(fd, ep->local, who.peer, sizeof(who.peer));
	if (path && vm_path_is_ours(path)) { /* /api/vms: vms.c routes and answers */
		if (authenticate(ep->hd, ep->local, fd,
				 evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization"), &who, &e) == 0)
			return vms_request(ep->hd->vms, req, path, who.user, who.role, who.peer);
		return reply_error(req, &e);
	}
	if (rt.status == 405)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", rt.allow);
	if (rt.status == 0 && api_body_kind(rt.call) != API_BODY_STREAM &&
	    evbuffer_get_length(evhttp_request_get_input_buffer(req)) > API_BODY_MAX)
		error_field(&e, "body", "the body is over 1 MiB; JSON bodies are limited to 1 MiB"), e.status = 413;
	else if (rt.status)
		error_set(&e, rt.status, rt.status == 404 ? "no such path; docs/api.md lists the calls"
							  : "method not allowed on this path");
	else if (api_body_kind(rt.call) == API_BODY_STREAM ? streamed(ep, req, fd, &who, &c, &e) < 0
							    : caller_check(ep->hd, ep->local, fd,
									   evhttp_find_header(evhttp_request_get_input_headers(req),
											      "Authorization"),
									   rt.call, &who, &e) < 0)
		;
	else if (call_run(&c, &rt, &e) == 0)
		return;
	reply_error(req, &e);
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	struct endpoint *ep = arg;
	struct bufferevent *b = bufferevent_openssl_socket_new(base, -1, SSL_new(ep->tls), BUFFEREVENT_SSL_ACCEPTING,
								BEV_OPT_CLOSE_ON_FREE);

	return b;
}

static struct bufferevent *plain_bev(struct event_base *base, void *arg)
{
	(void)arg;
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static SSL_CTX *tls_context(const struct hostd *hd)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) &&
	    SSL_CTX_use_certificate_chain_file(ctx, hd->cert) == 1 &&
	    SSL_CTX_use_PrivateKey_file(ctx, hd->key, SSL_FILETYPE_PEM) == 1 && SSL_CTX_check_private_key(ctx) == 1)
		return ctx;
	fprintf(stderr, "hostd: %s, %s: cannot load the certificate and key; remove both to have new ones made\n",
		hd->cert, hd->key);
	ERR_print_errors_fp(stderr);
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_reload(struct hostd *hd)
{
	SSL_CTX *ctx = tls_context(hd), *old = hd->tls->tls;

	if (!ctx)
		return -1;
	hd->tls->tls = ctx;
	SSL_CTX_free(old); /* the connections open keep their own reference */
	logf_(hd, LOG_NOTICE, "the TLS certificate is reloaded from %s", hd->cert);
	return 0;
}

static struct evhttp *http_new(struct event_base *base, struct endpoint *ep)
{
	struct evhttp *http = evhttp_new(base);

	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
						 EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(http, UPLOAD_MAX); /* JSON bodies: API_BODY_MAX, checked in handle() */
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_timeout(http, 30);
	evhttp_set_gencb(http, handle, ep);
	evhttp_set_bevcb(http, ep->local ? plain_bev : tls_bev, ep);
	return http;
}

static int listen_tls(struct evhttp *http, const char *spec)
{
	const char *colon = strrchr(spec, ':');
	char *addr;
	long port;
	char *end;
	struct evhttp_bound_socket *bound;
	int r = 0;

	if (!colon || (port = strtol(colon + 1, &end, 10)) < 1 || port > 65535 || *end)
		usage_error("--listen takes ADDR:PORT");
	addr = xstrndup(spec, (size_t)(colon - spec));
	if (!(bound = evhttp_bind_socket_with_handle(http, addr, (ev_uint16_t)port))) {
		fprintf(stderr, "hostd: cannot listen on %s: %s; is another server there?\n", spec, strerror(errno));
		r = -1;
	} else {
		/* Answers go out as several TLS records: without TCP_NODELAY (which accepted sockets
		 * inherit on Linux) Nagle holds the last one for the client's delayed ACK, 40 ms a call. */
		int one = 1;
		setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	free(addr);
	return r;
}

static int listen_unix(struct evhttp *http, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path))
		usage_error("--socket: the path is too long");
	strcpy(sa.sun_path, path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0 ||
	    !evhttp_accept_socket_with_handle(http, fd)) {
		fprintf(stderr, "hostd: cannot listen on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

static void on_stop(evutil_socket_t sig, short what, void *base)
{
	(void)sig, (void)what;
	event_base_loopbreak(base);
}

static int cert_make(struct hostd *hd)
{
	struct hc_config c = {0};
	struct diag d;
	int r = host_conf_load(&hd->h, &c, &d);

	if (r == 0) {
		r = cert_ensure(hd->cert, hd->key, c.val[HC_HOSTNAME], &d);
		hc_free(&c);
	}
	if (r < 0)
		diag_print("hostd", &d);
	return r;
}

static int serve(struct hostd *hd)
{
	struct event_base *base = hd->base = event_base_new();
	struct endpoint tls = {.hd = hd, .local = false}, local = {.hd = hd, .local = true};
	SSL_CTX *ctx = cert_make(hd) == 0 ? tls_context(hd) : NULL;
	struct evhttp *https, *unix_http;
	struct event *term = evsignal_new(base, SIGTERM, on_stop, base), *intr = evsignal_new(base, SIGINT, on_stop, base);
	int r;

	tls.tls = ctx;
	hd->tls = &tls;
	https = http_new(base, &tls), unix_http = http_new(base, &local);
	r = ctx && listen_tls(https, hd->listen) == 0 && listen_unix(unix_http, hd->socket) == 0 ? 0 : 1;

	if (r == 0) {
		event_add(term, NULL), event_add(intr, NULL);
		logf_(hd, LOG_INFO, "listening on https://%s and %s", hd->listen, hd->socket);
		hd->vms = vms_new(base, &hd->h);
		vms_autostart(hd->vms);
		event_base_dispatch(base);
		vms_free(hd->vms); /* hostd's VMs stop with it; autostart ones start again with it */
		unlink(hd->socket);
		/* Not evhttp_free(): with stream.c's filters under its connections, libevent 2.1 was
		 * seen to loop in that teardown ("event_del_: event has no event_base set" without
		 * end) after a long session. The process ends here; the kernel closes the sockets. */
		logf_(hd, LOG_INFO, "stopped");
		fflush(NULL);
		_exit(0);
	}
	event_free(term), event_free(intr);
	evhttp_free(https), evhttp_free(unix_http);
	SSL_CTX_free(tls.tls);
	event_base_free(base);
	return r;
}

static void options(struct hostd *hd, int argc, char **argv)
{
	static const struct option opts[] = {{"root", required_argument, NULL, 'r'},   {"listen", required_argument, NULL, 'l'},
					     {"socket", required_argument, NULL, 's'}, {"cert", required_argument, NULL, 'c'},
					     {"key", required_argument, NULL, 'k'},    {"help", no_argument, NULL, 'h'},
					     {"bankctl", required_argument, NULL, 'b'},
					     {0}};
	const char *sock = NULL, *cert = NULL, *key = NULL;
	struct stat st;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h')
			fputs(usage, stdout), exit(0);
		else if (ch == 'r' && (stat(optarg, &st) < 0 || !S_ISDIR(st.st_mode)))
			usage_error("--root names no folder");
		else if (ch == 'r')
			hd->h.root = optarg, hd->h.live = strcmp(optarg, "/") == 0;
		else if (ch == 'b')
			hd->bankctl = optarg;
		else if (ch == 'l' || ch == 's' || ch == 'c' || ch == 'k')
			*(ch == 'l' ? &hd->listen : ch == 's' ? &sock : ch == 'c' ? &cert : &key) = optarg;
		else
			usage_error("bad option");
	}
	if (optind != argc)
		usage_error("hostd takes no arguments");
	hd->socket = sock ? xstrdup(sock) : host_path(&hd->h, "run/hostd.sock");
	hd->cert = cert ? xstrdup(cert) : host_path(&hd->h, "etc/hostcfg/hostd.crt");
	hd->key = key ? xstrdup(key) : host_path(&hd->h, "etc/hostcfg/hostd.key");
	hd->datastore = host_path(&hd->h, "vmfs/volumes/datastore1");
	hd->spool = host_path(&hd->h, "vmfs/volumes/datastore1/.hostd-spool");
	if (stat(hd->datastore, &st) < 0) { /* no datastore (yet): /var/tmp, RAM on the appliance */
		free(hd->spool);
		hd->spool = host_path(&hd->h, "var/tmp/hostd-spool");
	}
	hd->auth.shadow = host_path(&hd->h, "etc/shadow");
	hd->auth.faillock = host_path(&hd->h, "run/faillock");
}

int main(int argc, char **argv)
{
	struct hostd hd = {.h = {.root = "/", .live = true, .lock_fd = -1}, .listen = "0.0.0.0:443", .bankctl = "bankctl"};
	int r;

	util_progname = "hostd";
	umask(022);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	options(&hd, argc, argv);
	openlog("hostd", LOG_PID, LOG_DAEMON);
	if (auth_cache_init(&hd.cache) < 0) {
		perror("hostd: getrandom");
		return 1;
	}
	r = serve(&hd);
	free(hd.socket), free(hd.cert), free(hd.key), free(hd.datastore), free(hd.spool);
	free((char *)hd.auth.shadow), free((char *)hd.auth.faillock);
	return r;
}
