/* Log messages as logd receives them (a /dev/log datagram, a /dev/kmsg record) and writes them
 * (RFC 5424 for the servers, one line per message for the host's own log). */
#ifndef LOGD_MSG_H
#define LOGD_MSG_H

#include <stddef.h>
#include <time.h>

#define LOGMSG_TEXT 2048 /* longer messages are cut */

struct logmsg {
	int pri;                  /* facility * 8 + severity */
	struct timespec ts;       /* when logd received it (UTC) */
	char app[49];             /* RFC 5424 APP-NAME: printable ASCII, no blank; "-" when unknown */
	char procid[17];          /* the sender's pid, or "-" */
	char text[LOGMSG_TEXT];   /* printable, without a trailing newline */
};

/* A datagram from /dev/log: "<PRI>" then an RFC 3164 body ("Mmm dd hh:mm:ss tag[pid]: text",
 * as glibc's syslog() and busybox's logger send) or an RFC 5424 one ("1 TIMESTAMP HOST APP
 * PROCID MSGID SD text"). Lenient as syslog daemons are: no "<PRI>" means user.notice, and a
 * line with no tag is all text. now is the receive time. */
void logmsg_parse_dgram(const char *buf, size_t len, const struct timespec *now, struct logmsg *m);
/* A record read from /dev/kmsg: "PRI,SEQ,USEC,FLAGS;text" (continuation lines after the first
 * newline are dropped). boot is the wall-clock time of boot, to date it. -1 when it is not one. */
int logmsg_parse_kmsg(const char *buf, size_t len, const struct timespec *boot, struct logmsg *m);
/* "<PRI>1 2026-11-30T20:00:00.123456Z HOST APP PROCID - - text", no newline. Returns the length
 * (cut to size - 1, like snprintf). */
size_t logmsg_format_5424(const struct logmsg *m, const char *host, char *out, size_t size);
/* The host's own log line: "2026-11-30T20:00:00.123Z user.info app[pid]: text\n". */
size_t logmsg_format_local(const struct logmsg *m, char *out, size_t size);

#endif
