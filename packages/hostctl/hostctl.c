/* hostctl: the command-line client of hostd's API (docs/hostctl.md, docs/api.md), over HTTPS to
 * a host or over the local UNIX socket on the host itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "args.h"
#include "http.h"
#include "table.h"

#define JSON_MAX (64 << 20) /* an answer held in memory (not a download) */
#define PEM_MAX (1 << 20)

struct ctx {
	struct args *a;
	struct http_target t;
	const char *user; /* NULL: none (the socket's peer is who calls) */
	char *auth;       /* owned */
};

struct cmd;
typedef int (*cmd_fn)(struct ctx *x, const struct cmd *c, char **arg, int n);

struct cmd {
	const char *words;  /* "vms power-on" */
	const char *operands; /* for the usage line */
	int min, max;       /* operands */
	unsigned opts;      /* the O_* it takes */
	cmd_fn run;
	const char *method, *path; /* for the simple calls: path with %s for the operand */
	const char *help;
};

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hostctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	exit(2);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hostctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return 1;
}

/* ---- passwords ---- */

/* A line from a tty without echo; NULL when there is no terminal. */
static char *prompt(const char *text)
{
	FILE *tty = fopen("/dev/tty", "r+");
	struct termios old, quiet;
	bool term;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!tty)
		return NULL;
	term = tcgetattr(fileno(tty), &old) == 0;
	if (term) { /* echo off before the prompt: type-ahead is not shown */
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSANOW, &quiet);
	}
	fputs(text, tty);
	fflush(tty);
	n = getline(&line, &cap, tty);
	if (term)
		tcsetattr(fileno(tty), TCSANOW, &old);
	fputs("\n", tty);
	fclose(tty);
	if (n < 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* The first line of a file ("-": standard input); exits on an error. */
static char *first_line(const char *file, const char *option)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		die_usage("cannot read %s %s: %s", option, file, strerror(errno));
	if (getline(&line, &cap, f) < 0) {
		free(line);
		line = strdup("");
	}
	if (f != stdin)
		fclose(f);
	if (!line)
		die_usage("out of memory");
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* The login password: --password-file, $HOSTCTL_PASSWORD, or a prompt. */
static char *login_password(struct ctx *x)
{
	const char *env = getenv("HOSTCTL_PASSWORD");
	char text[400];
	char *pw;

	if (x->a->password_file)
		return first_line(x->a->password_file, "--password-file");
	if (env)
		return strdup(env);
	snprintf(text, sizeof(text), "Password for %s@%s: ", x->user, x->t.socket ? "localhost" : x->t.host);
	pw = prompt(text);
	if (!pw)
		die_usage("no password for %s: give --password-file FILE, set HOSTCTL_PASSWORD, or run on a terminal", x->user);
	return pw;
}

/* A new password for a user: --new-password-file, or asked twice on the terminal. */
static char *new_password(struct ctx *x, const char *name)
{
	char text[200], *a, *b;

	if (x->a->new_password_file)
		return first_line(x->a->new_password_file, "--new-password-file");
	snprintf(text, sizeof(text), "New password for %s: ", name);
	a = prompt(text);
	if (!a)
		die_usage("no terminal to ask %s's new password on; give --new-password-file FILE ('-': standard input)", name);
	b = prompt("Again: ");
	if (!b || strcmp(a, b) != 0) {
		free(a);
		free(b);
		die_usage("the two passwords differ; nothing changed");
	}
	free(b);
	return a;
}

static void need_auth(struct ctx *x)
{
	char *pw;

	if (x->auth || !x->user)
		return;
	pw = login_password(x);
	x->auth = http_basic(x->user, pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	x->t.auth = x->auth;
}

/* ---- answers ---- */

struct membuf {
	char *p;
	size_t n, cap;
};

static int mem_data(void *arg, const char *p, size_t n)
{
	struct membuf *m = arg;

	if (m->n + n + 1 > m->cap) {
		size_t cap = (m->n + n + 1) * 2;
		char *q;

		if (m->n + n > JSON_MAX || !(q = realloc(m->p, cap)))
			return -1;
		m->p = q;
		m->cap = cap;
	}
	memcpy(m->p + m->n, p, n);
	m->n += n;
	m->p[m->n] = '\0';
	return 0;
}

/* An error answer: "hostctl: STATUS: error (field F)"; a 401 without credentials says how to
 * give them (a non-root peer of the socket). */
static int answer_error(const struct ctx *x, const struct http_head *h, const struct membuf *m)
{
	json_t *j = m->n ? json_loadb(m->p, m->n, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(j, "error"));
	const char *field = json_string_value(json_object_get(j, "field"));
	const char *hint = h->status == 401 && !x->auth ? "; give --user NAME (its password is asked), or run as root" : "";

	if (msg && field)
		fail("%d: %s (field %s)%s", h->status, msg, field, hint);
	else if (msg)
		fail("%d: %s%s", h->status, msg, hint);
	else
		fail("%d: %s%s", h->status, h->reason[0] ? h->reason : "the server refused the call", hint);
	json_decref(j);
	return 1;
}

/* Make a call whose answer is JSON: 0 with *out (NULL when the body is empty; raw in *raw), or
 * the exit status after printing what went wrong. */
static int call(struct ctx *x, const char *method, const char *path, const struct http_body *body, struct membuf *raw,
		json_t **out)
{
	struct http_sink sink = { .data = mem_data, .arg = raw };
	struct http_head h;
	char err[1024];

	*out = NULL;
	memset(raw, 0, sizeof(*raw));
	if (http_call(&x->t, method, path, body, &sink, &h, err, sizeof(err)) != 0)
		return fail("%s", err);
	if (h.status >= 300)
		return answer_error(x, &h, raw);
	if (raw->n && !(*out = json_loadb(raw->p, raw->n, 0, NULL)))
		return fail("%d: the answer is not JSON; is %s hostd?", h.status, x->t.socket ? x->t.socket : x->t.host);
	return 0;
}

/* A call with a JSON body (or none), its answer printed as a table or as JSON. */
static int call_print(struct ctx *x, const char *method, const char *path, json_t *in)
{
	char *text = in ? json_dumps(in, JSON_COMPACT) : NULL;
	struct http_body b = { .type = "application/json", .data = text, .len = text ? strlen(text) : 0, .fd = -1 };
	struct membuf raw;
	json_t *out;
	int r = call(x, method, path, in ? &b : NULL, &raw, &out);

	if (r == 0 && x->a->json && raw.n)
		fwrite(raw.p, 1, raw.n, stdout);
	else if (r == 0 && out)
		table_print(stdout, out);
	if (text)
		explicit_bzero(text, strlen(text)); /* may hold a password */
	free(text);
	free(raw.p);
	json_decref(out);
	return r;
}

/* fmt with its %s the name, percent-encoded ("/api/vms/%s"). */
static char *path_with(const char *fmt, const char *name)
{
	char *enc = url_name(name), *out = NULL;

	if (!enc || asprintf(&out, fmt, enc) < 0)
		out = NULL;
	free(enc);
	if (!out)
		die_usage("out of memory");
	return out;
}

static int cmd_simple(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char *path = n ? path_with(c->path, arg[0]) : strdup(c->path);
	int r = call_print(x, c->method, path, NULL);

	free(path);
	return r;
}

/* ---- files both ways ---- */

/* A regular file to send; exits when it is not one. */
static int open_upload(const char *file, off_t *size)
{
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0)
		die_usage("cannot read %s: %s", file, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die_usage("%s is not a regular file; give a file", file);
	*size = st.st_size;
	return fd;
}

/* "sent 45% (48 of 107 MiB)" on a terminal, each whole percent. */
static void show_progress(off_t sent, off_t size)
{
	static int last = -1;
	int pct = size ? (int)(sent * 100 / size) : 100;

	if (pct == last)
		return;
	last = pct;
	fprintf(stderr, "\rhostctl: sent %d%% (%lld of %lld MiB)%s", pct, (long long)(sent >> 20), (long long)(size >> 20),
		sent == size ? "; waiting for the host\n" : "");
}

/* A call that sends file as its body, streamed. */
static int call_upload(struct ctx *x, const char *method, const char *path, const char *file)
{
	struct http_body b = { .type = "application/octet-stream", .fd = -1, .progress = isatty(2) ? show_progress : NULL };
	struct membuf raw;
	json_t *out;
	int r;

	b.fd = open_upload(file, &b.size);
	r = call(x, method, path, &b, &raw, &out);
	close(b.fd);
	if (r == 0 && x->a->json && raw.n)
		fwrite(raw.p, 1, raw.n, stdout);
	else if (r == 0 && out)
		table_print(stdout, out);
	free(raw.p);
	json_decref(out);
	return r;
}

/* A download: the body to fd when the answer is a success and not JSON; JSON (an error, a
 * folder's listing) into mem. */
struct download {
	int fd;
	bool to_file;
	const char *what;
	struct membuf mem;
	int werr;
};

static int dl_head(void *arg, const struct http_head *h)
{
	struct download *d = arg;

	d->to_file = h->status < 300 && strcmp(h->type, "application/json") != 0;
	return 0;
}

static int dl_data(void *arg, const char *p, size_t n)
{
	struct download *d = arg;

	if (!d->to_file)
		return mem_data(&d->mem, p, n);
	while (n) {
		ssize_t w = write(d->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			d->werr = errno;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* GET path into fd: 0, or the exit status after saying why. */
static int download(struct ctx *x, const char *path, int fd, const char *what)
{
	struct download d = { .fd = fd, .what = what };
	struct http_sink sink = { .head = dl_head, .data = dl_data, .arg = &d };
	struct http_head h;
	char err[1024];
	int r = 0;

	if (http_call(&x->t, "GET", path, NULL, &sink, &h, err, sizeof(err)) != 0)
		r = d.werr ? fail("cannot write %s: %s", what, strerror(d.werr)) : fail("%s", err);
	else if (h.status >= 300)
		r = answer_error(x, &h, &d.mem);
	else if (!d.to_file)
		r = 3; /* JSON: the caller says what it means */
	free(d.mem.p);
	return r;
}

/* The download's temporary file, removed when hostctl is interrupted (Ctrl-C). */
static char *volatile partial;

static void remove_partial(int sig)
{
	if (partial)
		unlink(partial);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Catch (on) or give back (off) SIGINT, SIGTERM and SIGHUP; those ignored stay so. */
static void catch_signals(bool on)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	static void (*before[3])(int);

	for (int i = 0; i < 3; i++) {
		if (on) {
			before[i] = signal(sigs[i], remove_partial);
			if (before[i] == SIG_IGN)
				signal(sigs[i], SIG_IGN);
		} else {
			signal(sigs[i], before[i]);
		}
	}
}

/* A temporary file beside file, renamed over it when the download is whole. */
static int get_to_file(struct ctx *x, const char *path, const char *file, const char *remote)
{
	char *tmp = NULL;
	int fd, r;

	if (asprintf(&tmp, "%s.hostctl-XXXXXX", file) < 0)
		die_usage("out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		r = fail("cannot write %s: %s; give a file in a folder you may write", file, strerror(errno));
		free(tmp);
		return r;
	}
	fchmod(fd, 0644 & ~umask(umask(0)));
	partial = tmp;
	catch_signals(true);
	r = download(x, path, fd, file);
	if (r == 3)
		r = fail("%s is a folder; `hostctl datastore ls %s` lists it", remote, remote);
	if (close(fd) != 0 && r == 0)
		r = fail("cannot write %s: %s", file, strerror(errno));
	if (r == 0 && rename(tmp, file) != 0)
		r = fail("cannot write %s: %s", file, strerror(errno));
	if (r != 0)
		unlink(tmp);
	catch_signals(false);
	partial = NULL;
	free(tmp);
	return r;
}

/* ---- the commands ---- */

static int cmd_config_set(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char err[300];
	json_t *body = config_patch(arg, n, err, sizeof(err));
	int r;

	(void)c;
	if (!body)
		die_usage("%s", err);
	r = call_print(x, "PATCH", "/api/config", body);
	json_decref(body);
	return r;
}

static int cmd_users_add(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char *pw;
	json_t *body;
	int r;

	(void)c, (void)n;
	if (!x->a->role)
		die_usage("users add needs --role administrator|operator|read-only");
	need_auth(x); /* the login password is asked first */
	pw = new_password(x, arg[0]);
	body = json_pack("{s:s, s:s, s:s}", "name", arg[0], "password", pw, "role", x->a->role);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (!body)
		die_usage("the name, role and password must be UTF-8 text");
	r = call_print(x, "POST", "/api/users", body);
	json_decref(body);
	return r;
}

static int cmd_users_passwd(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char *pw, *path;
	json_t *body;
	int r;

	(void)c, (void)n;
	need_auth(x);
	pw = new_password(x, arg[0]);
	body = json_pack("{s:s}", "password", pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (!body)
		die_usage("the password must be UTF-8 text");
	path = path_with("/api/users/%s/password", arg[0]);
	r = call_print(x, "PUT", path, body);
	free(path);
	json_decref(body);
	return r;
}

/* The two PEM files in one body. */
static char *read_pem(const char *file, size_t *len)
{
	FILE *f = fopen(file, "r");
	char *buf = malloc(PEM_MAX + 1);

	if (!f || !buf)
		die_usage("cannot read %s: %s", file, strerror(errno));
	*len = fread(buf, 1, PEM_MAX + 1, f);
	fclose(f);
	if (*len > PEM_MAX || !memmem(buf, *len, "-----BEGIN ", 11))
		die_usage("%s is not a PEM file (-----BEGIN ...) of at most 1 MiB", file);
	return buf;
}

static int cmd_cert_set(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	size_t cl, kl;
	char *cert = read_pem(arg[0], &cl), *key = read_pem(arg[1], &kl), *both = malloc(cl + kl + 1);
	struct http_body b = { .type = "application/x-pem-file", .data = both, .len = cl + kl + 1, .fd = -1 };
	struct membuf raw;
	json_t *out;
	int r;

	(void)c, (void)n;
	if (!both)
		die_usage("out of memory");
	memcpy(both, cert, cl);
	both[cl] = '\n';
	memcpy(both + cl + 1, key, kl);
	need_auth(x);
	r = call(x, "PUT", "/api/host/certificate", &b, &raw, &out);
	if (r == 0 && x->a->json && raw.n)
		fwrite(raw.p, 1, raw.n, stdout);
	else if (r == 0 && out)
		table_print(stdout, out);
	explicit_bzero(key, kl);
	explicit_bzero(both, cl + kl + 1);
	free(cert);
	free(key);
	free(both);
	free(raw.p);
	json_decref(out);
	return r;
}

static int cmd_cert_fetch(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char fp[200], err[1024];

	(void)c, (void)n;
	if (http_fetch_cert(&x->t, arg[0], fp, sizeof(fp), err, sizeof(err)) != 0)
		return fail("%s", err);
	printf("%s: the certificate of %s, not checked: compare its SHA-256 fingerprint with the one the host's console shows:\n%s\n",
	       arg[0], x->t.host, fp);
	return 0;
}

static int cmd_banks_stage(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	(void)c, (void)n;
	return call_upload(x, "POST", "/api/banks/stage", arg[0]);
}

static int cmd_vms_create(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	const struct args *a = x->a;
	json_t *disks = json_array(), *body;
	int r;

	(void)c, (void)n;
	if (!(a->set & O_MEMORY) || !(a->set & O_CPUS) || !a->kernel)
		die_usage("vms create needs --memory MIB, --cpus N and --kernel DATASTORE-PATH; see hostctl vms create --help");
	for (int i = 0; i < a->ndisks; i++)
		json_array_append_new(disks, json_string(a->disk[i]));
	body = json_pack("{s:s, s:I, s:I, s:s, s:o, s:b}", "name", arg[0], "memory_mib", (json_int_t)a->memory, "cpus",
			 (json_int_t)a->cpus, "kernel", a->kernel, "disks", disks, "autostart", a->autostart);
	if (body && (a->set & O_NICS) && json_object_set_new(body, "nics", json_integer(a->nics)))
		json_decref(body), body = NULL;
	if (body && a->initrd && json_object_set_new(body, "initrd", json_string(a->initrd)))
		json_decref(body), body = NULL;
	if (body && a->cmdline && json_object_set_new(body, "cmdline", json_string(a->cmdline)))
		json_decref(body), body = NULL;
	if (!body)
		die_usage("the name, paths and command line must be UTF-8 text");
	r = call_print(x, "POST", "/api/vms", body);
	json_decref(body);
	return r;
}

static int cmd_vms_console(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char *path = path_with("/api/vms/%s/console", arg[0]);
	int r;

	(void)c, (void)n;
	fflush(stdout);
	r = download(x, path, STDOUT_FILENO, "standard output");
	free(path);
	return r == 3 ? fail("the console answer is JSON, not text; is the server's API newer?") : r;
}

/* A folder's entries as a table; a file as one line. */
static int cmd_ds_ls(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char *path = datastore_url(n ? arg[0] : "");
	struct membuf raw;
	json_t *out, *entries;
	int r;

	(void)c;
	r = call(x, "GET", path, NULL, &raw, &out);
	free(path);
	if (r == 0 && x->a->json)
		fwrite(raw.p, 1, raw.n, stdout);
	else if (r == 0 && (entries = json_object_get(out, "entries")) && json_array_size(entries))
		table_print(stdout, entries);
	else if (r == 0 && !entries)
		r = fail("%s is a file, not a folder; `hostctl datastore get %s FILE` fetches it", n ? arg[0] : "/", n ? arg[0] : "/");
	free(raw.p);
	json_decref(out);
	return r;
}

static int cmd_ds_get(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char *path = datastore_url(arg[0]);
	int r;

	(void)c;
	if (n == 2 && strcmp(arg[1], "-") != 0) {
		r = get_to_file(x, path, arg[1], arg[0]);
	} else {
		fflush(stdout);
		r = download(x, path, STDOUT_FILENO, "standard output");
		if (r == 3)
			r = fail("%s is a folder; `hostctl datastore ls %s` lists it", arg[0], arg[0]);
	}
	free(path);
	return r;
}

static int cmd_ds_put(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char *path = datastore_url(arg[1]);
	int r;

	(void)c, (void)n;
	r = call_upload(x, "PUT", path, arg[0]);
	free(path);
	return r;
}

/* An empty-bodied call whose answer is not printed: 0 on success, and on 409 (there already)
 * when tolerated; else the exit status after printing what went wrong. */
static int call_quiet(struct ctx *x, const char *method, const char *path, bool final)
{
	struct membuf raw = {0};
	struct http_sink sink = { .data = mem_data, .arg = &raw };
	struct http_body b = { .type = "application/octet-stream", .data = "", .len = 0, .fd = -1 };
	struct http_head h;
	char err[1024];
	int r = 0;

	if (http_call(&x->t, method, path, &b, &sink, &h, err, sizeof(err)) != 0)
		r = fail("%s", err);
	else if (h.status >= 300 && (final || h.status != 409))
		r = answer_error(x, &h, &raw);
	free(raw.p);
	return r;
}

/* A folder (and its parents, one PUT each from the top, as hostd makes one level at a time). */
static int cmd_ds_mkdir(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	size_t len = strlen(arg[0]);
	int r = 0;

	(void)c, (void)n;
	while (len > 1 && arg[0][len - 1] == '/')
		len--;
	for (size_t i = 1; r == 0 && i <= len; i++) {
		char *part = NULL, *path;
		if (i < len && arg[0][i] != '/')
			continue;
		if (asprintf(&part, "%.*s/", (int)i, arg[0]) < 0 || !(path = datastore_url(part))) {
			free(part);
			return fail("out of memory");
		}
		r = call_quiet(x, "PUT", path, i == len);
		free(path);
		free(part);
	}
	return r;
}

static int cmd_ds_rm(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char *path = datastore_url(arg[0]);
	int r;

	(void)c, (void)n;
	r = call_print(x, "DELETE", path, NULL);
	free(path);
	return r;
}

static int cmd_logs(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	char path[64];
	struct membuf raw;
	json_t *out, *line;
	size_t i;
	int r;

	(void)c, (void)arg, (void)n;
	snprintf(path, sizeof(path), "/api/logs?lines=%ld", (x->a->set & O_LINES) ? x->a->lines : 200L);
	r = call(x, "GET", path, NULL, &raw, &out);
	if (r == 0 && x->a->json)
		fwrite(raw.p, 1, raw.n, stdout);
	else if (r == 0)
		json_array_foreach(json_object_get(out, "lines"), i, line) {
			char *s = table_cell(NULL, line);

			printf("%s\n", s ? s : "?");
			free(s);
		}
	free(raw.p);
	json_decref(out);
	return r;
}

/* A list as a table, or a line saying it is empty. */
static int cmd_list(struct ctx *x, const struct cmd *c, char **arg, int n)
{
	struct membuf raw;
	json_t *out;
	int r;

	(void)arg, (void)n;
	r = call(x, "GET", c->path, NULL, &raw, &out);
	if (r == 0 && x->a->json)
		fwrite(raw.p, 1, raw.n, stdout);
	else if (r == 0 && json_is_array(out) && json_array_size(out) == 0)
		printf("(none)\n");
	else if (r == 0 && out)
		table_print(stdout, out);
	free(raw.p);
	json_decref(out);
	return r;
}

/* ---- the table of commands ---- */

#define VM_OPTS (O_MEMORY | O_CPUS | O_KERNEL | O_INITRD | O_CMDLINE | O_DISK | O_NICS | O_AUTOSTART)
static const struct cmd cmds[] = {
	{ "health", "", 0, 0, 0, cmd_simple, "GET", "/api/health", "the host's health, version and boot bank (no login)" },
	{ "host show", "", 0, 0, 0, cmd_simple, "GET", "/api/host", "the host: name, version, bank, uptime, CPUs, memory, NICs, disks" },
	{ "host reboot", "", 0, 0, 0, cmd_simple, "POST", "/api/host/reboot", "reboot the host" },
	{ "host shutdown", "", 0, 0, 0, cmd_simple, "POST", "/api/host/shutdown", "shut the host down" },
	{ "host restore-defaults", "", 0, 0, 0, cmd_simple, "POST", "/api/host/restore-defaults",
	  "reset the configuration and users to the defaults and reboot" },
	{ "host cert set", "CERT KEY", 2, 2, 0, cmd_cert_set, NULL, NULL,
	  "give hostd a new TLS certificate (chain) and its private key, PEM files" },
	{ "host cert fetch", "FILE", 1, 1, 0, cmd_cert_fetch, NULL, NULL,
	  "save the host's certificate, unchecked, to FILE and print its SHA-256 (for --ca FILE)" },
	{ "config show", "", 0, 0, 0, cmd_simple, "GET", "/api/config", "the host's configuration" },
	{ "config set", "KEY=VALUE...", 1, 64, 0, cmd_config_set, NULL, NULL,
	  "change settings, all or nothing; list keys (dns-servers, dns-search, syslog-servers, ntp-servers,\n"
	  "      localadmin; dns, syslog, ntp) take words separated by blanks or commas" },
	{ "users list", "", 0, 0, 0, cmd_list, "GET", "/api/users", "the users, their roles, whether locked" },
	{ "users add", "NAME --role ROLE [--new-password-file FILE]", 1, 1, O_ROLE | O_NEWPW, cmd_users_add, NULL, NULL,
	  "add a user (role administrator, operator or read-only); the password is asked twice,\n"
	  "      or read from --new-password-file FILE ('-': standard input)" },
	{ "users delete", "NAME", 1, 1, 0, cmd_simple, "DELETE", "/api/users/%s", "remove a user" },
	{ "users passwd", "NAME [--new-password-file FILE]", 1, 1, O_NEWPW, cmd_users_passwd, NULL, NULL,
	  "set a user's password (asked twice, or --new-password-file FILE)" },
	{ "users unlock", "NAME", 1, 1, 0, cmd_simple, "POST", "/api/users/%s/unlock", "unlock a user locked out by failed logins" },
	{ "banks status", "", 0, 0, 0, cmd_simple, "GET", "/api/banks", "the boot banks (what `bankctl status` says)" },
	{ "banks stage", "BUNDLE", 1, 1, 0, cmd_banks_stage, NULL, NULL,
	  "send an update bundle (streamed) to be written to the inactive bank; the next boot tries it" },
	{ "banks rollback", "", 0, 0, 0, cmd_simple, "POST", "/api/banks/rollback", "boot the other bank next" },
	{ "vms list", "", 0, 0, 0, cmd_list, "GET", "/api/vms", "the virtual machines and their states" },
	{ "vms show", "NAME", 1, 1, 0, cmd_simple, "GET", "/api/vms/%s", "a VM's definition and state" },
	{ "vms create", "NAME --memory MIB --cpus N --kernel PATH [--initrd PATH] [--cmdline TEXT] [--disk PATH]... [--nics N] [--autostart]",
	  1, 1, VM_OPTS, cmd_vms_create, NULL, NULL,
	  "define a VM; PATHs are datastore paths (hostctl datastore put); without --nics, hostd's default" },
	{ "vms delete", "NAME", 1, 1, 0, cmd_simple, "DELETE", "/api/vms/%s", "remove a stopped VM's definition" },
	{ "vms power-on", "NAME", 1, 1, 0, cmd_simple, "POST", "/api/vms/%s/power-on", "start a VM" },
	{ "vms power-off", "NAME", 1, 1, 0, cmd_simple, "POST", "/api/vms/%s/power-off", "stop a VM" },
	{ "vms reset", "NAME", 1, 1, 0, cmd_simple, "POST", "/api/vms/%s/reset", "reset a running VM" },
	{ "vms console", "NAME", 1, 1, 0, cmd_vms_console, NULL, NULL, "a VM's serial console output so far" },
	{ "datastore ls", "[PATH]", 0, 1, 0, cmd_ds_ls, NULL, NULL, "list a folder of the datastore (default: its top)" },
	{ "datastore get", "PATH [FILE]", 1, 2, 0, cmd_ds_get, NULL, NULL,
	  "fetch a file of the datastore to FILE (whole or not at all) or standard output" },
	{ "datastore put", "FILE PATH", 2, 2, 0, cmd_ds_put, NULL, NULL, "send FILE (streamed) to PATH on the datastore" },
	{ "datastore mkdir", "PATH", 1, 1, 0, cmd_ds_mkdir, NULL, NULL, "make a folder of the datastore (and its parents)" },
	{ "datastore rm", "PATH", 1, 1, 0, cmd_ds_rm, NULL, NULL, "remove a file (or an empty folder) of the datastore" },
	{ "logs", "[-n N]", 0, 0, O_LINES, cmd_logs, NULL, NULL, "the host's last N log lines (default 200)" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const char usage_head[] =
	"Usage: hostctl [OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"The command-line client of hostd, the host's management API (docs/hostctl.md). Without --host it\n"
	"talks to hostd over the local UNIX socket /run/hostd.sock (on the host: root needs no password);\n"
	"with --host over HTTPS, as --user with a password.\n"
	"\n"
	"Options:\n"
	"  --host HOST[:PORT]    the host (port 443 by default) [$HOSTCTL_HOST]\n"
	"  --socket PATH         the UNIX socket (default /run/hostd.sock) [$HOSTCTL_SOCKET]\n"
	"  --user NAME           log in as NAME (default root over HTTPS) [$HOSTCTL_USER]\n"
	"  --password-file FILE  the password is FILE's first line ('-': standard input); else\n"
	"                        $HOSTCTL_PASSWORD, else it is asked on the terminal. Never on the command line.\n"
	"  --ca FILE             trust the certificate in FILE (`hostctl --host HOST host cert fetch FILE`) [$HOSTCTL_CA]\n"
	"  --fingerprint SHA256  or accept only the certificate with this SHA-256 [$HOSTCTL_FINGERPRINT]\n"
	"  --server-name NAME    the name the certificate must carry (default: HOST), e.g. with an address\n"
	"  --insecure            check no certificate (like curl -k): anyone between can read and change\n"
	"  --json                print the server's JSON instead of tables\n"
	"  -h, --help            this help; `hostctl COMMAND --help` a command's\n"
	"\n"
	"Exit status: 0 done, 1 the server refused or could not be reached, 2 a usage error.\n"
	"\n"
	"Commands:\n";

static void print_cmd(FILE *f, const struct cmd *c)
{
	fprintf(f, "  %s%s%s\n      %s\n", c->words, c->operands[0] ? " " : "", c->operands, c->help);
}

/* Help for every command whose words start with prefix ("" all). */
static void help(FILE *f, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (!pl)
		fputs(usage_head, f);
	else
		fputs("Usage: hostctl [OPTIONS] COMMAND [ARGS]  (hostctl --help: the options)\n\n", f);
	for (size_t i = 0; i < NCMDS; i++)
		if (strncmp(cmds[i].words, prefix, pl) == 0 && (cmds[i].words[pl] == '\0' || cmds[i].words[pl] == ' ' || !pl))
			print_cmd(f, &cmds[i]);
}

/* The command whose words pos starts with (the longest); *used: its words. */
static const struct cmd *find_cmd(char **pos, int npos, int *used)
{
	const struct cmd *best = NULL;
	int bestn = 0;

	for (size_t i = 0; i < NCMDS; i++) {
		char words[64], *w, *save = NULL;
		int k = 0;

		snprintf(words, sizeof(words), "%s", cmds[i].words);
		for (w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save), k++)
			if (k >= npos || strcmp(pos[k], w) != 0)
				break;
		if (!w && k > bestn)
			best = &cmds[i], bestn = k;
	}
	*used = bestn;
	return best;
}

/* Whether a command group is named ("vms"), for its help. */
static bool is_group(const char *word)
{
	size_t l = strlen(word);

	for (size_t i = 0; i < NCMDS; i++)
		if (strncmp(cmds[i].words, word, l) == 0 && cmds[i].words[l] == ' ')
			return true;
	return false;
}

/* ---- where and who ---- */

static const char *env_or(const char *given, const char *name)
{
	return given ? given : getenv(name);
}

static void target(struct ctx *x)
{
	struct args *a = x->a;
	const char *host = env_or(a->host, "HOSTCTL_HOST");

	a->ca = env_or(a->ca, "HOSTCTL_CA");
	a->fingerprint = env_or(a->fingerprint, "HOSTCTL_FINGERPRINT");
	x->user = env_or(a->user, "HOSTCTL_USER");
	if (a->socket || !host) {
		x->t.socket = env_or(a->socket, "HOSTCTL_SOCKET");
		if (!x->t.socket)
			x->t.socket = "/run/hostd.sock";
		if (a->host)
			die_usage("give --host or --socket, not both");
		return;
	}
	if (host_port(host, x->t.host, sizeof(x->t.host), x->t.port, sizeof(x->t.port)) != 0)
		die_usage("'%s' is not HOST[:PORT]; e.g. --host esx-01 or --host 192.0.2.10:8443", host);
	x->t.server_name = a->server_name;
	x->t.ca = a->ca;
	x->t.fingerprint = a->fingerprint;
	x->t.insecure = a->insecure;
	if (a->insecure)
		fprintf(stderr, "hostctl: warning: --insecure: the certificate of %s is not checked; anyone on the way can read "
			"and change what is sent, the password too\n", x->t.host);
	if (!x->user)
		x->user = "root";
}

/* The command's operands and options are what it takes. */
static void check_use(const struct args *a, const struct cmd *c, int n)
{
	unsigned extra = a->set & ~c->opts;

	if (extra)
		die_usage("%s%s does not take --%s; see hostctl %s --help", "", c->words, args_option_name(extra & -extra), c->words);
	if (n < c->min || n > c->max)
		die_usage("usage: hostctl %s %s; see hostctl %s --help", c->words, c->operands, c->words);
}

int main(int argc, char **argv)
{
	struct args a;
	struct ctx x = { .a = &a };
	const struct cmd *c;
	char err[300];
	int used, r;

	signal(SIGPIPE, SIG_IGN);
	if (args_parse(argc, argv, &a, err, sizeof(err)) != 0)
		die_usage("%s; see hostctl --help", err);
	c = find_cmd(a.pos, a.npos, &used);
	if (a.help || a.npos == 0) {
		if (a.npos == 0 && !a.help)
			die_usage("no command given; see hostctl --help");
		help(stdout, c ? c->words : a.npos && is_group(a.pos[0]) ? a.pos[0] : "");
		return 0;
	}
	if (!c) {
		if (is_group(a.pos[0]))
			die_usage("'%s%s%s' is not a command; hostctl %s --help lists them", a.pos[0], a.npos > 1 ? " " : "",
				  a.npos > 1 ? a.pos[1] : "", a.pos[0]);
		die_usage("'%s' is not a command; hostctl --help lists them", a.pos[0]);
	}
	check_use(&a, c, a.npos - used);
	target(&x);
	if (strcmp(c->words, "health") != 0 && strcmp(c->words, "host cert fetch") != 0)
		need_auth(&x);
	r = c->run(&x, c, a.pos + used, a.npos - used);
	free(x.auth);
	return r;
}
