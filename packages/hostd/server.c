/* hostd's HTTP/1.1 server (server.h): the framing is http-parser's; what is here is the
 * connections (accepting, TLS, the limit), each request's head kept for its handler, its body kept
 * or written to a sink with the connection held while the sink is full, and the answers. Written by
 * hand for want of a library that does this with one TLS library (see server.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "server.h"

#include <errno.h>
#include <event2/listener.h>
#include <http_parser.h>
#include <limits.h>
#include <openssl/err.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util.h"

#define PIECE (256 * 1024) /* a file answer is read this much at a time */
#define IDLE_S 30          /* a connection that sends or takes nothing this long is closed */
#define REFUSED_MAX 16     /* connections over the limit being answered 503 at once; more are closed */

enum part { P_NONE, P_URL, P_FIELD, P_VALUE };

struct sreq {
	struct conn *c; /* NULL under srv_parse_buffer() */
	char pool[SRV_HEAD_MAX + 2 * SRV_HEADERS_MAX + 2]; /* the target and the header lines, NUL-terminated */
	size_t plen, head_bytes; /* the pool's length, and the bytes of the head in it (without NULs) */
	enum part part;
	unsigned short name[SRV_HEADERS_MAX], value[SRV_HEADERS_MAX];
	int nh;
	bool head_too_big;
	const char *method, *path, *query;
	long long length, received;
	struct evbuffer *body; /* without a sink, at most body_max bytes */
	size_t body_max;
	bool over, terminated; /* the body over body_max (dropped); its NUL added */
	int sink, sink_err;
	struct evbuffer *out; /* header lines added for the answer */
	bool body_expected; /* a Content-Length over 0, or chunked */
	bool answered, early, complete, keep_alive, http10;
	bool deferred; /* request() left the answer for later (sreq_defer) */
	void *data;
};

struct conn {
	struct srv *s;
	struct conn *prev, *next;
	int fd;
	SSL *ssl;                 /* NULL on the UNIX socket */
	struct event *rev, *wev;  /* readable (always, but while held), writable (while output waits) */
	struct evbuffer *in, *out;
	bool local, refused;
	char peer[64]; /* the client's address, for the log */
	http_parser p;
	struct sreq r;
	struct evbuffer *pending; /* body bytes the sink has not taken yet */
	struct event *sink_ev;    /* the sink can take more */
	int file;                 /* a file answer being sent, and what is left of it */
	off_t file_left;
	bool headed;  /* head() called, request() not yet: abort() owed if the connection ends */
	bool busy;    /* the request is whole: no more parsing until it is answered */
	bool feeding; /* inside conn_continue() */
	bool closing; /* close once the output has left */
	bool held;    /* not reading: the sink is full, or enough waits unparsed */
	bool in_cb;   /* inside one of its libevent callbacks (conn_after() ends it) */
	bool failed;  /* the socket failed or the client left: free at the end of the callback */
	bool write_waits_read, read_waits_write; /* TLS wants the other direction first */
};

struct srv {
	struct event_base *base;
	struct srv_calls calls;
	int max, n, refusing;
	struct conn *conns;
	struct evconnlistener *ls[4];
	SSL_CTX *const *ctx[4]; /* each listener's TLS context, NULL for the UNIX socket */
	int nls;
};

/* ---- the request, as http-parser reads it ---- */

/* Ready for the next request (the pool is not cleared: only what plen covers is read). */
static void req_reset(struct sreq *r)
{
	evbuffer_drain(r->body, evbuffer_get_length(r->body));
	evbuffer_drain(r->out, evbuffer_get_length(r->out));
	r->pool[0] = '\0';
	r->plen = r->head_bytes = 0, r->part = P_NONE, r->nh = 0, r->head_too_big = false;
	r->method = r->path = r->query = NULL;
	r->length = -1, r->received = 0, r->over = r->terminated = false;
	r->sink = -1, r->sink_err = 0;
	r->body_expected = r->answered = r->early = r->complete = r->keep_alive = r->http10 = r->deferred = false;
	r->data = NULL;
}

static int pool_add(struct sreq *r, const char *at, size_t len)
{
	r->head_bytes += len;
	if (r->head_bytes > SRV_HEAD_MAX || r->plen + len + 1 > sizeof(r->pool)) {
		r->head_too_big = true;
		return -1;
	}
	memcpy(r->pool + r->plen, at, len);
	r->plen += len;
	return 0;
}

/* The part being read ends (its NUL) and the next, of kind part, starts. */
static int part_start(struct sreq *r, enum part part)
{
	if (r->part != P_NONE)
		r->pool[r->plen++] = '\0';
	if (part == P_FIELD && r->nh == SRV_HEADERS_MAX) {
		r->head_too_big = true;
		return -1;
	}
	if (part == P_FIELD)
		r->name[r->nh] = (unsigned short)r->plen;
	else if (part == P_VALUE)
		r->value[r->nh++] = (unsigned short)r->plen;
	r->part = part;
	return 0;
}

static int on_begin(http_parser *p)
{
	req_reset(p->data);
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct sreq *r = p->data;

	if (r->part != P_URL && part_start(r, P_URL) < 0)
		return -1;
	return pool_add(r, at, len);
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	struct sreq *r = p->data;

	if (r->part != P_FIELD && part_start(r, P_FIELD) < 0)
		return -1;
	return pool_add(r, at, len);
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	struct sreq *r = p->data;

	if (r->part != P_VALUE && part_start(r, P_VALUE) < 0)
		return -1;
	return pool_add(r, at, len);
}

static void conn_continue(struct conn *c);

static int on_head(http_parser *p)
{
	struct sreq *r = p->data;
	char *q;

	if (r->part == P_FIELD) /* a field without a value: http-parser refuses it before this */
		return -1;
	part_start(r, P_NONE);
	r->method = http_method_str((enum http_method)p->method);
	r->path = r->pool;
	if ((q = strchr(r->pool, '?'))) {
		*q = '\0';
		r->query = q + 1;
	}
	r->length = (p->flags & F_CHUNKED) || p->content_length == ULLONG_MAX ? -1 : (long long)p->content_length;
	r->body_expected = (p->flags & F_CHUNKED) || r->length > 0;
	r->keep_alive = http_should_keep_alive(p);
	r->http10 = p->http_major == 1 && p->http_minor == 0;
	if (!r->c)
		return 0;
	r->c->s->calls.head(r, r->c->s->calls.arg);
	r->c->headed = !r->answered;
	if (!r->answered && r->body_expected) {
		const char *expect = sreq_header(r, "Expect");
		if (expect && strcasecmp(expect, "100-continue") == 0)
			evbuffer_add(r->c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	return 0;
}

static void sink_put(struct sreq *r, const char *at, size_t len);

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct sreq *r = p->data;

	r->received += (long long)len;
	if (r->early || r->over)
		return 0;
	if (r->sink >= 0)
		sink_put(r, at, len);
	else if (evbuffer_get_length(r->body) + len > r->body_max)
		r->over = true, evbuffer_drain(r->body, evbuffer_get_length(r->body));
	else
		evbuffer_add(r->body, at, len);
	return 0;
}

static int on_complete(http_parser *p)
{
	struct sreq *r = p->data;

	r->complete = true;
	r->keep_alive = r->keep_alive && !r->early;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_begin,
	.on_url = on_url,
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_head,
	.on_body = on_body,
	.on_message_complete = on_complete,
};

/* ---- what handlers see ---- */

const char *sreq_method(const struct sreq *r)
{
	return r->method ? r->method : "";
}

const char *sreq_path(const struct sreq *r)
{
	return r->path ? r->path : "";
}

const char *sreq_query(const struct sreq *r)
{
	return r->query;
}

const char *sreq_header(const struct sreq *r, const char *name)
{
	for (int i = 0; i < r->nh; i++)
		if (strcasecmp(r->pool + r->name[i], name) == 0)
			return r->pool + r->value[i];
	return NULL;
}

long long sreq_length(const struct sreq *r)
{
	return r->length;
}

int sreq_fd(const struct sreq *r)
{
	return r->c ? r->c->fd : -1;
}

const char *sreq_peer(const struct sreq *r)
{
	return r->c ? r->c->peer : "";
}

bool sreq_local(const struct sreq *r)
{
	return r->c && r->c->local;
}

void sreq_set_data(struct sreq *r, void *data)
{
	r->data = data;
}

void *sreq_data(const struct sreq *r)
{
	return r->data;
}

void sreq_sink(struct sreq *r, int fd)
{
	r->sink = fd;
}

void srv_body_max(struct sreq *r, size_t max)
{
	r->body_max = max;
}

const char *sreq_body(struct sreq *r, size_t *len, bool *over_limit)
{
	if (!r->terminated)
		evbuffer_add(r->body, "", 1);
	r->terminated = true;
	*len = evbuffer_get_length(r->body) - 1;
	if (over_limit)
		*over_limit = r->over;
	return (const char *)evbuffer_pullup(r->body, -1);
}

long long sreq_received(const struct sreq *r)
{
	return r->received;
}

int sreq_sink_error(const struct sreq *r)
{
	return r->sink_err;
}

void sreq_defer(struct sreq *r)
{
	r->deferred = true;
}

void sreq_add_header(struct sreq *r, const char *name, const char *value)
{
	evbuffer_add_printf(r->out, "%s: %s\r\n", name, value);
}

/* ---- the sink ---- */

static void conn_after(struct conn *c);
static void conn_continue(struct conn *c);

/* Reading stops (the sink is full, or enough is waiting unparsed) or starts again. */
static void conn_hold(struct conn *c, bool hold)
{
	struct timeval idle = {IDLE_S, 0};

	if (hold == c->held)
		return;
	c->held = hold;
	if (hold)
		event_del(c->rev);
	else
		event_add(c->rev, &idle);
}

static void sink_ready(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int n = evbuffer_write(c->pending, fd);

	(void)what;
	c->in_cb = true;
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		c->r.sink_err = errno;
		evbuffer_drain(c->pending, evbuffer_get_length(c->pending));
	}
	if (evbuffer_get_length(c->pending) == 0) {
		event_free(c->sink_ev);
		c->sink_ev = NULL;
		conn_hold(c, false);
		conn_continue(c);
	}
	conn_after(c);
}

/* len bytes for the sink: written, or kept while the sink is full (the connection then stops
 * reading until sink_ready() has written them). */
static void sink_put(struct sreq *r, const char *at, size_t len)
{
	struct conn *c = r->c;
	ssize_t n;

	if (c && evbuffer_get_length(c->pending)) {
		evbuffer_add(c->pending, at, len);
		return;
	}
	while (len > 0 && !r->sink_err) {
		n = write(r->sink, at, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && c) {
			evbuffer_add(c->pending, at, len);
			conn_hold(c, true);
			c->sink_ev = event_new(c->s->base, r->sink, EV_WRITE | EV_PERSIST, sink_ready, c);
			event_add(c->sink_ev, NULL);
			return;
		}
		if (n <= 0)
			r->sink_err = n < 0 ? errno : EIO;
		else
			at += n, len -= (size_t)n;
	}
}

/* ---- answers ---- */

static void request_done(struct conn *c);

static struct evbuffer *answer_head(struct sreq *r, int status, const char *type, long long len, size_t room)
{
	struct evbuffer *o = evbuffer_new();
	const char *reason = http_status_str((enum http_status)status);

	evbuffer_expand(o, 160 + evbuffer_get_length(r->out) + room); /* one piece: one TLS record */
	evbuffer_add_printf(o, "HTTP/1.1 %d %s\r\n", status, strcmp(reason, "<unknown>") ? reason : "Status");
	if (type)
		evbuffer_add_printf(o, "Content-Type: %s\r\n", type);
	evbuffer_add_printf(o, "Content-Length: %lld\r\n", len);
	/* An answer before the body has come ends the connection once the body is dropped. */
	if (!r->complete && r->body_expected)
		r->early = true;
	if (r->early || !r->keep_alive || (r->c && r->c->closing))
		evbuffer_add(o, "Connection: close\r\n", 19);
	else if (r->http10)
		evbuffer_add(o, "Connection: keep-alive\r\n", 24);
	evbuffer_add_buffer(o, r->out);
	evbuffer_add(o, "\r\n", 2);
	r->answered = true;
	return o;
}

static void answer_send(struct sreq *r, struct evbuffer *o)
{
	struct conn *c = r->c;
	bool from_elsewhere;

	if (c)
		evbuffer_add_buffer(c->out, o);
	evbuffer_free(o);
	if (!c || !r->complete || c->file >= 0)
		return;
	/* A deferred answer comes from some other event: this is the connection's callback now. */
	from_elsewhere = !c->in_cb;
	c->in_cb = true;
	request_done(c);
	if (from_elsewhere)
		conn_after(c); /* may free c (and r) */
}

void sreq_reply(struct sreq *r, int status, const char *type, const void *body, size_t len)
{
	struct evbuffer *o;

	if (r->answered)
		return;
	o = answer_head(r, status, type, (long long)len, len < 65536 ? len : 0);
	if (!r->method || strcmp(r->method, "HEAD") != 0) /* HEAD: the head alone */
		evbuffer_add(o, body, len);
	answer_send(r, o);
}

void sreq_reply_buffer(struct sreq *r, int status, const char *type, struct evbuffer *b)
{
	size_t len = evbuffer_get_length(b);
	struct evbuffer *o;

	if (r->answered) {
		evbuffer_drain(b, len);
		return;
	}
	o = answer_head(r, status, type, (long long)len, 0);
	evbuffer_add_buffer(o, b);
	answer_send(r, o);
}

/* A piece of the file answer into the output; the answer done at its end. */
static void file_more(struct conn *c)
{
	int n = evbuffer_read(c->out, c->file, c->file_left < PIECE ? (int)c->file_left : PIECE);

	if (n <= 0) { /* the file shrank or cannot be read: the answer cannot be whole */
		close(c->file);
		c->file = -1;
		c->closing = true;
		return;
	}
	if ((c->file_left -= n) > 0)
		return;
	close(c->file);
	c->file = -1;
	request_done(c);
}

void sreq_reply_fd(struct sreq *r, int status, const char *type, int fd, off_t size)
{
	struct evbuffer *o;

	if (r->answered || !r->c || !r->complete) {
		close(fd);
		return;
	}
	o = answer_head(r, status, type, (long long)size, 0);
	evbuffer_add_buffer(r->c->out, o);
	evbuffer_free(o);
	r->c->file = fd;
	r->c->file_left = size;
	if (size == 0)
		close(fd), r->c->file = -1, request_done(r->c);
}

/* ---- the socket: TLS or plain, read and written here, never through a bufferevent (whose
 * deferred writes cost a round of the event loop and four epoll_ctl() calls per answer) ---- */

/* What the socket has, into c->in. false when the client left or the connection failed. */
static bool conn_fill(struct conn *c)
{
	struct evbuffer_iovec v;
	int n, e;

	for (int round = 0; round < 8; round++) {
		if (evbuffer_reserve_space(c->in, 16384, &v, 1) < 1)
			return false;
		if (c->ssl) {
			ERR_clear_error();
			if ((n = SSL_read(c->ssl, v.iov_base, 16384)) <= 0) {
				e = SSL_get_error(c->ssl, n);
				if (e == SSL_ERROR_WANT_WRITE)
					c->read_waits_write = true, event_add(c->wev, NULL);
				return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
			}
		} else if ((n = (int)read(c->fd, v.iov_base, 16384)) <= 0) {
			return n < 0 && (errno == EAGAIN || errno == EINTR);
		}
		v.iov_len = (size_t)n;
		evbuffer_commit_space(c->in, &v, 1);
		if (n < 16384 && (!c->ssl || !SSL_has_pending(c->ssl)))
			return true; /* all there was: no read() to hear EAGAIN */
	}
	return true;
}

/* c->out to the socket until it is full (then the write event waits). false when it failed. */
static bool conn_flush(struct conn *c)
{
	struct timeval idle = {IDLE_S, 0};
	struct evbuffer_iovec v;
	int n, e;

	while (evbuffer_peek(c->out, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		size_t len = v.iov_len < 1 << 30 ? v.iov_len : 1 << 30;
		if (c->ssl) {
			ERR_clear_error();
			if ((n = SSL_write(c->ssl, v.iov_base, (int)len)) <= 0) {
				e = SSL_get_error(c->ssl, n);
				if (e == SSL_ERROR_WANT_READ)
					c->write_waits_read = true;
				else if (e == SSL_ERROR_WANT_WRITE)
					event_add(c->wev, &idle);
				return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
			}
		} else if ((n = (int)write(c->fd, v.iov_base, len)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				event_add(c->wev, &idle);
			return errno == EAGAIN;
		}
		evbuffer_drain(c->out, (size_t)n);
	}
	if (!c->read_waits_write)
		event_del(c->wev);
	return true;
}

static void conn_free(struct conn *c)
{
	struct srv *s = c->s;

	if ((c->headed || (c->r.deferred && !c->r.answered)) && s->calls.abort)
		s->calls.abort(&c->r, s->calls.arg);
	if (c->file >= 0)
		close(c->file);
	if (c->sink_ev)
		event_free(c->sink_ev);
	event_free(c->rev), event_free(c->wev);
	if (c->ssl) {
		if (!c->failed)
			SSL_shutdown(c->ssl); /* close_notify, not waited for */
		SSL_free(c->ssl);
	}
	close(c->fd);
	evbuffer_free(c->in), evbuffer_free(c->out);
	evbuffer_free(c->r.body), evbuffer_free(c->r.out), evbuffer_free(c->pending);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->refused)
		s->refusing--;
	else
		s->n--;
	free(c);
}

/* The last thing every callback of c does, and only they: the answers written (a file answer
 * topped up as the socket takes it), and c freed when it failed or is done. */
static void conn_after(struct conn *c)
{
	c->in_cb = false;
	if (!c->failed && !conn_flush(c))
		c->failed = true;
	while (!c->failed && c->file >= 0 && evbuffer_get_length(c->out) == 0) {
		file_more(c);
		if (!conn_flush(c))
			c->failed = true;
	}
	if (c->failed || (c->closing && evbuffer_get_length(c->out) == 0))
		conn_free(c);
}

/* The answer is out (or queued): next request, or close. */
static void request_done(struct conn *c)
{
	if (!c->r.keep_alive || c->r.early) {
		c->closing = true; /* what still comes is read and dropped (TLS may need it) */
		return;
	}
	c->busy = false;
	c->r.complete = false;
	http_parser_pause(&c->p, 0);
	if (!c->sink_ev)
		conn_hold(c, false);
	if (!c->feeding)
		conn_continue(c);
}

/* The request is whole: to its handler. */
static void dispatch(struct conn *c)
{
	c->busy = true;
	if (c->r.answered) { /* from head(): a body was dropped */
		request_done(c);
		return;
	}
	c->headed = false;
	c->s->calls.request(&c->r, c->s->calls.arg);
	if (!c->r.answered && !c->r.deferred) { /* a handler that forgot: the client still gets an answer */
		static const char msg[] = "{\"error\": \"no answer; see the host's log\"}\n";
		sreq_reply(&c->r, 500, "application/json", msg, sizeof(msg) - 1);
	}
}

static void refuse_bad(struct conn *c)
{
	static const char bad[] = "{\"error\": \"a malformed HTTP request; send HTTP/1.1\"}\n",
			  big[] = "{\"error\": \"the request's head is over 16 KiB; send fewer or shorter header lines\"}\n";
	struct sreq *r = &c->r;

	if (c->headed && c->s->calls.abort)
		c->s->calls.abort(r, c->s->calls.arg);
	c->headed = false;
	r->early = true;
	if (!r->answered)
		r->head_too_big ? sreq_reply(r, 431, "application/json", big, sizeof(big) - 1)
				: sreq_reply(r, 400, "application/json", bad, sizeof(bad) - 1);
	c->closing = true;
}

/* Parse what has arrived, one request at a time. */
static void conn_continue(struct conn *c)
{
	struct evbuffer_iovec v;
	size_t n;

	c->feeding = true;
	while (!c->busy && !c->closing && !c->sink_ev) {
		if (c->r.complete) { /* and the sink has taken all of the body */
			dispatch(c);
			continue;
		}
		if (evbuffer_peek(c->in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			break;
		n = http_parser_execute(&c->p, &settings, v.iov_base, v.iov_len);
		evbuffer_drain(c->in, n);
		if (HTTP_PARSER_ERRNO(&c->p) != HPE_OK && HTTP_PARSER_ERRNO(&c->p) != HPE_PAUSED)
			refuse_bad(c);
	}
	c->feeding = false;
	if (c->busy && evbuffer_get_length(c->in) > SRV_HEAD_MAX * 4)
		conn_hold(c, true); /* pipelined requests enough: the rest waits in the socket */
}

/* Whether c has nothing in flight (the idle timeout then closes it; a deferred answer is in
 * flight: busy). */
static bool conn_idle(const struct conn *c)
{
	return !c->busy && !c->sink_ev && c->file < 0 && evbuffer_get_length(c->out) == 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	c->in_cb = true;
	if (what & EV_TIMEOUT) {
		c->failed = conn_idle(c);
		return conn_after(c);
	}
	if (c->write_waits_read) {
		c->write_waits_read = false;
		if (!conn_flush(c))
			c->failed = true;
	}
	if (!c->failed && !c->held && !conn_fill(c))
		c->failed = true;
	if (c->refused || c->closing)
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
	else if (!c->failed)
		conn_continue(c);
	conn_after(c);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	c->in_cb = true;
	if (what & EV_TIMEOUT) { /* the client took nothing for IDLE_S */
		c->failed = true;
		return conn_after(c);
	}
	if (c->read_waits_write) {
		c->read_waits_write = false;
		if (!conn_fill(c))
			c->failed = true;
		else if (!c->refused)
			conn_continue(c);
	}
	conn_after(c);
}

/* The numeric address of sa ("the local socket" for a UNIX one), IPv4-mapped ones as IPv4. */
static void peer_name(const struct sockaddr *sa, int len, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_UNIX) {
		snprintf(out, size, "the local socket");
		return;
	}
	getnameinfo(sa, (socklen_t)len, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
	snprintf(out, size, "%s", strncmp(addr, "::ffff:", 7) == 0 ? addr + 7 : addr);
}

static struct conn *conn_new(struct srv *s, int fd, SSL_CTX *ctx, bool refused)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
				   "Content-Length: 71\r\nConnection: close\r\n\r\n"
				   "{\"error\": \"too many connections to hostd; close some and try again\"}\n";
	struct conn *c = xmalloc(sizeof(*c));
	struct timeval idle = {IDLE_S, 0};
	int one = 1;

	*c = (struct conn){.s = s, .fd = fd, .local = ctx == NULL, .refused = refused, .file = -1, .next = s->conns};
	if (ctx && (c->ssl = SSL_new(ctx))) {
		SSL_set_fd(c->ssl, fd);
		SSL_set_accept_state(c->ssl);
		SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	c->in = evbuffer_new(), c->out = evbuffer_new();
	c->r.c = c;
	c->r.body = evbuffer_new(), c->r.out = evbuffer_new(), c->pending = evbuffer_new();
	c->r.body_max = 1024 * 1024;
	c->r.sink = -1;
	c->p.data = &c->r;
	http_parser_init(&c->p, HTTP_REQUEST);
	c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_readable, c);
	c->wev = event_new(s->base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
	event_add(c->rev, &idle);
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	*(refused ? &s->refusing : &s->n) += 1;
	c->failed = ctx && !c->ssl;
	if (refused) {
		evbuffer_add(c->out, busy, sizeof(busy) - 1);
		c->closing = true;
	}
	return c;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct srv *s = arg;
	struct conn *c;
	int i;

	for (i = 0; i < s->nls && s->ls[i] != l; i++)
		;
	if (s->n >= s->max && s->refusing >= REFUSED_MAX) {
		close(fd);
		return;
	}
	c = conn_new(s, fd, s->ctx[i] ? *s->ctx[i] : NULL, s->n >= s->max);
	c->in_cb = true;
	peer_name(sa, len, c->peer, sizeof(c->peer));
	conn_after(c);
}

static int listen_on(struct srv *s, int fd, SSL_CTX *const *ctx)
{
	struct evconnlistener *l;

	if (s->nls == 4)
		return errno = ENOSPC, -1;
	l = evconnlistener_new(s->base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!l)
		return -1;
	s->ls[s->nls] = l;
	s->ctx[s->nls++] = ctx;
	return 0;
}

int srv_listen_tls(struct srv *s, int fd, SSL_CTX *const *ctx)
{
	return listen_on(s, fd, ctx);
}

int srv_listen_local(struct srv *s, int fd)
{
	return listen_on(s, fd, NULL);
}

struct srv *srv_new(struct event_base *base, const struct srv_calls *calls, int max_conns)
{
	struct srv *s = xmalloc(sizeof(*s));

	memset(s, 0, sizeof(*s));
	s->base = base;
	s->calls = *calls;
	s->max = max_conns;
	return s;
}

void srv_free(struct srv *s)
{
	while (s->conns)
		conn_free(s->conns);
	for (int i = 0; i < s->nls; i++)
		evconnlistener_free(s->ls[i]);
	free(s);
}

/* ---- without a connection ---- */

int srv_parse_buffer(const char *data, size_t len, size_t body_max, void (*each)(struct sreq *r, void *arg),
		     void *arg)
{
	struct sreq r = {.body = evbuffer_new(), .out = evbuffer_new(), .body_max = body_max, .sink = -1};
	http_parser p;
	int n = 0;
	size_t done;

	http_parser_init(&p, HTTP_REQUEST);
	p.data = &r;
	while (len > 0 && n >= 0) {
		done = http_parser_execute(&p, &settings, data, len);
		data += done, len -= done;
		if (HTTP_PARSER_ERRNO(&p) == HPE_PAUSED && r.complete) {
			each(&r, arg);
			n++;
			http_parser_pause(&p, 0);
			r.complete = false;
		} else if (HTTP_PARSER_ERRNO(&p) != HPE_OK || done == 0) {
			n = -1;
		}
	}
	evbuffer_free(r.body), evbuffer_free(r.out);
	return n;
}
