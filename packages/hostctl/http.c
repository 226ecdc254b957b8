/* HTTP/1.1 over TLS or a UNIX socket (http.h). */
#define _GNU_SOURCE
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define IO_CHUNK (64 * 1024)
#define HEAD_MAX (64 * 1024)
#define CONNECT_SECONDS 15
#define IO_SECONDS 600 /* staging a bundle answers when the bank is written */

struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

static void conn_close(struct conn *c)
{
	if (c->ssl) {
		if (SSL_is_init_finished(c->ssl))
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->ssl = NULL;
	c->ctx = NULL;
}

static void timeouts(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* Linux: connect() too */
}

static int unix_connect(const char *path, char *err, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, n, "the socket path %s is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || (timeouts(fd, IO_SECONDS), connect(fd, (struct sockaddr *)&sa, sizeof(sa))) != 0) {
		int e = errno;

		if (e == ENOENT || e == ECONNREFUSED)
			snprintf(err, n, "cannot reach hostd on %s: %s; is hostd running (on the host: check `ps`, the log)? "
				 "From elsewhere give --host HOST", path, strerror(e));
		else if (e == EACCES)
			snprintf(err, n, "cannot reach hostd on %s: %s; the socket is root's: run as root, or give --host HOST and --user",
				 path, strerror(e));
		else
			snprintf(err, n, "cannot reach hostd on %s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int tcp_connect(const char *host, const char *port, char *err, size_t n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, e = 0, r = getaddrinfo(host, port, &hints, &res);

	if (r != 0) {
		snprintf(err, n, "cannot find the host %s: %s; check the name given with --host", host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		timeouts(fd, CONNECT_SECONDS);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, n, "cannot connect to %s port %s: %s; is the host up and hostd running, and the port right "
			 "(--host HOST:PORT)?", host, port, strerror(e == EAGAIN || e == EINPROGRESS ? ETIMEDOUT : e));
		return -1;
	}
	timeouts(fd, IO_SECONDS);
	return fd;
}

/* Hex of a certificate's SHA-256: "AB:CD:..." (colons) or "abcd..." (plain). */
static void cert_sha256(X509 *x, char *out, size_t n, bool colons)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	size_t o = 0;

	out[0] = '\0';
	if (!X509_digest(x, EVP_sha256(), md, &len))
		return;
	for (unsigned i = 0; i < len && o + 4 < n; i++)
		o += (size_t)snprintf(out + o, n - o, colons ? "%s%02X" : "%s%02x", colons && i ? ":" : "", md[i]);
}

/* The fingerprint given, without colons, in lower case. */
static void plain_hex(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (; *in && o + 1 < n; in++)
		if (*in != ':')
			out[o++] = (char)tolower((unsigned char)*in);
	out[o] = '\0';
}

static int tls_fail(SSL *ssl, const struct http_target *t, char *err, size_t n)
{
	long v = SSL_get_verify_result(ssl);
	unsigned long e = ERR_peek_last_error();
	char why[256];

	ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
		snprintf(err, n, "the certificate of %s is for another name (%s); connect by the name it carries, or give "
			 "that name with --server-name NAME", t->host, X509_verify_cert_error_string(v));
	else if (v != X509_V_OK)
		snprintf(err, n, "the certificate of %s is not trusted: %s; give the host's certificate with --ca FILE "
			 "(`hostctl --host %s host cert fetch FILE` saves it: compare its fingerprint with the one the host's "
			 "console shows), or its SHA-256 with --fingerprint", t->host, X509_verify_cert_error_string(v), t->host);
	else
		snprintf(err, n, "TLS with %s port %s failed: %s; is it hostd's HTTPS port?", t->host, t->port,
			 e ? why : "the connection was closed");
	return -1;
}

static bool is_address(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* The certificate checks: a CA file, a pinned fingerprint (checked after the handshake), none,
 * or the system's CAs; the name in every case but a pin and --insecure. */
static int tls_setup(struct conn *c, const struct http_target *t, bool check, char *err, size_t n)
{
	const char *name = t->server_name ? t->server_name : t->host;

	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx || !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION))
		return snprintf(err, n, "TLS: cannot set up OpenSSL"), -1;
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (check && !t->insecure && !t->fingerprint) {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		if (t->ca ? !SSL_CTX_load_verify_locations(c->ctx, t->ca, NULL) : !SSL_CTX_set_default_verify_paths(c->ctx)) {
			snprintf(err, n, "cannot read the certificate %s: not a PEM certificate, or missing; `hostctl --host "
				 "HOST host cert fetch FILE` saves the host's", t->ca ? t->ca : "store");
			return -1;
		}
	}
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
		return snprintf(err, n, "TLS: cannot set up OpenSSL"), -1;
	if (!is_address(name))
		SSL_set_tlsext_host_name(c->ssl, name);
	if (check && !t->insecure && !t->fingerprint) {
		X509_VERIFY_PARAM *p = SSL_get0_param(c->ssl);

		if (is_address(name) ? !X509_VERIFY_PARAM_set1_ip_asc(p, name) : !SSL_set1_host(c->ssl, name))
			return snprintf(err, n, "TLS: cannot check the name %s", name), -1;
	}
	return 0;
}

static int pin_check(struct conn *c, const struct http_target *t, char *err, size_t n)
{
	X509 *x = SSL_get1_peer_certificate(c->ssl);
	char have[200], want[200], shown[200];

	if (!x)
		return snprintf(err, n, "%s sent no certificate", t->host), -1;
	cert_sha256(x, have, sizeof(have), false);
	cert_sha256(x, shown, sizeof(shown), true);
	X509_free(x);
	plain_hex(t->fingerprint, want, sizeof(want));
	if (strcmp(have, want) != 0) {
		snprintf(err, n, "the certificate of %s has the SHA-256 fingerprint %s, not the one given with --fingerprint; "
			 "check the host's console: if it changed, this is not the host you mean", t->host, shown);
		return -1;
	}
	return 0;
}

static int conn_open(struct conn *c, const struct http_target *t, bool check, char *err, size_t n)
{
	c->fd = t->socket ? unix_connect(t->socket, err, n) : tcp_connect(t->host, t->port, err, n);
	c->ctx = NULL;
	c->ssl = NULL;
	if (c->fd < 0 || t->socket)
		return c->fd < 0 ? -1 : 0;
	if (tls_setup(c, t, check, err, n) != 0)
		return -1;
	if (SSL_connect(c->ssl) != 1)
		return tls_fail(c->ssl, t, err, n);
	if (check && t->fingerprint && !t->insecure)
		return pin_check(c, t, err, n);
	return 0;
}

static int io_write(struct conn *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)(n > IO_CHUNK ? IO_CHUNK : n)) : write(c->fd, p, n);

		if (w <= 0) {
			if (!c->ssl && w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Bytes read, 0 at the end, -1 on an error. */
static ssize_t io_read(struct conn *c, char *p, size_t n)
{
	if (c->ssl) {
		int r = SSL_read(c->ssl, p, (int)(n > IO_CHUNK ? IO_CHUNK : n));

		if (r > 0)
			return r;
		return SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	}
	for (;;) {
		ssize_t r = read(c->fd, p, n);

		if (r >= 0 || errno != EINTR)
			return r;
	}
}

char *http_basic(const char *user, const char *password)
{
	size_t n = strlen(user) + 1 + strlen(password);
	char *plain = malloc(n + 1), *out = malloc(6 + 4 * (n / 3 + 1) + 1);

	if (!plain || !out) {
		free(plain);
		free(out);
		return NULL;
	}
	sprintf(plain, "%s:%s", user, password);
	strcpy(out, "Basic ");
	EVP_EncodeBlock((unsigned char *)out + 6, (unsigned char *)plain, (int)n);
	OPENSSL_cleanse(plain, n);
	free(plain);
	return out;
}

static int send_head(struct conn *c, const struct http_target *t, const char *method, const char *path,
		     const struct http_body *b)
{
	char *head = NULL, host[300];
	int r, len;

	/* Host: the name, [v6], and the port unless 443 */
	if (t->socket)
		snprintf(host, sizeof(host), "localhost");
	else
		snprintf(host, sizeof(host), strchr(t->host, ':') ? "[%s]%s%s" : "%s%s%s", t->host,
			 strcmp(t->port, "443") ? ":" : "", strcmp(t->port, "443") ? t->port : "");
	len = asprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hostctl\r\nAccept: application/json, */*\r\n"
		       "Connection: close\r\n%s%s%s%s%s%sContent-Length: %lld\r\n\r\n",
		       method, path, host, t->auth ? "Authorization: " : "", t->auth ? t->auth : "",
		       t->auth ? "\r\n" : "", b && b->type ? "Content-Type: " : "", b && b->type ? b->type : "",
		       b && b->type ? "\r\n" : "",
		       b ? (long long)(b->fd >= 0 ? (long long)b->size : (long long)b->len) : 0LL);
	if (len < 0)
		return -1;
	r = io_write(c, head, (size_t)len);
	OPENSSL_cleanse(head, (size_t)len);
	free(head);
	return r;
}

/* The body; a server that answers early (401, 413) and closes is read afterwards. */
static int send_body(struct conn *c, const struct http_body *b, char *err, size_t n)
{
	char *buf;
	off_t left = b->size;

	if (b->fd < 0)
		return io_write(c, b->data, b->len);
	buf = malloc(IO_CHUNK);
	if (!buf)
		return snprintf(err, n, "out of memory"), -1;
	while (left > 0) {
		ssize_t r = read(b->fd, buf, left < IO_CHUNK ? (size_t)left : IO_CHUNK);

		if (r <= 0) {
			snprintf(err, n, "reading the file to send: %s", r < 0 ? strerror(errno) : "it got shorter");
			free(buf);
			return -2;
		}
		if (io_write(c, buf, (size_t)r) != 0)
			break;
		left -= r;
		if (b->progress)
			b->progress(b->size - left, b->size);
	}
	free(buf);
	return 0;
}

/* Read until the head's end; the bytes after it stay in buf[*body .. *have). */
static int read_head(struct conn *c, char *buf, size_t *have, size_t *headlen, size_t *body)
{
	for (;;) {
		char *end = memmem(buf, *have, "\r\n\r\n", 4);
		char *lf = memmem(buf, *have, "\n\n", 2);
		ssize_t r;

		if (end || lf) {
			if (!end || (lf && lf < end)) {
				*headlen = (size_t)(lf - buf);
				*body = *headlen + 2;
			} else {
				*headlen = (size_t)(end - buf);
				*body = *headlen + 4;
			}
			return 0;
		}
		if (*have == HEAD_MAX)
			return -1;
		r = io_read(c, buf + *have, HEAD_MAX - *have);
		if (r <= 0)
			return -1;
		*have += (size_t)r;
	}
}

struct body_state {
	const struct http_head *h;
	const struct http_sink *sink;
	struct chunked ch;
	long long left;
	int stopped;
};

/* Hand n body bytes on: 1 the body is complete, 0 more to come, -1 bad framing or stopped. */
static int body_bytes(struct body_state *s, const char *p, size_t n)
{
	if (s->h->chunked) {
		size_t used;
		int r = chunked_feed(&s->ch, p, n, &used, s->sink->data, s->sink->arg);

		if (r == -2)
			s->stopped = 1;
		return r < 0 ? -1 : r;
	}
	if (s->left >= 0 && (long long)n > s->left)
		n = (size_t)s->left;
	if (n && s->sink->data(s->sink->arg, p, n) != 0) {
		s->stopped = 1;
		return -1;
	}
	if (s->left >= 0)
		s->left -= (long long)n;
	return s->left == 0 ? 1 : 0;
}

static int read_body(struct conn *c, struct body_state *s, const char *pre, size_t pren, char *err, size_t n)
{
	char *buf;
	int r = s->left == 0 && !s->h->chunked ? 1 : body_bytes(s, pre, pren);

	buf = r == 0 ? malloc(IO_CHUNK) : NULL;
	while (r == 0 && buf) {
		ssize_t got = io_read(c, buf, IO_CHUNK);

		if (got == 0 && s->left < 0 && !s->h->chunked)
			r = 1; /* the body ends with the connection */
		else if (got <= 0)
			r = -1;
		else
			r = body_bytes(s, buf, (size_t)got);
	}
	free(buf);
	if (r != 1 && s->stopped)
		snprintf(err, n, "the answer was not taken whole (over hostctl's limit, or it could not be written)");
	else if (r != 1)
		snprintf(err, n, "the answer broke off (the connection was closed or the body is malformed); try again");
	return r == 1 ? 0 : -1;
}

static int read_answer(struct conn *c, const struct http_sink *sink, struct http_head *h, char *err, size_t n)
{
	char *buf = malloc(HEAD_MAX);
	size_t have = 0, headlen, body;
	struct body_state s = { .h = h, .sink = sink };
	int r = -1;

	if (!buf)
		return snprintf(err, n, "out of memory"), -1;
	for (;;) {
		if (read_head(c, buf, &have, &headlen, &body) != 0 || http_head_parse(buf, headlen, h) != 0) {
			if (have == 0)
				snprintf(err, n, "hostd closed the connection without an answer (restarting, or too many "
					 "connections?); try again");
			else
				snprintf(err, n, "the server did not answer in HTTP; is it hostd (--host HOST:PORT)?");
			goto out;
		}
		if (h->status >= 200)
			break;
		memmove(buf, buf + body, have - body); /* 100 Continue and the like */
		have -= body;
	}
	if (sink->head && sink->head(sink->arg, h) != 0)
		goto out;
	s.left = h->status == 204 || h->status == 304 ? 0 : h->length;
	r = read_body(c, &s, buf + body, have - body, err, n);
out:
	free(buf);
	return r;
}

int http_call(const struct http_target *t, const char *method, const char *path, const struct http_body *body,
	      const struct http_sink *sink, struct http_head *head, char *err, size_t errlen)
{
	struct conn c;
	int r;

	snprintf(err, errlen, "no answer");
	if (conn_open(&c, t, true, err, errlen) != 0) {
		conn_close(&c);
		return -1;
	}
	r = send_head(&c, t, method, path, body);
	if (r == 0 && body && send_body(&c, body, err, errlen) == -2) {
		conn_close(&c);
		return -1;
	}
	r = read_answer(&c, sink, head, err, errlen);
	conn_close(&c);
	return r;
}

int http_fetch_cert(const struct http_target *t, const char *file, char *fp, size_t fplen, char *err, size_t errlen)
{
	struct conn c;
	X509 *x = NULL;
	FILE *f;
	bool ok;
	int r = -1;

	c.fd = -1, c.ctx = NULL, c.ssl = NULL;
	if (t->socket)
		return snprintf(err, errlen, "the UNIX socket has no certificate; give --host HOST"), -1;
	if (conn_open(&c, t, false, err, errlen) != 0)
		goto out;
	x = SSL_get1_peer_certificate(c.ssl);
	if (!x) {
		snprintf(err, errlen, "%s sent no certificate", t->host);
		goto out;
	}
	f = fopen(file, "w");
	ok = f && PEM_write_X509(f, x);
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s; give a file in a folder you may write", file, strerror(errno));
		if (f)
			unlink(file);
		goto out;
	}
	cert_sha256(x, fp, fplen, true);
	r = 0;
out:
	X509_free(x);
	conn_close(&c);
	return r;
}
