/* hostd: the host's management API over HTTPS and a local UNIX socket (docs/api.md), on
 * server.c (libevent, OpenSSL and http-parser); the configuration through packages/hostcfg, the passwords
 * through packages/auth. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <getopt.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cert.h"
#include "hostd.h"
#include "vmdef.h"
#include "vms.h"


static const char usage[] =
	"Usage: hostd [--root DIR] [--listen ADDR:PORT] [--socket PATH] [--cert FILE] [--key FILE]\n"
	"             [--bankctl PROGRAM]\n"
	"\n"
	"The host's management API (docs/api.md): HTTPS on ADDR:PORT (default 0.0.0.0:443) and the same\n"
	"API without TLS on the UNIX socket PATH (default /run/hostd.sock; its root peer is an\n"
	"administrator). The certificate (default /etc/hostcfg/hostd.crt and hostd.key) is made at the\n"
	"first start when missing. Uploads are written as they arrive: a bundle (POST /api/banks/stage)\n"
	"to bankctl stage -, a file (PUT /api/datastore/PATH) to /vmfs/volumes/datastore1/.hostd-spool.\n"
	"At most 64 connections at once. --bankctl names the bankctl to run (default: bankctl in PATH).\n"
	"--root DIR works on a directory tree instead of the host (tests): reboot, shutdown and\n"
	"restore-defaults are then only written to DIR/run/hostd-action.\n";

static void usage_error(const char *what)
{
	fprintf(stderr, "hostd: %s; see hostd --help\n", what);
	exit(2);
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
	struct diag d;
	const struct hc_config *c = conf_get(hd, &d);
	const struct hc_user *u;

	if (!c) {
		logf_(hd, LOG_ERR, "%s", d.msg);
		return error_set(e, 500, "the configuration cannot be read; see the host's log");
	}
	if (!(u = hc_user_find((struct hc_config *)c, who->user)))
		return error_set(e, 403, "the user has no role on this host");
	who->role = u->role;
	return 0;
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

void get_health(struct call *c)
{
	reply(c->req, 200, facts(c->hd));
}

void get_config(struct call *c)
{
	struct hc_config cf = {0};

	if (conf_load(c->hd, &cf, c->req) == 0) {
		reply(c->req, 200, api_config_json(&cf));
		hc_free(&cf);
	}
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

/* A request between its head and its answer: who called, the route, and for an upload where its
 * body goes (struct spool: a file on the datastore, or bankctl's stdin). */
struct job {
	struct caller who;
	struct api_route rt;
	bool upload; /* sp set up by upload_begin() */
	struct spool sp;
	char arg[4096];  /* the route's argument, decoded */
	/* A call answered when a child ends (wait_child): */
	struct hostd *hd;
	struct sreq *req; /* NULL once the client has gone */
	pid_t child;
	int pidfd;
	struct event *ev;
	void (*done)(struct call *c, int status);
};

/* A STREAM route's sink, made once the caller may make the call: bankctl stage - for a bundle
 * (banks.c), else a file under hd->spool, renamed into place by the handler. */
static int upload_begin(struct hostd *hd, struct job *j, struct api_error *e)
{
	if (j->rt.call == API_BANKS_STAGE)
		return stage_begin(hd, &j->sp, e);
	if (util_mkdir_p(hd->spool, 0700) < 0)
		return error_set(e, 507, "no folder to hold the upload; see the host's log");
	snprintf(j->sp.path, sizeof(j->sp.path), "%s/upload.XXXXXX", hd->spool);
	if ((j->sp.fd = mkostemp(j->sp.path, O_CLOEXEC)) < 0) {
		j->sp.path[0] = '\0';
		return error_set(e, 500, "cannot make a file for the upload on the datastore; see the host's log");
	}
	return 0;
}

/* What upload_begin() made, undone: the spool file removed, bankctl ended (aborted) or reaped. */
static void job_free(struct job *j)
{
	if (!j)
		return;
	if (j->ev)
		event_free(j->ev);
	if (j->pidfd >= 0)
		close(j->pidfd);
	stage_end(&j->sp);
	if (j->sp.fd >= 0)
		close(j->sp.fd);
	if (j->sp.out >= 0)
		close(j->sp.out);
	if (j->sp.path[0])
		unlink(j->sp.path);
	free(j);
}

static const char *authorization(const struct sreq *r)
{
	return sreq_header(r, "Authorization");
}

/* The head of a request: routed, its caller checked, an upload's sink made; or answered now. */
static void on_head(struct sreq *r, void *arg)
{
	struct hostd *hd = arg;
	const char *path = sreq_path(r);
	struct job *j = xmalloc(sizeof(*j));
	struct api_error e = {0};
	bool local = sreq_local(r);

	*j = (struct job){.who = {.role = HC_READ_ONLY}, .sp = {.fd = -1, .out = -1}, .hd = hd, .req = r, .pidfd = -1};
	snprintf(j->who.peer, sizeof(j->who.peer), "%s", sreq_peer(r));
	j->rt = api_route(api_method_find(sreq_method(r)), path);
	if (j->rt.status == 405)
		sreq_add_header(r, "Allow", j->rt.allow), error_set(&e, 405, "method not allowed on this path");
	else if (j->rt.status)
		error_set(&e, j->rt.status, "no such path; docs/api.md lists the calls");
	else if (api_body_kind(j->rt.call) != API_BODY_STREAM && sreq_length(r) > API_BODY_MAX)
		error_field(&e, "body", "the body is over 1 MiB; JSON bodies are limited to 1 MiB"), e.status = 413;
	else if (caller_check(hd, local, sreq_fd(r), authorization(r), j->rt.call, &j->who, &e) == 0 &&
		 api_body_kind(j->rt.call) == API_BODY_STREAM && upload_begin(hd, j, &e) == 0)
		j->upload = true, sreq_sink(r, j->sp.fd);
	if (e.status) {
		job_free(j);
		return reply_error(r, &e);
	}
	srv_body_max(r, API_BODY_MAX);
	sreq_set_data(r, j);
}

/* Wait for j's child pid: its exit status, or 128 + the signal that ended it. */
static int reap(struct job *j, pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid == j->sp.pid)
		j->sp.pid = 0; /* reaped here: stage_end() has nothing to wait for */
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The child of a call that waits for it (wait_child) ended: the call answered (audited even when
 * its client has gone), the job freed. */
static void child_ended(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	struct call c = {.hd = j->hd, .req = j->req, .who = &j->who, .id = j->rt.call, .arg = j->arg, .body = "",
			 .spool = j->upload ? &j->sp : NULL};
	int st = reap(j, j->child);

	(void)fd, (void)what;
	if (j->req)
		sreq_set_data(j->req, NULL);
	j->done(&c, st); /* may free j->req's connection */
	job_free(j);
}

/* c's answer when its child c->wait_pid ends (hostd.h, struct call). */
static void wait_child(struct call *c, pid_t pid, void (*done)(struct call *c, int status))
{
	struct job *j = sreq_data(c->req);

	j->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (j->pidfd < 0) /* a kernel before 5.3: wait here */
		return done(c, reap(j, pid));
	j->child = pid, j->done = done;
	j->ev = event_new(c->hd->base, j->pidfd, EV_READ, child_ended, j);
	event_add(j->ev, NULL);
	sreq_defer(c->req);
}

/* The request whole: its handler answers. */
static void on_request(struct sreq *r, void *arg)
{
	struct hostd *hd = arg;
	struct job *j = sreq_data(r);
	struct api_error e = {0};
	struct call c = {.hd = hd, .req = r, .who = &j->who, .id = j->rt.call, .arg = "", .body = "", .len = 0};
	bool over;

	c.body = sreq_body(r, &c.len, &over);
	if (over)
		error_field(&e, "body", "the body is over 1 MiB; JSON bodies are limited to 1 MiB"), e.status = 413;
	else if (j->rt.arg && !api_arg_decode(j->rt.arg, j->rt.arglen, j->arg, sizeof(j->arg)))
		error_field(&e, "path", "a bad %-escape, a NUL or too long a name in the path");
	else {
		c.arg = j->arg;
		if (j->upload) {
			j->sp.size = sreq_received(r), j->sp.err = sreq_sink_error(r);
			c.spool = &j->sp;
		}
		handlers[c.id](&c);
		if (c.wait_pid > 0)
			wait_child(&c, c.wait_pid, c.wait_done);
	}
	if (e.status)
		reply_error(r, &e);
	if (j->ev) /* answered when its child ends (wait_child) */
		return;
	sreq_set_data(r, NULL);
	job_free(j);
}

/* The connection ended before the body was whole (the upload undone), or before a call waiting
 * for its child was answered. */
static void on_abort(struct sreq *r, void *arg)
{
	struct job *j = sreq_data(r);

	(void)arg;
	sreq_set_data(r, NULL);
	if (j && j->ev) { /* its child runs on: child_ended() answers no one, logs and frees */
		j->req = NULL;
		return;
	}
	if (j && j->upload)
		logf_(arg, LOG_WARNING, "%s from %s: the connection ended during the upload; nothing kept",
		      api_call_name(j->rt.call), j->who.peer);
	job_free(j);
}

/* The listening TCP socket of spec (ADDR:PORT, [V6]:PORT), or -1 (said). */
static int listen_tls(const char *spec)
{
	struct sockaddr_storage sa;
	int len = sizeof(sa), fd, one = 1;

	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&sa, &len) < 0 || !strrchr(spec, ':'))
		usage_error("--listen takes ADDR:PORT");
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* Answers are written whole, but a last TLS record must not wait for the client's delayed
	 * ACK (Nagle): TCP_NODELAY, inherited by the accepted sockets and set on each again. */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 ||
	    listen(fd, 128) < 0) {
		fprintf(stderr, "hostd: cannot listen on %s: %s; is another server there?\n", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path))
		usage_error("--socket: the path is too long");
	strcpy(sa.sun_path, path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "hostd: cannot listen on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
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
	const struct srv_calls calls = {.head = on_head, .request = on_request, .abort = on_abort, .arg = hd};
	struct event *term = evsignal_new(base, SIGTERM, on_stop, base), *intr = evsignal_new(base, SIGINT, on_stop, base);
	int tcp = -1, local = -1, r;

	hd->ctx = cert_make(hd) == 0 ? tls_context(hd) : NULL;
	hd->srv = srv_new(base, &calls, CONNECTIONS_MAX);
	r = hd->ctx && (tcp = listen_tls(hd->listen)) >= 0 && (local = listen_unix(hd->socket)) >= 0 &&
			    srv_listen_tls(hd->srv, tcp, &hd->ctx) == 0 && srv_listen_local(hd->srv, local) == 0
		    ? 0
		    : 1;
	if (r == 0) {
		event_add(term, NULL), event_add(intr, NULL);
		logf_(hd, LOG_INFO, "listening on https://%s and %s", hd->listen, hd->socket);
		hd->vms = vms_new(base, &hd->h);
		vms_autostart(hd->vms);
		event_base_dispatch(base);
		srv_free(hd->srv); /* uploads in flight undone */
		vms_free(hd->vms); /* hostd's VMs stop with it; autostart ones start again with it */
		unlink(hd->socket);
		logf_(hd, LOG_INFO, "stopped");
	} else {
		srv_free(hd->srv);
		if (tcp >= 0 && local < 0)
			close(tcp);
	}
	event_free(term), event_free(intr);
	SSL_CTX_free(hd->ctx);
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
	facts_free(&hd);
	free(hd.socket), free(hd.cert), free(hd.key), free(hd.datastore), free(hd.spool);
	free((char *)hd.auth.shadow), free((char *)hd.auth.faillock);
	return r;
}
