/* hostd's API without the network (packages/hostd/api.h): routes and roles, the PATCH body's
 * checks (all or nothing, the field named), Basic credentials and the host's facts. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "tap.h"

static void test_routes(void)
{
	struct api_route r = api_route(API_GET, "/api/health");

	ok(r.status == 0 && r.call == API_HEALTH && !api_needs_auth(API_HEALTH), "route: GET /api/health, no credentials");
	r = api_route(API_PATCH, "/api/config");
	ok(r.status == 0 && r.call == API_CONFIG_PATCH && api_changes(r.call), "route: PATCH /api/config changes");
	r = api_route(API_PATCH, "/api/users");
	ok(r.status == 405 && strcmp(r.allow, "GET") == 0, "route: PATCH /api/users is 405, Allow: GET");
	ok(api_route(API_GET, "/api/healthz").status == 404 && api_route(API_GET, "/").status == 404 &&
		   api_route(API_GET, "/api/config/").status == 404,
	   "route: other paths are 404");
	ok(api_route(API_OTHER, "/api/host").status == 405, "route: DELETE /api/host is 405");
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
	j = api_users_json(&c);
	s = json_dumps(j, 0);
	ok(json_array_size(j) == 2 && strstr(s, "\"role\": \"operator\"") && strstr(s, "\"password\": true") &&
		   !strstr(s, "$6$"),
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
	char *v;

	ok(strcmp(api_health_status("ok\n"), "ok") == 0 && strcmp(api_health_status("degraded\nservice x\n"), "degraded") == 0 &&
		   strcmp(api_health_status(""), "degraded") == 0 && strcmp(api_health_status("okay"), "degraded") == 0,
	   "health: ok only from a first line 'ok'");
	v = api_os_version("NAME=x\nVERSION_ID=\"1.4.0\"\n");
	ok(strcmp(v, "1.4.0") == 0, "os-release: VERSION_ID, quotes removed");
	free(v);
	v = api_os_version("NAME=x\n");
	ok(strcmp(v, "") == 0, "os-release: none");
	free(v);
	ok(strcmp(api_bank("quiet bootbank=A console=ttyS0"), "A") == 0 && strcmp(api_bank("bootbank=B\n"), "B") == 0 &&
		   strcmp(api_bank("xbootbank=A"), "live") == 0 && strcmp(api_bank("bootbank=AB"), "live") == 0 &&
		   strcmp(api_bank("quiet"), "live") == 0,
	   "bank: A or B from bootbank=, else live");
}

int main(void)
{
	test_routes();
	test_patch_good();
	test_patch_bad();
	test_patch_big();
	test_json();
	test_basic();
	test_facts();
	return tap_done();
}
