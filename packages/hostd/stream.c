/* hostd's request bodies that do not fit in memory (POST /api/banks/stage, PUT /api/datastore/
 * PATH). libevent 2.1's evhttp reads a server request's whole body into memory before it calls
 * the handler, and has no hook (2.2's evhttp_set_newreqcb) to take it as it arrives. So each
 * connection's bufferevent is wrapped in a filter (bufferevent_filter_new) that reads the request
 * heads itself (api_head_parse): for a STREAM route with a Content-Length it authenticates the
 * caller, writes the body to a file under hd->spool as it arrives (never more than a read's worth
 * in memory), fsyncs it, and only then hands evhttp the head with "Content-Length: 0"; the handler
 * finds the file with stream_take(). Other requests pass through unchanged. Hand-written because
 * no library of the image does this for evhttp 2.1. */
#define _GNU_SOURCE
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <unistd.h>

#include "hostd.h"
#include "util.h"

enum state {
	HEAD,    /* reading a request head */
	SPOOL,   /* writing a body to the spool file; the head is held */
	SKIP,    /* passing a body on to evhttp */
	DISCARD, /* dropping a body (refused: evhttp has the head already) */
	PASS,    /* passing everything on (a chunked body, a head we cannot read) */
	REFUSED, /* over STREAM_MAX_CONNS: answered 503 here, the rest dropped */
};

/* Connections at once; more are answered 503 (evhttp 2.1 has no such limit of its own). */
#define STREAM_MAX_CONNS 64

struct conn {
	struct conn *next;
	struct endpoint *ep;
	struct bufferevent *bev, *under;
	struct event *kick;    /* moves evhttp's output on to under (see out_added) */
	struct evbuffer_cb_entry *watch; /* out_added on the filter's output */
	enum state st;
	struct evbuffer *head; /* the head read, then held while spooling */
	long long left;        /* body bytes still to spool, skip or drop */
	int fd;                /* the spool file while SPOOL */
	bool decided;          /* a STREAM request's verdict is ready for its handler */
	bool too_big;          /* the request's JSON body was over API_BODY_MAX: dropped */
	struct caller who;
	struct api_error e;
	struct spool sp;
};

static struct conn *conns;
static int nconns;

static struct conn *conn_find(struct bufferevent *bev)
{
	for (struct conn *k = conns; k; k = k->next)
		if (k->bev == bev)
			return k;
	return NULL;
}

static void spool_drop(struct conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	if (k->sp.path[0])
		unlink(k->sp.path);
	k->sp.path[0] = '\0';
}

static void conn_free(void *arg)
{
	struct conn *k = arg, **p = &conns;

	while (*p && *p != k)
		p = &(*p)->next;
	if (*p)
		*p = k->next;
	nconns--;
	/* The filter is being freed: its output must not call out_added on k any more. */
	evbuffer_remove_cb_entry(bufferevent_get_output(k->bev), k->watch);
	spool_drop(k);
	evbuffer_free(k->head);
	event_free(k->kick);
	free(k);
}

/* A spool file of size bytes under hd->spool; 0 or -1 with k->e filled. */
static int spool_open(struct conn *k, long long size)
{
	struct hostd *hd = k->ep->hd;
	struct statvfs vfs;

	int r = util_mkdir_p(hd->spool, 0700);

	if (r < 0) {
		logf_(hd, LOG_ERR, "%s: %s", hd->spool, strerror(-r));
		return error_set(&k->e, 507, "no folder to hold the upload; see the host's log");
	}
	if (statvfs(hd->spool, &vfs) == 0 && (unsigned long long)size > (unsigned long long)vfs.f_bavail * vfs.f_frsize) {
		error_set(&k->e, 413, "the body is larger than the datastore's free space");
		snprintf(k->e.field, sizeof(k->e.field), "body");
		return -1;
	}
	snprintf(k->sp.path, sizeof(k->sp.path), "%s/upload.XXXXXX", hd->spool);
	if ((k->fd = mkostemp(k->sp.path, O_CLOEXEC)) < 0) {
		k->sp.path[0] = '\0';
		return error_set(&k->e, 500, "cannot make a file for the upload on the datastore; see the host's log");
	}
	k->sp.size = size;
	k->sp.err = 0;
	return 0;
}

/* The head again without Content-Length, Transfer-Encoding and Expect, with Content-Length: 0. */
static void head_rewrite(struct evbuffer *head)
{
	size_t n = evbuffer_get_length(head);
	char *text = xmalloc(n + 1), *line, *save = NULL;

	evbuffer_remove(head, text, n);
	text[n] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "\r") == 0)
			break;
		if (strncasecmp(line, "Content-Length:", 15) && strncasecmp(line, "Transfer-Encoding:", 18) &&
		    strncasecmp(line, "Expect:", 7))
			evbuffer_add_printf(head, "%s\n", line);
	}
	evbuffer_add_printf(head, "Content-Length: 0\r\n\r\n");
	free(text);
}

static void spool_finish(struct conn *k, struct evbuffer *dst);

/* The head of a STREAM route: the caller checked, the spool opened, the head held (SPOOL); or
 * refused: the head to evhttp now and the body dropped (DISCARD). */
static void stream_start(struct conn *k, const struct api_head *h, enum api_call id, struct evbuffer *dst)
{
	int fd = bufferevent_getfd(k->under);

	k->decided = true;
	k->e = (struct api_error){0};
	k->who = (struct caller){.role = HC_READ_ONLY};
	peer_of(fd, k->ep->local, k->who.peer, sizeof(k->who.peer));
	head_rewrite(k->head);
	k->left = h->length;
	if (caller_check(k->ep->hd, k->ep->local, fd, h->authorization, id, &k->who, &k->e) == 0 &&
	    spool_open(k, h->length) == 0) {
		k->st = SPOOL;
		if (k->left == 0)
			spool_finish(k, dst);
		else if (h->expect_continue)
			bufferevent_write(k->under, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		return;
	}
	evbuffer_add_buffer(dst, k->head);
	k->st = k->left ? DISCARD : HEAD;
}

/* A whole head read: where its body goes. */
static void head_done(struct conn *k, struct evbuffer *dst)
{
	size_t n = evbuffer_get_length(k->head);
	char *text = xmalloc(n + 1);
	struct api_head h;
	struct api_route rt;
	bool ok;

	evbuffer_copyout(k->head, text, n);
	text[n] = '\0';
	ok = api_head_parse(text, n, &h);
	free(text);
	rt = api_route(api_method_find(h.method), h.path);
	if (ok && rt.status == 0 && api_body_kind(rt.call) == API_BODY_STREAM && !h.chunked) {
		h.length = h.length < 0 ? 0 : h.length; /* neither Content-Length nor chunked: no body */
		return stream_start(k, &h, rt.call, dst);
	}
	k->decided = false;
	k->too_big = ok && h.length > API_BODY_MAX;
	if (k->too_big) { /* evhttp would close the connection under the filter: answered by handle() */
		head_rewrite(k->head);
		evbuffer_add_buffer(dst, k->head);
		k->left = h.length;
		k->st = DISCARD;
		return;
	}
	evbuffer_add_buffer(dst, k->head);
	k->left = ok && h.length > 0 ? h.length : 0;
	k->st = !ok || h.chunked ? PASS : k->left ? SKIP : HEAD;
}

/* Read a head out of src; false while it is not whole. */
static bool head_read(struct conn *k, struct evbuffer *src, struct evbuffer *dst)
{
	struct evbuffer_ptr end = evbuffer_search(src, "\r\n\r\n", 4, NULL);

	if (end.pos < 0) {
		if (evbuffer_get_length(src) > API_HEAD_MAX) /* evhttp refuses it */
			k->st = PASS;
		return k->st == PASS;
	}
	if ((size_t)end.pos + 4 > API_HEAD_MAX) {
		k->st = PASS;
		return true;
	}
	evbuffer_remove_buffer(src, k->head, (size_t)end.pos + 4);
	head_done(k, dst);
	return true;
}

/* Body bytes to the spool file; at its end, fsynced and the head handed on. */
static void spool_write(struct conn *k, struct evbuffer *src, struct evbuffer *dst)
{
	size_t n = evbuffer_get_length(src);
	int w;

	n = (long long)n > k->left ? (size_t)k->left : n;
	while (n > 0 && k->fd >= 0) {
		if ((w = evbuffer_write_atmost(src, k->fd, (ev_ssize_t)n)) <= 0) {
			k->sp.err = w < 0 ? errno : EIO;
			close(k->fd), k->fd = -1;
			break;
		}
		n -= (size_t)w, k->left -= w;
	}
	if (k->fd < 0 && n > 0) /* a write failed: the rest is dropped */
		evbuffer_drain(src, n), k->left -= (long long)n;
	if (k->left == 0)
		spool_finish(k, dst);
}

/* The whole body written: the file fsynced and closed, the head handed on to evhttp. */
static void spool_finish(struct conn *k, struct evbuffer *dst)
{
	if (k->fd >= 0 && fsync(k->fd) < 0)
		k->sp.err = errno;
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	evbuffer_add_buffer(dst, k->head);
	k->st = HEAD;
}

static enum bufferevent_filter_result input(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
					    enum bufferevent_flush_mode mode, void *arg)
{
	struct conn *k = arg;

	(void)limit, (void)mode;
	if (k->st == REFUSED) {
		static const char busy[] = "{\"error\": \"too many connections; try again later\"}\n";
		if (evbuffer_get_length(src) && !k->decided)
			evbuffer_add_printf(bufferevent_get_output(k->under),
					    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
					    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
					    sizeof(busy) - 1, busy);
		k->decided = true; /* answered once */
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_OK;
	}
	while (evbuffer_get_length(src) > 0) {
		size_t before = evbuffer_get_length(src), n = before;
		enum state was = k->st;
		int moved = 0;

		if (k->st == PASS) {
			evbuffer_add_buffer(dst, src);
		} else if (k->st == HEAD) {
			if (!head_read(k, src, dst))
				break;
		} else if (k->st == SPOOL) {
			spool_write(k, src, dst);
		} else {
			n = (long long)n > k->left ? (size_t)k->left : n;
			moved = k->st == SKIP ? evbuffer_remove_buffer(src, dst, n) : evbuffer_drain(src, n) == 0 ? (int)n : -1;
			if (moved > 0 && (k->left -= moved) == 0)
				k->st = HEAD;
		}
		if (k->st == was && evbuffer_get_length(src) == before)
			break; /* evhttp takes no more now (a buffer frozen while it fails a request) */
	}
	return BEV_OK;
}

static void kick(evutil_socket_t fd, short what, void *arg)
{
	struct conn *k = arg;

	(void)fd, (void)what;
	bufferevent_flush(k->bev, EV_WRITE, BEV_NORMAL); /* may free k (a reply that closes) */
}

/* evhttp adds a reply to the filter's output before it enables writing, and libevent 2.1's
 * filter moves output on only when data is added while writing is enabled or when the layer
 * below has written (a TLS layer with nothing to write never says so): the output is moved on
 * from the event loop, after evhttp has enabled writing. */
static void out_added(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *k = arg;

	(void)buf;
	if (info->n_added)
		event_active(k->kick, EV_TIMEOUT, 0);
}

/* evhttp frees a connection that closes (an error it answers itself, Connection: close) as soon
 * as the filter's output is empty, and libevent 2.1 then shuts the socket down: whatever the
 * layer below still holds would be lost. So the last byte of a reply stays in the filter until
 * the layer below has sent everything before it (TLS writes as data is added; a plain socket is
 * written here). */
static enum bufferevent_filter_result output(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
					     enum bufferevent_flush_mode mode, void *arg)
{
	struct conn *k = arg;
	size_t n = evbuffer_get_length(src);

	(void)limit, (void)mode;
	if (n > 1)
		evbuffer_remove_buffer(src, dst, n - 1);
	if (k->ep->local && evbuffer_get_length(dst))
		evbuffer_write(dst, bufferevent_getfd(k->under));
	if (evbuffer_get_length(src) == 1 && evbuffer_get_length(dst) == 0) {
		/* Everything before it has left: the last byte is written now, past the layer below
		 * (whose own write would come after evhttp has closed the connection). */
		unsigned char last;
		SSL *ssl = k->ep->local ? NULL : bufferevent_openssl_get_ssl(k->under);

		evbuffer_copyout(src, &last, 1);
		if (ssl ? SSL_write(ssl, &last, 1) == 1 : write(bufferevent_getfd(k->under), &last, 1) == 1)
			evbuffer_drain(src, 1);
		else
			evbuffer_remove_buffer(src, dst, 1); /* not now: the layer below sends it */
	}
	/* BEV_NEED_MORE: libevent calls again only when the layer below has written. */
	return evbuffer_get_length(src) ? BEV_NEED_MORE : BEV_OK;
}

struct bufferevent *stream_bev(struct endpoint *ep, struct bufferevent *under)
{
	struct conn *k = xmalloc(sizeof(*k));

	*k = (struct conn){.ep = ep, .under = under, .head = evbuffer_new(), .fd = -1};
	k->kick = event_new(bufferevent_get_base(under), -1, 0, kick, k);
	k->bev = bufferevent_filter_new(under, input, output, BEV_OPT_CLOSE_ON_FREE, conn_free, k);
	if (!k->bev) {
		evbuffer_free(k->head);
		event_free(k->kick);
		bufferevent_free(under);
		free(k);
		return NULL;
	}
	k->watch = evbuffer_add_cb(bufferevent_get_output(k->bev), out_added, k);
	k->next = conns;
	conns = k;
	if (++nconns > STREAM_MAX_CONNS)
		k->st = REFUSED;
	return k->bev;
}

static struct conn *conn_of(struct evhttp_request *req)
{
	return conn_find(evhttp_connection_get_bufferevent(evhttp_request_get_connection(req)));
}

int stream_fd(struct evhttp_request *req)
{
	struct conn *k = conn_of(req);

	return k ? bufferevent_getfd(k->under) : -1;
}

bool stream_too_big(struct evhttp_request *req)
{
	struct conn *k = conn_of(req);
	bool r = k && k->too_big;

	if (k)
		k->too_big = false;
	return r;
}

int stream_take(struct evhttp_request *req, struct caller *who, struct spool **sp, struct api_error *e)
{
	struct conn *k = conn_of(req);

	if (!k || !k->decided) {
		error_set(e, 411, "this call takes its body with a Content-Length (not chunked)");
		return -1;
	}
	k->decided = false;
	*who = k->who;
	if (k->e.status) {
		*e = k->e;
		return -1;
	}
	*sp = &k->sp;
	return 0;
}

void stream_release(struct evhttp_request *req)
{
	struct conn *k = conn_of(req);

	if (k)
		spool_drop(k);
}
