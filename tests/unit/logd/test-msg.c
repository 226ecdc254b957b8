/* logd's messages (packages/logd/msg.h): what glibc's syslog(), busybox's logger, RFC 5424
 * senders and the kernel hand it, and the lines it writes for the servers and the host's log. */
#include <string.h>

#include "msg.h"
#include "tap.h"

static const struct timespec when = {1796067803, 123456789}; /* 2026-11-30T19:43:23.123456789Z */

static void parse(const char *in, struct logmsg *m)
{
	logmsg_parse_dgram(in, strlen(in), &when, m);
}

static void test_rfc3164_from_glibc(void)
{
	struct logmsg m;

	parse("<30>Nov 30 19:43:23 sshd[412]: Accepted password for root\n", &m);
	ok(m.pri == 30 && strcmp(m.app, "sshd") == 0 && strcmp(m.procid, "412") == 0 &&
	   strcmp(m.text, "Accepted password for root") == 0,
	   "3164: priority, tag, pid and text of a glibc syslog() datagram (%d '%s' '%s' '%s')", m.pri, m.app,
	   m.procid, m.text);
	parse("<13>Nov 30 19:43:23 root: hello", &m);
	ok(strcmp(m.app, "root") == 0 && strcmp(m.procid, "-") == 0 && strcmp(m.text, "hello") == 0,
	   "3164: a tag without a pid (busybox logger)");
	parse("no priority and no tag at all", &m);
	ok(m.pri == 13 && strcmp(m.app, "-") == 0 && strcmp(m.text, "no priority and no tag at all") == 0,
	   "no <PRI>: user.notice, and a line without a tag is all text");
	parse("<999>x: y", &m);
	ok(m.pri == 13 && strcmp(m.app, "<999>x") == 0 && strcmp(m.text, "y") == 0,
	   "a priority above 191 is not one: user.notice, the rest parsed as a line without one");
}

static void test_rfc5424_in(void)
{
	struct logmsg m;

	parse("<165>1 2003-10-11T22:14:15.003Z mymachine evntslog 77 ID47 [exampleSDID@32473 iut=\"3\" "
	      "eventSource=\"App\\]x\"] \xef\xbb\xbf" "An application event", &m);
	ok(m.pri == 165 && strcmp(m.app, "evntslog") == 0 && strcmp(m.procid, "77") == 0 &&
	   strcmp(m.text, "An application event") == 0,
	   "5424: app, procid and text after structured data with an escaped ']' and the BOM ('%s')", m.text);
	parse("<14>1 - - app - - - plain", &m);
	ok(strcmp(m.app, "app") == 0 && strcmp(m.procid, "-") == 0 && strcmp(m.text, "plain") == 0,
	   "5424: nil fields");
	parse("<14>1 ", &m);
	ok(strcmp(m.app, "-") == 0 && m.text[0] == '\0', "5424: a header cut short leaves empty fields, no crash");
}

static void test_control_characters(void)
{
	struct logmsg m;

	parse("<13>t: a\x1b[31mred\ttab\x7f", &m);
	ok(strchr(m.text, '\x1b') == NULL && strchr(m.text, '\t') == NULL && strchr(m.text, '\x7f') == NULL,
	   "control characters become blanks (no terminal escapes into the log): '%s'", m.text);
}

static void test_kmsg(void)
{
	struct timespec boot = {1796067800, 900000000};
	struct logmsg m;
	const char rec[] = "6,1234,2500000,-;virtio_net virtio0 eth0: link up\n SUBSYSTEM=virtio\n";

	ok(logmsg_parse_kmsg(rec, sizeof(rec) - 1, &boot, &m) == 0 && m.pri == 6 && strcmp(m.app, "kernel") == 0 &&
	   strcmp(m.text, "virtio_net virtio0 eth0: link up") == 0 && m.ts.tv_sec == 1796067803 &&
	   m.ts.tv_nsec == 400000000,
	   "kmsg: priority, text without the dictionary lines, dated boot + 2.5 s (%ld.%09ld)", (long)m.ts.tv_sec,
	   m.ts.tv_nsec);
	ok(logmsg_parse_kmsg("garbage", 7, &boot, &m) == -1, "kmsg: a record without ';' is refused");
}

static void test_format(void)
{
	struct logmsg m;
	char out[512];
	size_t n;

	parse("<30>Nov 30 19:43:23 sshd[412]: Accepted", &m);
	n = logmsg_format_5424(&m, "esx-01", out, sizeof(out));
	ok(strcmp(out, "<30>1 2026-11-30T19:43:23.123456Z esx-01 sshd 412 - - Accepted") == 0 && n == strlen(out),
	   "RFC 5424 out: '%s'", out);
	n = logmsg_format_5424(&m, "", out, sizeof(out));
	ok(strstr(out, "Z - sshd") != NULL, "RFC 5424 out: no host name is '-'");
	n = logmsg_format_local(&m, out, sizeof(out));
	ok(strcmp(out, "2026-11-30T19:43:23.123Z daemon.info sshd[412]: Accepted\n") == 0 && n == strlen(out),
	   "the host's log line: '%.*s'", (int)strcspn(out, "\n"), out);
	n = logmsg_format_5424(&m, "esx-01", out, 16);
	ok(n == 15 && strlen(out) == 15, "a short buffer: cut like snprintf, the length says so");
}

int main(void)
{
	test_rfc3164_from_glibc();
	test_rfc5424_in();
	test_control_characters();
	test_kmsg();
	test_format();
	return tap_done();
}
