/* hostctl's reading of an HTTP/1.1 answer: the head (status line and headers) and a chunked
 * body's framing. Pure functions on bytes: hostctl's I/O feeds them (http.c), the unit tests and
 * tests/fuzz/fuzz-hostctl.c too. */
#ifndef HOSTCTL_RESP_H
#define HOSTCTL_RESP_H

#include <stdbool.h>
#include <stddef.h>

/* What the head says. */
struct http_head {
	int status;          /* 100..599 */
	char reason[64];     /* the status line's text, cut to fit */
	long long length;    /* Content-Length, -1 when absent */
	bool chunked;        /* Transfer-Encoding: chunked */
	char type[64];       /* Content-Type without parameters, lower case ("" none) */
};

/* Parse a head of len bytes (up to and without the empty line that ends it; lines end in CRLF
 * or LF). 0, or -1 when it is not an HTTP/1.x answer or a header is bad. */
int http_head_parse(const char *buf, size_t len, struct http_head *h);

/* A chunked body's decoder: fed the bytes as they come, it hands out the data. */
struct chunked {
	int state;
	unsigned long long left; /* of the current chunk */
	unsigned linelen;        /* of the size or trailer line read so far */
};

/* Called with each piece of data; non-zero stops the decoding (chunked_feed returns -2). */
typedef int (*chunk_out)(void *arg, const char *data, size_t n);

/* Feed n bytes: 0 when more are needed, 1 at the end of the body (*used: the bytes of in that
 * were the body's), -1 on bad framing, -2 when out refused. */
int chunked_feed(struct chunked *c, const char *in, size_t n, size_t *used, chunk_out out, void *arg);

#endif
