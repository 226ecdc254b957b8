/* hostd's HTTP/1.1 server (server.c): connections on libevent's event loop (TLS with OpenSSL on
 * the network, plain on the local UNIX socket), requests read by Debian's http-parser, the body
 * of each request either kept in memory (bounded) or written as it arrives to a file or pipe its
 * head named (a sink), answers written whole in one TLS record where they fit.
 *
 * Why not libevent's evhttp: version 2.1 (Debian 12) reads a request's whole body into memory before
 * any callback of the application sees it and has no limit on connections; libmicrohttpd, which
 * streams bodies, brings GnuTLS (a second TLS library in the image); civetweb dlopens an unversioned
 * libssl.so and runs a thread per connection. So the framing is http-parser's and the connections
 * are ours (docs/api.md, "The server").
 *
 * A request goes through two calls of struct srv_calls: head() once its head is read (route it,
 * authenticate, and for an upload give a sink with sreq_sink(), or answer at once), then request()
 * once its body is whole (answer it). An answer is given exactly once per request, by sreq_reply*();
 * an answer given in head() ends the connection after the body is read and dropped. */
#ifndef HOSTD_SERVER_H
#define HOSTD_SERVER_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SRV_HEAD_MAX 16384 /* a request's target and header lines together */
#define SRV_HEADERS_MAX 100

struct srv;
struct sreq;

struct srv_calls {
	void (*head)(struct sreq *r, void *arg);
	void (*request)(struct sreq *r, void *arg);
	/* The connection ended between head() and request(), or before a deferred answer: release
	 * what head() set up (its sink), or let the deferred work know nobody waits. */
	void (*abort)(struct sreq *r, void *arg);
	void *arg;
};

/* A server on base with at most max_conns connections at once (more get 503 and are closed).
 * Never NULL. */
struct srv *srv_new(struct event_base *base, const struct srv_calls *calls, int max_conns);
/* Serve TLS on the listening socket fd with *ctx, read at each new connection (so that replacing it
 * takes effect for the next ones). The server owns fd. 0 or -1 (errno). */
int srv_listen_tls(struct srv *s, int fd, SSL_CTX *const *ctx);
/* Serve plain HTTP on the listening UNIX socket fd (sreq_local() true). The server owns fd. */
int srv_listen_local(struct srv *s, int fd);
/* Close every connection and listener (abort() for requests in flight) and free s. */
void srv_free(struct srv *s);

/* The request. Strings live until the answer is given. */
const char *sreq_method(const struct sreq *r);     /* "GET", ... */
const char *sreq_path(const struct sreq *r);       /* the target up to '?', not decoded */
const char *sreq_query(const struct sreq *r);      /* after '?', or NULL */
const char *sreq_header(const struct sreq *r, const char *name); /* NULL when absent */
long long sreq_length(const struct sreq *r);       /* Content-Length, or -1 (none or chunked) */
int sreq_fd(const struct sreq *r);
bool sreq_local(const struct sreq *r);
const char *sreq_peer(const struct sreq *r);       /* the client's address, "the local socket" */
void sreq_set_data(struct sreq *r, void *data);
void *sreq_data(const struct sreq *r);

/* From head(): the body written to fd as it arrives (fd stays the caller's; a pipe may be
 * non-blocking: the connection waits while it is full). Without a sink a body is kept in memory,
 * at most max bytes (srv_body_max). */
void sreq_sink(struct sreq *r, int fd);
void srv_body_max(struct sreq *r, size_t max);
/* In request(): the body in memory, NUL-terminated (len without the NUL); over_limit says it was
 * longer than the limit (then dropped, and len 0). */
const char *sreq_body(struct sreq *r, size_t *len, bool *over_limit);
/* In request(): the bytes the body had, and the errno of the sink's first failed write (0). */
long long sreq_received(const struct sreq *r);
int sreq_sink_error(const struct sreq *r);

/* In request(): the answer comes later, from another event (the request stays valid until then;
 * if the connection ends first, abort() is called for it). */
void sreq_defer(struct sreq *r);

/* Answers: a header line to add, then exactly one of the sreq_reply*(). type may be NULL. */
void sreq_add_header(struct sreq *r, const char *name, const char *value);
void sreq_reply(struct sreq *r, int status, const char *type, const void *body, size_t len);
/* The contents of b (drained). */
void sreq_reply_buffer(struct sreq *r, int status, const char *type, struct evbuffer *b);
/* size bytes of fd from its offset, read as the connection takes them; fd is taken (closed). */
void sreq_reply_fd(struct sreq *r, int status, const char *type, int fd, off_t size);

/* Parse data as a stream of requests without a connection (the fuzz target and unit tests):
 * each(r, arg) for each whole request, with its body in memory (at most body_max). Returns the
 * requests read, or -1 when the stream is refused (bad framing, a head over SRV_HEAD_MAX). */
int srv_parse_buffer(const char *data, size_t len, size_t body_max, void (*each)(struct sreq *r, void *arg),
		     void *arg);

#endif
