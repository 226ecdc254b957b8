/* hostctl's pure parts: the command line, datastore paths in URLs, the body of `config set`,
 * the tables, the HTTP answer's head and chunked framing. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "resp.h"
#include "table.h"
#include "tap.h"

static int parse(struct args *a, char *err, const char *line)
{
	static char buf[512];
	static char *argv[32];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *s = strtok(buf, " "); s && argc < 31; s = strtok(NULL, " "))
		argv[argc++] = s;
	argv[argc] = NULL;
	return args_parse(argc, argv, a, err, 200);
}

static void test_args(void)
{
	struct args a;
	char err[200];

	ok(parse(&a, err, "hostctl --host esx-01 --user admin --json vms list") == 0 && a.json && strcmp(a.host, "esx-01") == 0 &&
		   strcmp(a.user, "admin") == 0 && a.npos == 2 && strcmp(a.pos[0], "vms") == 0 && strcmp(a.pos[1], "list") == 0,
	   "args: global options before the command, the command's words after");
	ok(parse(&a, err, "hostctl vms create web-1 --memory 512 --cpus 2 --kernel vms/bz --disk a.img --disk b.img --autostart --json") == 0 &&
		   a.memory == 512 && a.cpus == 2 && strcmp(a.kernel, "vms/bz") == 0 && a.ndisks == 2 &&
		   strcmp(a.disk[1], "b.img") == 0 && a.autostart && a.json && a.npos == 3 && strcmp(a.pos[2], "web-1") == 0 &&
		   a.set == (O_MEMORY | O_CPUS | O_KERNEL | O_DISK | O_AUTOSTART),
	   "args: command options after the operands, --disk repeated, which were given in set");
	ok(parse(&a, err, "hostctl logs -n 50") == 0 && a.lines == 50 && a.set == O_LINES, "args: logs -n 50");
	ok(parse(&a, err, "hostctl --colour red health") == -1 && strstr(err, "unknown option '--colour'"),
	   "args: an unknown option is named (%s)", err);
	ok(parse(&a, err, "hostctl health --host") == -1 && strstr(err, "'--host' needs a value"),
	   "args: an option without its value is named (%s)", err);
	ok(parse(&a, err, "hostctl vms create x --memory 12k") == -1 && strstr(err, "--memory '12k'"),
	   "args: a bad number is refused with the option named (%s)", err);
	ok(parse(&a, err, "hostctl vms create x --cpus 0") == -1, "args: --cpus 0 is refused");
	ok(parse(&a, err, "hostctl -- datastore rm --odd-name") == 0 && a.npos == 3 && strcmp(a.pos[2], "--odd-name") == 0,
	   "args: after -- every word is an operand");
	ok(strcmp(args_option_name(O_ROLE), "role") == 0, "args: O_ROLE is --role");
}

static void test_host_port(void)
{
	char h[64], p[8];

	ok(host_port("esx-01", h, sizeof(h), p, sizeof(p)) == 0 && strcmp(h, "esx-01") == 0 && strcmp(p, "443") == 0,
	   "host: the port is 443 by default");
	ok(host_port("192.0.2.10:8443", h, sizeof(h), p, sizeof(p)) == 0 && strcmp(h, "192.0.2.10") == 0 && strcmp(p, "8443") == 0,
	   "host: HOST:PORT");
	ok(host_port("[2001:db8::1]:8443", h, sizeof(h), p, sizeof(p)) == 0 && strcmp(h, "2001:db8::1") == 0 && strcmp(p, "8443") == 0,
	   "host: [IPv6]:PORT");
	ok(host_port("2001:db8::1", h, sizeof(h), p, sizeof(p)) == 0 && strcmp(h, "2001:db8::1") == 0 && strcmp(p, "443") == 0,
	   "host: a bare IPv6 address");
	ok(host_port("esx:0", h, sizeof(h), p, sizeof(p)) == -1 && host_port("esx:https", h, sizeof(h), p, sizeof(p)) == -1 &&
		   host_port(":443", h, sizeof(h), p, sizeof(p)) == -1 && host_port("[::1", h, sizeof(h), p, sizeof(p)) == -1,
	   "host: port 0, a port name, no host and an open bracket are refused");
}

static void test_urls(void)
{
	char *u;

	u = datastore_url("/vms/web 1/disk.img");
	ok(strcmp(u, "/api/datastore/vms/web%201/disk.img") == 0, "url: leading slash dropped, blank encoded (%s)", u);
	free(u);
	u = datastore_url("a?b#c%d&\xc3\xa4");
	ok(strcmp(u, "/api/datastore/a%3Fb%23c%25d%26%C3%A4") == 0, "url: ? # %% & and UTF-8 encoded (%s)", u);
	free(u);
	u = datastore_url("");
	ok(strcmp(u, "/api/datastore/") == 0, "url: the top of the datastore");
	free(u);
	u = url_name("a/b c");
	ok(strcmp(u, "a%2Fb%20c") == 0, "url: a name is one segment, its / encoded (%s)", u);
	free(u);
}

static void test_config(void)
{
	char *kv[] = { "hostname=h1", "syslog=tcp://192.0.2.1:514", "ntp=pool.example, 192.0.2.123", "dns-search=" };
	char *twice[] = { "hostname=a", "hostname=b" }, *noeq[] = { "hostname" };
	char err[200] = "";
	json_t *o = config_patch(kv, 4, err, sizeof(err));
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	ok(s && strcmp(s, "{\"hostname\":\"h1\",\"syslog\":[\"tcp://192.0.2.1:514\"],\"ntp\":[\"pool.example\",\"192.0.2.123\"],"
			  "\"dns-search\":[]}") == 0,
	   "config set: the issue's example as JSON, lists as arrays (%s)", s ? s : err);
	free(s);
	json_decref(o);
	ok(!config_patch(twice, 2, err, sizeof(err)) && strstr(err, "hostname is given twice"), "config set: a key twice (%s)", err);
	ok(!config_patch(noeq, 1, err, sizeof(err)) && strstr(err, "'hostname' is not KEY=VALUE"), "config set: no '=' (%s)", err);
	ok(config_list_key("ntp-servers") && !config_list_key("hostname"), "config set: which keys are lists");
}

static char *printed(const char *json)
{
	json_t *v = json_loads(json, 0, NULL);
	char *out = NULL;
	size_t n;
	FILE *f = open_memstream(&out, &n);

	table_print(f, v);
	fclose(f);
	json_decref(v);
	return out;
}

static void test_tables(void)
{
	char *s;

	s = printed("{\"hostname\":\"esx-01\",\"cpus\":8,\"memory\":34359738368,\"up\":true,\"dns\":[\"a\",\"b\"],"
		    "\"nics\":[{\"name\":\"eth0\",\"up\":true,\"addresses\":[\"10.0.2.15/24\"]},{\"name\":\"eth1\",\"driver\":\"e1000\"}]}");
	ok(strcmp(s, "hostname  esx-01\ncpus      8\nmemory    34359738368 (32.0 GiB)\nup        yes\ndns       a, b\n\nnics:\n"
		     "NAME  UP   ADDRESSES     DRIVER\neth0  yes  10.0.2.15/24  \neth1                     e1000\n") == 0,
	   "table: an object's values aligned, sizes in units, a list of objects under its name:\n%s", s);
	free(s);
	s = printed("[{\"name\":\"web-1\",\"state\":\"running\",\"memory_mib\":512},{\"name\":\"db\",\"state\":\"stopped\",\"memory_mib\":2048}]");
	ok(strcmp(s, "NAME   STATE    MEMORY_MIB\nweb-1  running  512\ndb     stopped  2048\n") == 0, "table: a list, headed:\n%s", s);
	free(s);
	s = printed("{\"name\":\"a\\u001b[2Jb\",\"x\":null,\"o\":{\"k\":1}}");
	ok(strcmp(s, "name  a?[2Jb\nx     -\no     {\"k\":1}\n") == 0, "table: control characters shown as ?, null as -, an object as JSON:\n%s", s);
	free(s);
	s = printed("[\"line 1\",\"line 2\"]");
	ok(strcmp(s, "line 1\nline 2\n") == 0, "table: a list of strings one a line");
	free(s);
}

static int collect(void *arg, const char *p, size_t n)
{
	strncat(arg, p, n);
	return 0;
}

static void test_resp(void)
{
	struct http_head h;
	const char *head = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 42\r\nX-Other: y";
	const char *body = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
	struct chunked c = { 0 };
	char out[64] = "";
	size_t used = 0, total = 0;
	int r = 0;

	ok(http_head_parse(head, strlen(head), &h) == 0 && h.status == 400 && h.length == 42 && !h.chunked &&
		   strcmp(h.type, "application/json") == 0 && strcmp(h.reason, "Bad Request") == 0,
	   "head: status, reason, length and type");
	ok(http_head_parse("HTTP/1.1 200 OK\nTransfer-Encoding: chunked", 42, &h) == 0 && h.chunked && h.length == -1,
	   "head: chunked, LF line ends");
	ok(http_head_parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2", 52, &h) == -1,
	   "head: two different lengths are refused");
	ok(http_head_parse("SSH-2.0-OpenSSH", 15, &h) == -1 && http_head_parse("HTTP/1.1 20 OK", 14, &h) == -1 &&
		   http_head_parse("HTTP/1.1 200 OK\r\nno colon", 26, &h) == -1 && http_head_parse("HTTP/1.1 200 OK\r\nContent-Length: -1", 35, &h) == -1,
	   "head: not HTTP, a short status, a header without colon, a negative length are refused");
	/* byte by byte: the framing across every split */
	for (size_t i = 0; i < strlen(body) && r == 0; i++) {
		r = chunked_feed(&c, body + i, 1, &used, collect, out);
		total += used;
	}
	ok(r == 1 && strcmp(out, "hello, world") == 0 && total == strlen(body) - 4, "chunked: decoded byte by byte, stops at its end (%s)", out);
	memset(&c, 0, sizeof(c));
	out[0] = '\0';
	ok(chunked_feed(&c, "5\r\nhelloXX", 10, &used, collect, out) == -1, "chunked: a chunk without its CRLF is refused");
	memset(&c, 0, sizeof(c));
	ok(chunked_feed(&c, "zz\r\n", 4, &used, collect, out) == -1, "chunked: a size not in hex is refused");
	memset(&c, 0, sizeof(c));
	ok(chunked_feed(&c, "1234567890abcdef0\r\n", 19, &used, collect, out) == -1, "chunked: a size over 15 hex digits is refused");
}

int main(void)
{
	test_args();
	test_host_port();
	test_urls();
	test_config();
	test_tables();
	test_resp();
	return tap_done();
}
