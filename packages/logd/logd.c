/* logd: the host's syslog daemon (docs/logd.md). Receives from /dev/log and the kernel's
 * /dev/kmsg, keeps the host's log in RAM (/var/log/messages, rotated at a bound) and forwards
 * every line to the configured servers in RFC 5424 over UDP, TCP or TLS, holding what is logged
 * while a server is unreachable (bounded) and sending it once the server is back. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "conf.h"
#include "fwd.h"
#include "msg.h"
#include "util.h"

#define LOGD_VERSION "0.1.0"
#define STOP_FLUSH_S 3.0

static const char usage[] =
	"Usage: logd [OPTIONS]\n"
	"The host's syslog daemon: /dev/log and the kernel log into /var/log/messages (in RAM, rotated)\n"
	"and to the syslog servers of the configuration, RFC 5424 over udp://, tcp:// or tls://.\n"
	"SIGHUP reads the configuration again; SIGTERM sends what is queued (3 s at most) and stops.\n"
	"\n"
	"  --config FILE   the configuration (default /etc/logd.conf; absent: no servers)\n"
	"  --socket PATH   the local socket (default /dev/log)\n"
	"  --kmsg PATH     the kernel log (default /dev/kmsg; \"none\" to read none)\n"
	"  --dir DIR       where messages and messages.1 are kept (default /var/log)\n"
	"  --check         check the configuration, say what is wrong, and exit (0: good, 1: not)\n"
	"  -h, --help      show this help\n"
	"  --version       show logd's version\n";

struct logd {
	const char *conf_path, *sock_path, *kmsg_path, *dir;
	bool check;
	struct logd_conf conf;
	SSL_CTX *ctx;
	struct fwd fwd[LOGD_SERVERS_MAX];
	size_t nfwd;
	int sock, kmsg, sigfd, logfd;
	size_t log_bytes;
	struct timespec boot; /* the wall-clock time of boot, to date kernel records */
};

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void open_log(struct logd *L)
{
	char *path = xasprintf("%s/messages", L->dir);
	struct stat st;

	L->logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	L->log_bytes = L->logfd >= 0 && fstat(L->logfd, &st) == 0 ? (size_t)st.st_size : 0;
	if (L->logfd < 0)
		fprintf(stderr, "logd: cannot open %s: %s; the host's log is not kept\n", path, strerror(errno));
	free(path);
}

/* messages becomes messages.1 (the one before goes) once it would pass log-size. */
static void rotate(struct logd *L)
{
	char *cur = xasprintf("%s/messages", L->dir), *old = xasprintf("%s/messages.1", L->dir);

	if (L->logfd >= 0)
		close(L->logfd);
	rename(cur, old);
	free(cur);
	free(old);
	open_log(L);
}

static void log_msg(struct logd *L, const struct logmsg *m)
{
	char line[LOGMSG_TEXT + 512], host[256] = "";
	size_t n = logmsg_format_local(m, line, sizeof(line));

	if (L->log_bytes + n > L->conf.log_size)
		rotate(L);
	if (L->logfd >= 0 && write(L->logfd, line, n) == (ssize_t)n)
		L->log_bytes += n;
	gethostname(host, sizeof(host) - 1);
	n = logmsg_format_5424(m, host, line, sizeof(line));
	for (size_t i = 0; i < L->nfwd; i++)
		fwd_push(&L->fwd[i], line, n);
}

/* logd's own lines: into the log like any other, and on stderr (the console before the log is up). */
static void __attribute__((format(printf, 3, 4))) self_log(struct logd *L, int severity, const char *fmt, ...)
{
	struct logmsg m = {.pri = 5 * 8 + severity, .app = "logd"};
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &m.ts);
	snprintf(m.procid, sizeof(m.procid), "%d", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof(m.text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", m.text); /* init puts "logd: " before it */
	log_msg(L, &m);
}

static SSL_CTX *tls_context(struct logd *L, const char *ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) && SSL_CTX_load_verify_locations(ctx, ca, NULL)) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
		return ctx;
	}
	self_log(L, 3, "cannot load the CA certificates %s (%s); tls:// servers stay unused until it is fixed",
		 ca, ERR_reason_error_string(ERR_get_error()));
	SSL_CTX_free(ctx);
	return NULL;
}

/* Servers of the new configuration: one that stays keeps its connection and queue (an SSL in use
 * holds a reference to the context it was made with; later connections use the new one). */
static void apply_servers(struct logd *L, const struct logd_conf *c, SSL_CTX *ctx)
{
	struct fwd next[LOGD_SERVERS_MAX];
	bool kept[LOGD_SERVERS_MAX] = {0};

	for (size_t i = 0; i < c->nservers; i++) {
		size_t k = 0;
		while (k < L->nfwd && (kept[k] || strcmp(L->fwd[k].url.text, c->server[i].text) != 0))
			k++;
		if (k < L->nfwd) {
			next[i] = L->fwd[k];
			kept[k] = true;
		} else {
			fwd_init(&next[i], &c->server[i], ctx, c->queue_size);
		}
		next[i].ctx = ctx;
		next[i].limit = c->queue_size;
	}
	for (size_t k = 0; k < L->nfwd; k++)
		if (!kept[k])
			fwd_free(&L->fwd[k]);
	memcpy(L->fwd, next, c->nservers * sizeof(*next));
	L->nfwd = c->nservers;
}

/* Read the configuration; on an error the running one stays, and the log says why. */
static int load_config(struct logd *L)
{
	struct logd_conf c;
	struct diag d = {0};
	char *text = NULL;
	size_t len = 0;
	int r = util_read_file(L->conf_path, &text, &len);
	SSL_CTX *ctx = NULL, *old = L->ctx;

	if (r == -ENOENT)
		r = logd_conf_parse(L->conf_path, "", 0, &c, &d);
	else if (r < 0)
		r = diag_set_errno(&d, -r, L->conf_path, 0, "cannot read the configuration");
	else
		r = logd_conf_parse(L->conf_path, text, len, &c, &d);
	free(text);
	if (r < 0) {
		self_log(L, 3, "%s; the configuration in force stays", d.msg);
		return r;
	}
	if (c.ca[0])
		ctx = tls_context(L, c.ca);
	apply_servers(L, &c, ctx);
	L->ctx = ctx;
	SSL_CTX_free(old);
	L->conf = c;
	self_log(L, 6, "forwarding to %zu syslog server%s", c.nservers, c.nservers == 1 ? "" : "s");
	return 0;
}

static int open_socket(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0666) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int signals_fd(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	sigprocmask(SIG_BLOCK, &s, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void read_socket(struct logd *L)
{
	char buf[LOGMSG_TEXT + 256];
	struct logmsg m;
	struct timespec now;
	ssize_t n;

	while ((n = recv(L->sock, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		logmsg_parse_dgram(buf, (size_t)n, &now, &m);
		log_msg(L, &m);
	}
}

static void read_kmsg(struct logd *L)
{
	char buf[LOGMSG_TEXT + 256];
	struct logmsg m;
	ssize_t n;

	/* One record per read(); EPIPE: records were overwritten before they were read, go on. */
	while ((n = read(L->kmsg, buf, sizeof(buf) - 1)) > 0 || (n < 0 && errno == EPIPE))
		if (n > 0 && logmsg_parse_kmsg(buf, (size_t)n, &L->boot, &m) == 0)
			log_msg(L, &m);
}

/* 1: go on; 0: stop. */
static int read_signals(struct logd *L)
{
	struct signalfd_siginfo si;
	int go = 1;

	while (read(L->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			load_config(L);
		else
			go = 0;
	}
	return go;
}

/* Notes of the servers (reachable again, unreachable) go into the log, and so to the servers. */
static void run_servers(struct logd *L, const struct pollfd *pf, double now)
{
	for (size_t i = 0; i < L->nfwd; i++) {
		fwd_run(&L->fwd[i], pf[i].fd >= 0 ? pf[i].revents : 0, now);
		if (L->fwd[i].note[0]) {
			char note[sizeof(L->fwd[i].note)];
			memcpy(note, L->fwd[i].note, sizeof(note));
			L->fwd[i].note[0] = '\0';
			self_log(L, strstr(note, "unreachable") ? 4 : 6, "%s", note);
		}
	}
}

/* One round: poll everything, handle what is ready. 0 when a stop was asked. */
static int round_once(struct logd *L, bool inputs)
{
	struct pollfd pf[LOGD_SERVERS_MAX + 3];
	int wait_ms = inputs ? 60000 : 100, go = 1;
	size_t n = L->nfwd;
	double now = mono();

	for (size_t i = 0; i < n; i++) {
		pf[i] = (struct pollfd){.fd = -1};
		fwd_poll_setup(&L->fwd[i], now, &pf[i].fd, &pf[i].events, &wait_ms);
	}
	pf[n] = (struct pollfd){.fd = inputs ? L->sock : -1, .events = POLLIN};
	pf[n + 1] = (struct pollfd){.fd = inputs ? L->kmsg : -1, .events = POLLIN};
	pf[n + 2] = (struct pollfd){.fd = L->sigfd, .events = POLLIN};
	if (poll(pf, n + 3, wait_ms) < 0 && errno != EINTR)
		return 0;
	if (pf[n].revents)
		read_socket(L);
	if (pf[n + 1].revents)
		read_kmsg(L);
	if (pf[n + 2].revents)
		go = read_signals(L);
	run_servers(L, pf, mono());
	return go;
}

static bool all_sent(const struct logd *L)
{
	for (size_t i = 0; i < L->nfwd; i++)
		if (!fwd_idle(&L->fwd[i]) && L->fwd[i].state == FWD_UP)
			return false;
	return true;
}

static int parse_args(struct logd *L, int argc, char **argv)
{
	static const struct option opts[] = {{"config", 1, NULL, 'c'}, {"socket", 1, NULL, 's'}, {"kmsg", 1, NULL, 'k'},
					     {"dir", 1, NULL, 'd'},    {"help", 0, NULL, 'h'},   {"version", 0, NULL, 'V'},
					     {"check", 0, NULL, 'C'},  {NULL, 0, NULL, 0}};
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'c' || o == 's' || o == 'k' || o == 'd')
			*(o == 'c' ? &L->conf_path : o == 's' ? &L->sock_path : o == 'k' ? &L->kmsg_path : &L->dir) = optarg;
		else if (o == 'C')
			L->check = true;
		else if (o == 'h' || o == 'V')
			return printf("%s", o == 'h' ? usage : "logd " LOGD_VERSION "\n"), 0;
		else
			return fprintf(stderr, "%s", usage), 2;
	}
	if (optind < argc)
		return fprintf(stderr, "logd: unexpected argument '%s'\n%s", argv[optind], usage), 2;
	return -1;
}

/* --check: the configuration as logd would read it. */
static int check_config(const struct logd *L)
{
	struct logd_conf c;
	struct diag d = {0};
	char *text = NULL;
	size_t len = 0;
	int r = util_read_file(L->conf_path, &text, &len);

	if (r < 0)
		diag_set_errno(&d, -r, L->conf_path, 0, "cannot read the configuration");
	else
		r = logd_conf_parse(L->conf_path, text, len, &c, &d);
	free(text);
	if (r < 0)
		fprintf(stderr, "logd: %s\n", d.msg);
	else
		printf("logd: %s: good (%zu server%s)\n", L->conf_path, c.nservers, c.nservers == 1 ? "" : "s");
	return r < 0 ? 1 : 0;
}

static int setup(struct logd *L)
{
	struct timespec real, up;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &up);
	L->boot.tv_sec = real.tv_sec - up.tv_sec - (real.tv_nsec < up.tv_nsec);
	L->boot.tv_nsec = real.tv_nsec - up.tv_nsec + (real.tv_nsec < up.tv_nsec ? 1000000000 : 0);
	L->sigfd = signals_fd();
	util_mkdir_p(L->dir, 0755);
	open_log(L);
	L->kmsg = strcmp(L->kmsg_path, "none") == 0 ? -1 : open(L->kmsg_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (L->kmsg < 0 && strcmp(L->kmsg_path, "none") != 0)
		fprintf(stderr, "logd: cannot read the kernel log %s: %s; kernel messages are not kept\n", L->kmsg_path,
			strerror(errno));
	L->sock = open_socket(L->sock_path);
	if (L->sock < 0) {
		fprintf(stderr, "logd: cannot listen on %s: %s; is another syslog daemon running?\n", L->sock_path,
			strerror(errno));
		return 1;
	}
	load_config(L);
	return 0;
}

int main(int argc, char **argv)
{
	struct logd L = {.conf_path = "/etc/logd.conf", .sock_path = "/dev/log", .kmsg_path = "/dev/kmsg",
			 .dir = "/var/log", .conf = {.log_size = 1 << 20, .queue_size = 1 << 20}, .logfd = -1};
	int r = parse_args(&L, argc, argv);

	if (r >= 0)
		return r;
	if (L.check)
		return check_config(&L);
	if (setup(&L) != 0)
		return 1;
	while (round_once(&L, true))
		;
	self_log(&L, 6, "stopping");
	for (double end = mono() + STOP_FLUSH_S; !all_sent(&L) && mono() < end;)
		round_once(&L, false);
	for (size_t i = 0; i < L.nfwd; i++)
		fwd_free(&L.fwd[i]);
	SSL_CTX_free(L.ctx);
	unlink(L.sock_path);
	return 0;
}
