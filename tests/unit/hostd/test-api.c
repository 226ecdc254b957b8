/* hostd's API without the network (packages/hostd/api.h): routes and roles, the PATCH body's
 * checks (all or nothing, the field named), Basic credentials and the host's facts. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "server.h"
#include "tap.h"

static void test_routes(void)
{
	struct api_route r = api_route(API_GET, "/api/health");

	ok(r.status == 0 && r.call == API_HEALTH && !api_needs_auth(API_HEALTH), "route: GET /api/health, no credentials");
	r = api_route(API_PATCH, "/api/config");
	ok(r.status == 0 && r.call == API_CONFIG_PATCH && api_changes(r.call), "route: PATCH /api/config changes");
	r = api_route(API_PATCH, "/api/users");
	ok(r.status == 405 && strcmp(r.allow, "GET, POST") == 0, "route: PATCH /api/users is 405, Allow: GET, POST");
	r = api_route(API_PUT, "/api/users/ops/password");
	ok(r.status == 0 && r.call == API_USER_PASSWORD && r.arglen == 3 && strncmp(r.arg, "ops", 3) == 0,
	   "route: PUT /api/users/NAME/password takes NAME");
	r = api_route(API_DELETE, "/api/users/ops");
	ok(r.status == 0 && r.call == API_USER_DEL && r.arglen == 3, "route: DELETE /api/users/NAME");
	ok(api_route(API_DELETE, "/api/users/").status == 404 && api_route(API_DELETE, "/api/users//password").status == 404 &&
		   api_route(API_GET, "/api/users/ops/password").status == 405,
	   "route: an empty name is no route; GET on a PUT route is 405");
	ok(api_allowed(API_USER_ADD, HC_ADMINISTRATOR) && !api_allowed(API_USER_ADD, HC_OPERATOR) &&
		   !api_allowed(API_HOST_REBOOT, HC_OPERATOR) && api_allowed(API_LOGS, HC_READ_ONLY),
	   "roles: users and power are the administrator's; the log every role's");
	ok(api_body_kind(API_USER_ADD) == API_BODY_JSON && api_body_kind(API_USERS) == API_BODY_NONE &&
		   strcmp(api_call_name(API_USER_UNLOCK), "POST /api/users/*/unlock") == 0 && api_method_find("DELETE") == API_DELETE &&
		   api_method_find("HEAD") == API_OTHER,
	   "route: body kinds, names, methods");
	ok(api_route(API_GET, "/api/healthz").status == 404 && api_route(API_GET, "/").status == 404 &&
		   api_route(API_GET, "/api/config/").status == 404,
	   "route: other paths are 404");
	ok(api_route(API_DELETE, "/api/host").status == 405 && api_route(API_OTHER, "/api/host").status == 405,
	   "route: DELETE /api/host is 405");
	ok(api_allowed(API_CONFIG_PATCH, HC_ADMINISTRATOR) && !api_allowed(API_CONFIG_PATCH, HC_OPERATOR) &&
		   !api_allowed(API_CONFIG_PATCH, HC_READ_ONLY),
	   "roles: only an administrator patches the configuration");
	ok(api_allowed(API_CONFIG_GET, HC_READ_ONLY) && api_allowed(API_USERS, HC_READ_ONLY) &&
		   api_needs_auth(API_USERS),
	   "roles: every role reads, with credentials");
}

static int patch(const char *body, const struct hc_config *cur, struct hc_config *out, char **names,
		 struct api_error *e)
{
	return api_patch(body, strlen(body), cur, out, names, e);
}

static void test_patch_good(void)
{
	struct hc_config cur, out = {0};
	struct api_error e;
	char *names = NULL;

	hc_defaults(&cur);
	ok(patch("{\"hostname\": \"esx1\", \"dns-servers\": \"192.0.2.53\"}", &cur, &out, &names, &e) == 0 &&
		   strcmp(out.val[HC_HOSTNAME], "esx1") == 0 && strcmp(names, "hostname,dns-servers") == 0,
	   "patch: two keys set, named");
	ok(strcmp(cur.val[HC_HOSTNAME], "localhost") == 0, "patch: the current configuration is untouched");
	free(names);
	hc_free(&out);
	hc_free(&cur);
}

/* body is refused with 400 naming field; out is untouched. */
static bool refused(const char *body, const char *field)
{
	struct hc_config cur, out = {0};
	struct api_error e;
	char *names = NULL;
	bool r;

	hc_defaults(&cur);
	r = patch(body, &cur, &out, &names, &e) < 0 && e.status == 400 && strcmp(e.field, field) == 0 &&
	    out.val[0] == NULL && names == NULL;
	if (!r)
		printf("# %s: status %d field '%s' msg %s\n", body, e.status, e.field, e.msg);
	hc_free(&cur);
	return r;
}

static void test_patch_bad(void)
{
	ok(refused("{\"hostname\": \"ok\", \"colour\": \"red\"}", "colour"), "patch: an unknown key, named; none set");
	ok(refused("{\"hostname\": 5}", "hostname"), "patch: a number for a string, named");
	ok(refused("{\"hostname\": \"-bad-\"}", "hostname"), "patch: a bad host name, named");
	ok(refused("{\"network-mode\": \"static\"}", "network-mode"), "patch: static without an address (rule between keys)");
	ok(refused("[1]", "body") && refused("{}", "body") && refused("{\"a\":", "body") && refused("", "body"),
	   "patch: not an object of settings: field body");
	ok(refused("{\"hostname\": \"a\", \"hostname\": \"b\"}", "body"), "patch: a key given twice");
	ok(refused("{\"users\": []}", "users"), "patch: users are not settings");
}

static void test_patch_lists(void)
{
	struct hc_config cur, out = {0};
	struct api_error e;
	char *names = NULL;

	hc_defaults(&cur);
	ok(patch("{\"hostname\":\"h1\",\"syslog\":[\"tcp://192.0.2.1:514\"],\"ntp\":[\"pool.example\"]}", &cur, &out,
		 &names, &e) == 0 &&
		   strcmp(out.val[HC_SYSLOG], "tcp://192.0.2.1:514") == 0 && strcmp(out.val[HC_NTP], "pool.example") == 0 &&
		   strcmp(names, "hostname,syslog-servers,ntp-servers") == 0,
	   "patch: the issue's example (aliases, arrays) sets the list keys");
	free(names);
	hc_free(&out);
	hc_user_add(&cur, "ops", "read-only", "Ops-pw-123", &(struct diag){0});
	ok(patch("{\"localadmin\": [\"ops\"]}", &cur, &out, &names, &e) == 0 && strcmp(out.val[HC_LOCALADMIN], "ops") == 0,
	   "patch: localadmin takes an array of user names");
	free(names);
	hc_free(&out);
	ok(patch("{\"localadmin\": [\"ops\", \"nobody\"]}", &cur, &out, &names, &e) < 0 && e.status == 400 &&
		   strcmp(e.field, "localadmin") == 0 && strstr(e.msg, "'nobody' is no user"),
	   "patch: a localadmin member who is no user: 400, field localadmin (%s)", e.msg);
	ok(patch("{\"dns\": [\"192.0.2.53\", \"192.0.2.54\"], \"dns-search\": []}", &cur, &out, &names, &e) == 0 &&
		   strcmp(out.val[HC_DNS_SERVERS], "192.0.2.53 192.0.2.54") == 0 && strcmp(out.val[HC_DNS_SEARCH], "") == 0,
	   "patch: an array is joined with blanks; an empty one clears the list");
	free(names);
	hc_free(&out);
	hc_free(&cur);
	ok(refused("{\"ntp\": [5]}", "ntp") && refused("{\"ntp\": [\"a b\"]}", "ntp") &&
		   refused("{\"hostname\": [\"h\"]}", "hostname"),
	   "patch: a non-string item, a blank in an item, an array for a single key: refused, named");
	ok(refused("{\"ntp\": \"a\", \"ntp-servers\": \"b\"}", "ntp-servers"), "patch: a key and its alias both given");
	ok(refused("{\"dns\": [\"not-an-address\"]}", "dns"), "patch: a bad list item, named by the member given");
}

static void test_bodies(void)
{
	struct api_error e;
	json_t *o = NULL;
	const char *n, *p, *r;
	char out[16];

#define B(s) s, strlen(s)
	ok(api_user_body(B("{\"name\":\"ops\",\"password\":\"Secret-12\",\"role\":\"operator\"}"), &o, &n, &p, &r, &e) == 0 &&
		   strcmp(n, "ops") == 0 && strcmp(r, "operator") == 0,
	   "user body: name, password, role");
	json_decref(o);
	ok(api_user_body(B("{\"name\":\"ops\",\"password\":\"x\"}"), &o, &n, &p, &r, &e) == 0 && strcmp(r, "read-only") == 0,
	   "user body: the role defaults to read-only");
	json_decref(o);
	ok(api_user_body(B("{\"name\":\"ops\"}"), &o, &n, &p, &r, &e) < 0 && strcmp(e.field, "password") == 0 &&
		   api_user_body(B("{\"name\":1,\"password\":\"x\"}"), &o, &n, &p, &r, &e) < 0 && strcmp(e.field, "name") == 0 &&
		   api_user_body(B("{\"name\":\"a\",\"password\":\"x\",\"uid\":\"0\"}"), &o, &n, &p, &r, &e) < 0 &&
		   strcmp(e.field, "uid") == 0 && api_user_body(B("[]"), &o, &n, &p, &r, &e) < 0 && strcmp(e.field, "body") == 0,
	   "user body: missing, mistyped and unknown members named");
	ok(api_password_body(B("{\"password\":\"Secret-12\"}"), &o, &p, &e) == 0 && strcmp(p, "Secret-12") == 0,
	   "password body");
	json_decref(o);
	ok(api_password_body(B("{}"), &o, &p, &e) < 0 && strcmp(e.field, "password") == 0, "password body: missing");
#undef B
	ok(api_lines_param(NULL, 200) == 200 && api_lines_param("lines=5", 200) == 5 && api_lines_param("x=1&lines=7", 200) == 7 &&
		   api_lines_param("lines=0", 1) == -1 && api_lines_param("lines=5x", 1) == -1 && api_lines_param("lines=", 1) == -1 &&
		   api_lines_param("lines=-3", 1) == -1 && api_lines_param("lines=99999", 1) == -1,
	   "lines=: 1 to 10000, else refused");
	o = api_tail_json("a\nb\nc\n", 6, 2);
	ok(json_array_size(o) == 2 && strcmp(json_string_value(json_array_get(o, 0)), "b") == 0 &&
		   strcmp(json_string_value(json_array_get(o, 1)), "c") == 0,
	   "tail: the last lines");
	json_decref(o);
	o = api_tail_json("a\nb", 3, 10);
	ok(json_array_size(o) == 2, "tail: fewer lines than asked, no final newline");
	json_decref(o);
	ok(api_arg_decode("a%20b", 5, out, sizeof(out)) && strcmp(out, "a b") == 0 && !api_arg_decode("a%00", 4, out, 16) &&
		   !api_arg_decode("a%2", 3, out, 16) && !api_arg_decode("a%zz", 4, out, 16) &&
		   !api_arg_decode("0123456789abcdef", 16, out, 16),
	   "arg: %%-decoded; NUL, bad escapes, too long refused");
}

static void test_vm_routes(void)
{
	struct api_route r = api_route(API_POST, "/api/vms/web1/power-on");

	ok(r.status == 0 && r.call == API_VM_POWER_ON && r.arglen == 4 && !strncmp(r.arg, "web1", 4) &&
		   api_allowed(API_VM_POWER_ON, HC_OPERATOR) && !api_allowed(API_VM_POWER_ON, HC_READ_ONLY),
	   "vms: power-on with the name; an operator may, read-only not");
	r = api_route(API_GET, "/api/vms/web1/power-off");
	ok(r.status == 405 && strstr(r.allow, "POST"), "vms: GET of power-off: 405, Allow: POST");
	ok(api_route(API_GET, "/api/vms").call == API_VMS && api_route(API_POST, "/api/vms").call == API_VM_CREATE &&
		   api_route(API_GET, "/api/vms/a/console").call == API_VM_CONSOLE &&
		   api_route(API_DELETE, "/api/vms").status == 405 && api_route(API_GET, "/api/vms/a/nothing").status == 404,
	   "vms: list, create, console; DELETE of the list 405; an unknown action 404");
	ok(api_allowed(API_VM_GET, HC_READ_ONLY) && !api_allowed(API_VM_CREATE, HC_OPERATOR) &&
		   api_allowed(API_VM_DELETE, HC_ADMINISTRATOR) && api_allowed(API_VM_RESET, HC_OPERATOR),
	   "vms: roles: read-only reads, an operator powers, an administrator changes");
}

/* What srv_parse_buffer() gives a handler, kept for the checks. */
struct seen {
	int n;
	char method[16], path[256], query[64], auth[64], body[64];
	long long length;
	bool over;
};

static void each(struct sreq *r, void *arg)
{
	struct seen *s = arg;
	size_t len;
	const char *b = sreq_body(r, &len, &s->over), *q = sreq_query(r), *a = sreq_header(r, "authorization");

	s->n++;
	snprintf(s->method, sizeof(s->method), "%s", sreq_method(r));
	snprintf(s->path, sizeof(s->path), "%s", sreq_path(r));
	snprintf(s->query, sizeof(s->query), "%s", q ? q : "(none)");
	snprintf(s->auth, sizeof(s->auth), "%s", a ? a : "(none)");
	snprintf(s->body, sizeof(s->body), "%.*s", (int)len, b);
	s->length = sreq_length(r);
}

static int parse(const char *text, size_t max, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return srv_parse_buffer(text, strlen(text), max, each, s);
}

static void test_head(void)
{
	struct seen s;
	const char *put = "PUT /api/datastore/a%20b?x=1 HTTP/1.1\r\nHost: h\r\ncontent-length:  5 \r\n"
			  "Expect: 100-continue\r\nAuthorization: Basic YTpi\r\n\r\nhello";
	const char *chunked = "POST /api/banks/stage HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nGET /api/health HTTP/1.1\r\n\r\n";
	char big[SRV_HEAD_MAX + 64];

	ok(parse(put, 1024, &s) == 1 && strcmp(s.method, "PUT") == 0 && strcmp(s.path, "/api/datastore/a%20b") == 0 &&
		   strcmp(s.query, "x=1") == 0 && s.length == 5 && strcmp(s.auth, "Basic YTpi") == 0 &&
		   strcmp(s.body, "hello") == 0,
	   "server: method, path without the query, the query, Content-Length, a header by any case, the body");
	ok(parse(chunked, 1024, &s) == 2 && strcmp(s.path, "/api/health") == 0 && s.length == -1,
	   "server: a chunked body, then a second request on the same stream");
	ok(parse(chunked, 1024, &s) == 2 && parse("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 4, &s) == 1 && s.over &&
		   !s.body[0],
	   "server: a body over the limit is dropped and said");
	ok(parse("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 16, &s) == -1 &&
		   parse("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 16, &s) == -1 &&
		   parse("GET / HTTP/1.1\r\nno colon\r\n\r\n", 16, &s) == -1 && parse("BREW / HTTP/1.1\r\n\r\n", 16, &s) == -1,
	   "server: two lengths, a negative one, a line without ':', an unknown method refused");
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memcpy(big + sizeof(big) - 5, "\r\n\r\n", 5);
	ok(parse(big, 16, &s) == -1 && s.n == 0, "server: a head over SRV_HEAD_MAX refused");
}

static bool ds(const char *path, const char *parent, const char *base, bool folder)
{
	char p[4096], b[256];
	bool f;
	struct api_error e;

	return api_datastore_path(path, p, sizeof(p), b, sizeof(b), &f, &e) == 0 && strcmp(p, parent) == 0 &&
	       strcmp(b, base) == 0 && f == folder;
}

static bool ds_bad(const char *path)
{
	char p[4096], b[256];
	bool f;
	struct api_error e;

	return api_datastore_path(path, p, sizeof(p), b, sizeof(b), &f, &e) < 0 && e.status == 400 &&
	       strcmp(e.field, "path") == 0;
}

static void test_datastore_path(void)
{
	ok(ds("isos/a.iso", "isos", "a.iso", false) && ds("a", "", "a", false) && ds("", "", "", false) &&
		   ds("vm1/", "", "vm1", true) && ds("a/b/c", "a/b", "c", false) && ds("..x/.y", "..x", ".y", false),
	   "datastore path: folder and name split");
	ok(ds_bad("..") && ds_bad("a/../b") && ds_bad("/etc") && ds_bad("a//b") && ds_bad("./a") && ds_bad("a/.") &&
		   ds_bad("a\nb") && ds_bad(".hostd-spool") && ds_bad(".hostd-spool/x"),
	   "datastore path: .., absolute, empty, '.', control characters and the spool refused (field path)");
}

static void test_patch_big(void)
{
	struct hc_config cur, out = {0};
	struct api_error e;
	char *names = NULL;
	size_t n = API_BODY_MAX + 1;
	char *big = malloc(n);

	memset(big, ' ', n);
	hc_defaults(&cur);
	ok(api_patch(big, n, &cur, &out, &names, &e) < 0 && e.status == 400 && strcmp(e.field, "body") == 0,
	   "patch: a body over 1 MiB is refused");
	free(big);
	hc_free(&cur);
}

static void test_json(void)
{
	struct hc_config c;
	struct diag d;
	json_t *j;
	char *s;

	hc_defaults(&c);
	hc_user_add(&c, "ops", "operator", "S3cret-pass", &d);
	j = api_config_json(&c);
	s = json_dumps(j, 0);
	ok(json_object_size(j) == HC_NKEYS && strstr(s, "\"hostname\": \"localhost\"") && !strstr(s, "$6$"),
	   "config json: every key, no hash");
	free(s);
	json_decref(j);
	j = api_users_json(&c, (bool[]){false, true});
	s = json_dumps(j, 0);
	ok(json_array_size(j) == 2 && strstr(s, "\"role\": \"operator\"") && strstr(s, "\"password\": true") &&
		   strstr(s, "\"locked\": true") && !strstr(s, "$6$"),
	   "users json: names, roles, whether a password is set; no hash");
	free(s);
	json_decref(j);
	hc_free(&c);
}

static void test_basic(void)
{
	char u[64], p[256];

	ok(api_basic_parse("Basic YWRtaW46cGE6c3M=", u, sizeof(u), p, sizeof(p)) && strcmp(u, "admin") == 0 &&
		   strcmp(p, "pa:ss") == 0,
	   "basic: user and password (a ':' in the password kept)");
	ok(api_basic_parse("basic cm9vdDo=", u, sizeof(u), p, sizeof(p)) && strcmp(u, "root") == 0 && p[0] == '\0',
	   "basic: an empty password");
	ok(!api_basic_parse("Bearer abc", u, sizeof(u), p, sizeof(p)) && !api_basic_parse("Basic ", u, 64, p, 256) &&
		   !api_basic_parse("Basic OnBhc3M=", u, 64, p, 256) && !api_basic_parse("Basic YWRtaW4=", u, 64, p, 256) &&
		   !api_basic_parse("Basic !!!!", u, 64, p, 256),
	   "basic: other schemes, bad base64, no user or no ':' refused");
	ok(!api_basic_parse("Basic YQBiOmM=", u, 64, p, 256), "basic: a NUL in the credentials refused");
}

static void test_facts(void)
{
	ok(strcmp(api_health_status("ok\n"), "ok") == 0 && strcmp(api_health_status("degraded\nservice x\n"), "degraded") == 0 &&
		   strcmp(api_health_status(""), "degraded") == 0 && strcmp(api_health_status("okay"), "degraded") == 0,
	   "health: ok only from a first line 'ok'");
}

int main(void)
{
	test_routes();
	test_patch_good();
	test_patch_bad();
	test_patch_lists();
	test_bodies();
	test_head();
	test_vm_routes();
	test_datastore_path();
	test_patch_big();
	test_json();
	test_basic();
	test_facts();
	return tap_done();
}
