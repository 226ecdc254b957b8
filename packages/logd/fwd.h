/* Forwarding to one syslog server (RFC 5424 messages; over TCP and TLS framed by octet counting,
 * RFC 6587 and RFC 5425): a bounded queue that holds what is logged while the server is
 * unreachable, reconnection with back-off (1 s doubling to 30 s), and TLS with the server's
 * certificate checked against the configured CA and its name or address. One poll() loop drives
 * every server (logd.c): nothing here blocks, except resolving the server's name. */
#ifndef LOGD_FWD_H
#define LOGD_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

#include "conf.h"

struct frame;

enum fwd_state { FWD_DOWN, FWD_CONNECTING, FWD_HANDSHAKE, FWD_UP };

struct fwd {
	struct logd_url url;
	SSL_CTX *ctx;              /* for tls://; not owned; NULL when no CA is configured */
	int fd;
	SSL *ssl;
	enum fwd_state state;
	double retry_at;           /* when a DOWN server is tried again (CLOCK_MONOTONIC seconds) */
	int backoff;               /* seconds */
	struct frame *head, *tail; /* oldest first */
	size_t bytes, limit, off;  /* queued bytes, their limit, bytes of head already sent */
	unsigned long dropped;     /* lines dropped from a full queue since the server was last up */
	bool was_up;               /* reached at least once, or since the last note */
	char note[512];            /* a change worth logging (reachable again, unreachable), or "" */
};

/* limit: bytes kept while unreachable. ctx: for tls:// (may be NULL: then it stays down, saying why). */
void fwd_init(struct fwd *f, const struct logd_url *url, SSL_CTX *ctx, size_t limit);
void fwd_free(struct fwd *f);
/* Queue one message (without a newline); the oldest are dropped beyond the limit. */
void fwd_push(struct fwd *f, const char *msg, size_t len);
/* What to poll: *fd (-1: nothing) and *events; *wait_ms lowered to when a retry is due. */
void fwd_poll_setup(struct fwd *f, double now, int *fd, short *events, int *wait_ms);
/* Drive the connection after poll() (revents 0 when its fd was not polled or nothing happened).
 * f->note is set when something changed that the host's log should say. */
void fwd_run(struct fwd *f, short revents, double now);
/* Whether everything queued has been sent. */
bool fwd_idle(const struct fwd *f);

#endif
