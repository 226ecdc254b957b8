/* logd's configuration (packages/logd/conf.h): the servers and limits it accepts, and the errors
 * that name the line of what it refuses. */
#include <errno.h>
#include <string.h>

#include "conf.h"
#include "tap.h"

static int parse(const char *text, struct logd_conf *c, struct diag *d)
{
	*d = (struct diag){0};
	return logd_conf_parse("logd.conf", text, strlen(text), c, d);
}

static void test_servers(void)
{
	struct logd_conf c;
	struct diag d;
	int r = parse("# forwarding\nserver = tcp://192.0.2.1:1514\nserver = tls://logs.example\n"
		      "server = udp://[2001:db8::1]\nca = /etc/logd/ca.pem\nlog-size = 65536\n", &c, &d);

	ok(r == 0 && c.nservers == 3, "three servers parse (%s)", d.msg);
	ok(r == 0 && c.server[0].proto == LOGD_TCP && strcmp(c.server[0].host, "192.0.2.1") == 0 &&
	   strcmp(c.server[0].port, "1514") == 0, "tcp://host:port");
	ok(r == 0 && c.server[1].proto == LOGD_TLS && strcmp(c.server[1].port, "6514") == 0,
	   "tls:// without a port is 6514");
	ok(r == 0 && c.server[2].proto == LOGD_UDP && strcmp(c.server[2].host, "2001:db8::1") == 0 &&
	   strcmp(c.server[2].port, "514") == 0, "udp://[v6] without a port is 514");
	ok(r == 0 && strcmp(c.ca, "/etc/logd/ca.pem") == 0 && c.log_size == 65536 && c.queue_size == 1 << 20,
	   "ca, log-size, and the default queue-size");
	r = parse("", &c, &d);
	ok(r == 0 && c.nservers == 0 && c.log_size == 1 << 20, "an empty file: no servers, default limits");
}

static void test_refused(void)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{"server = http://x\n", "udp://HOST"},
		{"server = tcp://\n", "not a host"},
		{"server = tcp://a b\n", "not a host"},
		{"server = tcp://h:0\n", "1 to 65535"},
		{"server = tcp://h:99999\n", "1 to 65535"},
		{"server = tcp://h:\n", "1 to 65535"},
		{"server = tcp://2001:db8::1\n", "1 to 65535"},
		{"server = udp://[2001:db8::1\n", "brackets"},
		{"ca = relative.pem\n", "absolute path"},
		{"log-size = 12\n", "4096"},
		{"queue-size = -5\n", "4096"},
		{"queue-size = 1k\n", "4096"},
		{"servers = tcp://h\n", "servers"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct logd_conf c;
		struct diag d;
		int r = parse(bad[i].text, &c, &d);
		ok(r == -EINVAL && strstr(d.msg, bad[i].says) && strstr(d.msg, "logd.conf:1"),
		   "refused with its line: %.*s -> %s", (int)strcspn(bad[i].text, "\n"), bad[i].text, d.msg);
	}
}

static void test_too_many(void)
{
	char text[1024] = "";
	struct logd_conf c;
	struct diag d;

	for (int i = 0; i <= LOGD_SERVERS_MAX; i++)
		strcat(text, "server = udp://h\n");
	ok(parse(text, &c, &d) == -EINVAL && strstr(d.msg, "at most"), "more than %d servers: refused (%s)",
	   LOGD_SERVERS_MAX, d.msg);
}

int main(void)
{
	test_servers();
	test_refused();
	test_too_many();
	return tap_done();
}
