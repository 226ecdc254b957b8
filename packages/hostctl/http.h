/* hostctl's HTTP/1.1 calls to hostd: over TLS (OpenSSL, the image's one TLS library) on TCP,
 * or plain on the local UNIX socket; one call per connection; bodies streamed both ways. */
#ifndef HOSTCTL_HTTP_H
#define HOSTCTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "resp.h"

struct http_target {
	const char *socket;        /* the UNIX socket; NULL: HTTPS to host:port */
	char host[256], port[8];
	const char *server_name;   /* the name the certificate must carry; NULL: host */
	const char *ca;            /* trust this certificate file (PEM) instead of the system's */
	const char *fingerprint;   /* or accept exactly the certificate with this SHA-256 */
	bool insecure;             /* or check nothing */
	const char *auth;          /* the Authorization header's value, or NULL */
};

/* A request body: len bytes at data, or size bytes read from fd as they are sent. */
struct http_body {
	const char *type;
	const char *data;
	size_t len;
	int fd; /* -1: data */
	off_t size;
	void (*progress)(off_t sent, off_t size); /* or NULL: called as fd's bytes go out */
};

/* Where the answer goes: head() once (non-zero: stop), then data() with each piece of the body
 * (non-zero: stop). */
struct http_sink {
	int (*head)(void *arg, const struct http_head *h);
	int (*data)(void *arg, const char *p, size_t n);
	void *arg;
};

/* One call. 0 when the server answered (any status; *head says which), -1 when it could not
 * be reached or its answer broke off (err says what and what to do). */
int http_call(const struct http_target *t, const char *method, const char *path, const struct http_body *body,
	      const struct http_sink *sink, struct http_head *head, char *err, size_t errlen);

/* Connect without checking the certificate and write the server's certificate to file (PEM);
 * its SHA-256 fingerprint (AB:CD:...) in fp. 0 or -1. */
int http_fetch_cert(const struct http_target *t, const char *file, char *fp, size_t fplen, char *err, size_t errlen);

/* "Basic base64(user:password)", malloc'ed. */
char *http_basic(const char *user, const char *password);

#endif
