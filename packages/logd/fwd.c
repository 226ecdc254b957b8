#define _GNU_SOURCE
#include "fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#define BACKOFF_MAX 30

struct frame {
	struct frame *next;
	size_t len;
	char data[];
};

void fwd_init(struct fwd *f, const struct logd_url *url, SSL_CTX *ctx, size_t limit)
{
	*f = (struct fwd){.url = *url, .ctx = ctx, .fd = -1, .limit = limit, .backoff = 1};
}

static void disconnect(struct fwd *f)
{
	if (f->ssl)
		SSL_free(f->ssl);
	if (f->fd >= 0)
		close(f->fd);
	f->ssl = NULL;
	f->fd = -1;
	f->off = 0; /* a frame cut off on the old connection is sent whole on the next */
}

static void drop_head(struct fwd *f)
{
	struct frame *h = f->head;

	f->head = h->next;
	if (!f->head)
		f->tail = NULL;
	f->bytes -= h->len;
	free(h);
}

void fwd_free(struct fwd *f)
{
	disconnect(f);
	while (f->head)
		drop_head(f);
}

bool fwd_idle(const struct fwd *f)
{
	return !f->head;
}

void fwd_push(struct fwd *f, const char *msg, size_t len)
{
	char prefix[24] = "";
	int plen = f->url.proto == LOGD_UDP ? 0 : snprintf(prefix, sizeof(prefix), "%zu ", len);
	struct frame *fr = malloc(sizeof(*fr) + (size_t)plen + len);

	if (!fr)
		return;
	fr->next = NULL;
	fr->len = (size_t)plen + len;
	memcpy(fr->data, prefix, (size_t)plen);
	memcpy(fr->data + plen, msg, len);
	if (f->tail)
		f->tail->next = fr;
	else
		f->head = fr;
	f->tail = fr;
	f->bytes += fr->len;
	/* Beyond the limit the oldest go, except one being sent. */
	while (f->bytes > f->limit && f->head && f->head != f->tail && !(f->off && f->state == FWD_UP)) {
		drop_head(f);
		f->dropped++;
	}
}

/* Down: say so once per outage, and try again after the back-off. */
static void fail(struct fwd *f, double now, const char *what)
{
	disconnect(f);
	if (f->was_up || !f->note[0])
		snprintf(f->note, sizeof(f->note), "syslog server %s unreachable: %s; keeping up to %zu bytes "
			 "of log until it is back", f->url.text, what, f->limit);
	f->was_up = false;
	f->state = FWD_DOWN;
	f->retry_at = now + f->backoff;
	f->backoff = f->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : f->backoff * 2;
}

static void up(struct fwd *f)
{
	f->state = FWD_UP;
	f->backoff = 1;
	f->was_up = true;
	snprintf(f->note, sizeof(f->note), "syslog server %s reachable (%s)%s", f->url.text,
		 f->url.proto == LOGD_TLS ? "TLS, certificate verified" : f->url.proto == LOGD_TCP ? "TCP" : "UDP",
		 f->dropped ? "; some lines were dropped meanwhile (queue full)" : "");
	f->dropped = 0;
}

static int open_socket(struct fwd *f, const char **why)
{
	struct addrinfo hints = {.ai_socktype = f->url.proto == LOGD_UDP ? SOCK_DGRAM : SOCK_STREAM}, *ai = NULL;
	int e = getaddrinfo(f->url.host, f->url.port, &hints, &ai), r;

	if (e)
		return *why = gai_strerror(e), -1;
	f->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	r = f->fd < 0 ? -1 : connect(f->fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (r < 0 && errno != EINPROGRESS)
		return *why = strerror(errno), -1;
	return r < 0 ? 1 : 0; /* 1: in progress */
}

/* Name the server for SNI and check its certificate's name or address. */
static int tls_start(struct fwd *f)
{
	unsigned char addr[16];
	int is_ip = inet_pton(AF_INET, f->url.host, addr) == 1 || inet_pton(AF_INET6, f->url.host, addr) == 1;

	f->ssl = SSL_new(f->ctx);
	if (!f->ssl || !SSL_set_fd(f->ssl, f->fd))
		return -1;
	if (is_ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(f->ssl), f->url.host) ? 0 : -1;
	return SSL_set_tlsext_host_name(f->ssl, f->url.host) && SSL_set1_host(f->ssl, f->url.host) ? 0 : -1;
}

static void try_connect(struct fwd *f, double now)
{
	const char *why = "cannot connect";
	int r;

	if (f->url.proto == LOGD_TLS && !f->ctx) {
		fail(f, now, "no CA configured to check its certificate (set ca in the configuration)");
		return;
	}
	r = open_socket(f, &why);
	if (r < 0)
		fail(f, now, why);
	else if (r == 1)
		f->state = FWD_CONNECTING;
	else if (f->url.proto == LOGD_UDP)
		up(f);
	else
		f->state = FWD_CONNECTING; /* connected at once (loopback): finished on the next round */
}

static const char *tls_why(struct fwd *f)
{
	long v = SSL_get_verify_result(f->ssl);
	unsigned long e = ERR_peek_last_error();

	if (v != X509_V_OK)
		return X509_verify_cert_error_string(v);
	return e ? ERR_reason_error_string(e) : "the TLS handshake failed";
}

static void handshake(struct fwd *f, double now)
{
	int r = SSL_connect(f->ssl), e = r == 1 ? 0 : SSL_get_error(f->ssl, r);

	if (r == 1)
		up(f);
	else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		fail(f, now, tls_why(f));
	ERR_clear_error();
}

static void connected(struct fwd *f, double now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		fail(f, now, strerror(err ? err : errno));
		return;
	}
	if (f->url.proto != LOGD_TLS) {
		up(f);
		return;
	}
	if (tls_start(f) < 0) {
		fail(f, now, "cannot set up TLS");
		return;
	}
	f->state = FWD_HANDSHAKE;
	handshake(f, now);
}

/* Data or an end from the server: a syslog server sends nothing, so this is how its going away
 * shows before anything more is written into a dead connection. */
static bool peer_closed(struct fwd *f)
{
	char buf[512];

	if (f->ssl) {
		int r = SSL_read(f->ssl, buf, sizeof(buf)), e = r > 0 ? 0 : SSL_get_error(f->ssl, r);
		ERR_clear_error();
		return r <= 0 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
	}
	ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Send queued frames until the socket would block. */
static void send_queue(struct fwd *f, double now)
{
	while (f->head) {
		const char *p = f->head->data + f->off;
		size_t n = f->head->len - f->off;
		ssize_t w;
		if (f->ssl) {
			int r = SSL_write(f->ssl, p, (int)n), e = r > 0 ? 0 : SSL_get_error(f->ssl, r);
			ERR_clear_error();
			if (r <= 0 && (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ))
				return;
			w = r > 0 ? r : -1;
		} else {
			w = send(f->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (w < 0 && f->url.proto == LOGD_UDP) {
				drop_head(f); /* UDP promises nothing: a refused datagram is dropped */
				continue;
			}
		}
		if (w < 0) {
			fail(f, now, f->ssl ? "the TLS connection broke" : strerror(errno));
			return;
		}
		f->off += (size_t)w;
		if (f->off == f->head->len) {
			f->off = 0;
			drop_head(f);
		}
	}
}

void fwd_poll_setup(struct fwd *f, double now, int *fd, short *events, int *wait_ms)
{
	*fd = -1;
	*events = 0;
	if (f->state == FWD_DOWN) {
		int ms = f->retry_at <= now ? 0 : (int)((f->retry_at - now) * 1000) + 1;
		if (ms < *wait_ms)
			*wait_ms = ms;
		return;
	}
	*fd = f->fd;
	if (f->state == FWD_CONNECTING)
		*events = POLLOUT;
	else if (f->state == FWD_HANDSHAKE)
		*events = POLLIN | POLLOUT;
	else
		*events = (short)((f->url.proto == LOGD_UDP ? 0 : POLLIN) | (f->head ? POLLOUT : 0));
}

void fwd_run(struct fwd *f, short revents, double now)
{
	if (f->state == FWD_DOWN) {
		if (now >= f->retry_at)
			try_connect(f, now);
		return;
	}
	if (f->state == FWD_CONNECTING && revents)
		connected(f, now);
	else if (f->state == FWD_HANDSHAKE && revents)
		handshake(f, now);
	/* Looked at before every write, not only when poll() says so: a line written into a connection
	 * whose server has gone would be lost. */
	else if (f->state == FWD_UP && f->url.proto != LOGD_UDP && peer_closed(f))
		fail(f, now, "the server closed the connection");
	if (f->state == FWD_UP && f->head)
		send_queue(f, now);
}
