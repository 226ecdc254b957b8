#define _GNU_SOURCE
#include "msg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRI_DEFAULT 13 /* user.notice, as syslog daemons take a message without one */

/* "<N>" with N in 0..191; advances *s past it. */
static int parse_pri(const char **s, const char *e)
{
	const char *p = *s + 1;
	int v = 0, digits = 0;

	if (*s >= e || **s != '<')
		return PRI_DEFAULT;
	while (p < e && isdigit((unsigned char)*p) && digits < 3)
		v = v * 10 + (*p++ - '0'), digits++;
	if (!digits || p >= e || *p != '>' || v > 191)
		return PRI_DEFAULT;
	*s = p + 1;
	return v;
}

/* Copy [s, e) into out (size bytes), control characters made blanks, trailing blanks dropped. */
static void copy_text(char *out, size_t size, const char *s, const char *e)
{
	size_t n = 0;

	for (; s < e && n + 1 < size; s++)
		out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* Copy a field of printable ASCII without blanks, at most size - 1 bytes; "-" when empty. */
static void copy_field(char *out, size_t size, const char *s, const char *e)
{
	size_t n = 0;

	for (; s < e && n + 1 < size; s++)
		if (*s > 0x20 && *s < 0x7f)
			out[n++] = *s;
	if (!n)
		out[n++] = '-';
	out[n] = '\0';
}

/* The next blank-separated token of [*s, e); advances past it and one blank. */
static void token(const char **s, const char *e, const char **ts, const char **te)
{
	*ts = *s;
	while (*s < e && **s != ' ')
		(*s)++;
	*te = *s;
	if (*s < e)
		(*s)++;
}

/* RFC 5424 structured data: "-" or one or more "[...]" (']' and '"' escaped by '\' inside). */
static void skip_sd(const char **s, const char *e)
{
	const char *p = *s;

	if (p < e && *p == '-') {
		*s = p + 1;
	} else {
		while (p < e && *p == '[') {
			for (p++; p < e && *p != ']'; p++)
				if (*p == '\\' && p + 1 < e)
					p++;
			if (p < e)
				p++;
		}
		*s = p;
	}
	if (*s < e && **s == ' ')
		(*s)++;
}

static void parse_5424(const char *s, const char *e, struct logmsg *m)
{
	const char *ts, *te;

	token(&s, e, &ts, &te); /* the sender's TIMESTAMP: logd dates messages when it receives them */
	token(&s, e, &ts, &te); /* HOSTNAME: this host's, from a local socket */
	token(&s, e, &ts, &te);
	copy_field(m->app, sizeof(m->app), ts, te);
	token(&s, e, &ts, &te);
	copy_field(m->procid, sizeof(m->procid), ts, te);
	token(&s, e, &ts, &te); /* MSGID */
	skip_sd(&s, e);
	if (e - s >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3; /* the UTF-8 BOM */
	copy_text(m->text, sizeof(m->text), s, e);
}

/* "Mmm dd hh:mm:ss " at s (RFC 3164's TIMESTAMP)? */
static int is_3164_time(const char *s, const char *e)
{
	return e - s >= 16 && isalpha((unsigned char)s[0]) && s[3] == ' ' && s[6] == ' ' && s[9] == ':' &&
	       s[12] == ':' && s[15] == ' ';
}

static void parse_3164(const char *s, const char *e, struct logmsg *m)
{
	const char *tag = s, *t = s;

	if (is_3164_time(s, e))
		tag = t = s + 16;
	while (t < e && t - tag < 48 && *t != ':' && *t != '[' && *t != ' ')
		t++;
	if (t < e && *t == '[') {
		const char *pid = t + 1, *close = memchr(pid, ']', (size_t)(e - pid));
		if (close && close + 1 < e && close[1] == ':') {
			copy_field(m->app, sizeof(m->app), tag, t);
			copy_field(m->procid, sizeof(m->procid), pid, close);
			s = close + 2;
		}
	} else if (t < e && *t == ':' && t > tag) {
		copy_field(m->app, sizeof(m->app), tag, t);
		s = t + 1;
	} else {
		s = tag;
	}
	if (s < e && *s == ' ')
		s++;
	copy_text(m->text, sizeof(m->text), s, e);
}

void logmsg_parse_dgram(const char *buf, size_t len, const struct timespec *now, struct logmsg *m)
{
	const char *s = buf, *e = buf + len;

	while (e > s && (e[-1] == '\n' || e[-1] == '\0'))
		e--;
	*m = (struct logmsg){.ts = *now, .app = "-", .procid = "-"};
	m->pri = parse_pri(&s, e);
	if (e - s >= 2 && s[0] == '1' && s[1] == ' ')
		parse_5424(s + 2, e, m);
	else
		parse_3164(s, e, m);
}

int logmsg_parse_kmsg(const char *buf, size_t len, const struct timespec *boot, struct logmsg *m)
{
	const char *e = buf + len, *semi = memchr(buf, ';', len), *nl;
	unsigned long long usec = 0;
	char head[64]; /* the fields before ';', NUL-terminated for sscanf (buf is not) */
	int pri = 0;

	if (!semi || (size_t)(semi - buf) >= sizeof(head))
		return -1;
	memcpy(head, buf, (size_t)(semi - buf));
	head[semi - buf] = '\0';
	if (sscanf(head, "%d,%*u,%llu", &pri, &usec) != 2 || pri < 0)
		return -1;
	nl = memchr(semi, '\n', (size_t)(e - semi));
	*m = (struct logmsg){.pri = pri & 0x3ff, .app = "kernel", .procid = "-"};
	if (m->pri > 191)
		m->pri = 191;
	m->ts.tv_sec = boot->tv_sec + (time_t)(usec / 1000000);
	m->ts.tv_nsec = boot->tv_nsec + (long)(usec % 1000000) * 1000;
	if (m->ts.tv_nsec >= 1000000000)
		m->ts.tv_sec++, m->ts.tv_nsec -= 1000000000;
	copy_text(m->text, sizeof(m->text), semi + 1, nl ? nl : e);
	return 0;
}

static void utc(const struct timespec *ts, char *out, size_t size, int digits)
{
	struct tm tm;
	char frac[32];
	long ns = ts->tv_nsec < 0 || ts->tv_nsec > 999999999 ? 0 : ts->tv_nsec;

	gmtime_r(&ts->tv_sec, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(frac, sizeof(frac), ".%0*ldZ", digits, ns / (digits == 6 ? 1000 : 1000000));
	strncat(out, frac, size - strlen(out) - 1);
}

static size_t clamp(int n, size_t size)
{
	return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

size_t logmsg_format_5424(const struct logmsg *m, const char *host, char *out, size_t size)
{
	char when[48], h[256];

	utc(&m->ts, when, sizeof(when), 6);
	copy_field(h, sizeof(h), host, host + strlen(host));
	return clamp(snprintf(out, size, "<%d>1 %s %s %s %s - - %s", m->pri, when, h, m->app, m->procid, m->text),
		     size);
}

static const char *const facilities[24] = {"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
					   "uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
					   "local0", "local1", "local2", "local3", "local4", "local5", "local6",
					   "local7"};
static const char *const severities[8] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

size_t logmsg_format_local(const struct logmsg *m, char *out, size_t size)
{
	char when[48], pid[24] = "";

	utc(&m->ts, when, sizeof(when), 3);
	if (strcmp(m->procid, "-") != 0)
		snprintf(pid, sizeof(pid), "[%s]", m->procid);
	return clamp(snprintf(out, size, "%s %s.%s %s%s: %s\n", when, facilities[(m->pri >> 3) % 24],
			      severities[m->pri & 7], m->app, pid, m->text), size);
}
