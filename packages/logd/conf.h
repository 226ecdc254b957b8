/* logd's configuration file (docs/logd.md): the servers it forwards to and its limits. The
 * "key = value" format of lib/kv.h:
 *
 *   server = tcp://192.0.2.1:514     (repeatable; udp://, tcp:// or tls://; the port defaults
 *   server = tls://logs.example      to 514, or 6514 for tls; an IPv6 address in brackets)
 *   ca = /etc/logd/ca.pem            (the CA certificates a tls:// server must chain to)
 *   log-size = 1048576               (bytes of /var/log/messages before it is rotated)
 *   queue-size = 1048576             (bytes kept per server while it is unreachable)
 */
#ifndef LOGD_CONF_H
#define LOGD_CONF_H

#include <stddef.h>

#include "diag.h"

#define LOGD_SERVERS_MAX 8

enum logd_proto { LOGD_UDP, LOGD_TCP, LOGD_TLS };

struct logd_url {
	enum logd_proto proto;
	char host[256];
	char port[8];
	char text[300];  /* as written, for messages */
};

struct logd_conf {
	struct logd_url server[LOGD_SERVERS_MAX];
	size_t nservers;
	char ca[256];          /* "" when not set */
	size_t log_size, queue_size;
};

/* Parse one URL. 0, or -EINVAL with *why. */
int logd_url_parse(const char *s, struct logd_url *ret, const char **why);
/* Parse the file's text (from path, for messages). 0, or -EINVAL with d naming the line. The
 * defaults apply to what the text leaves out. */
int logd_conf_parse(const char *path, const char *text, size_t len, struct logd_conf *ret, struct diag *d);

#endif
