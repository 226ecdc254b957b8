/* What a client sends hostd (packages/hostd/api.h): any PATCH /api/config body against the
 * defaults, the same bytes as an Authorization header's value, as a request line's method and
 * path (the route table, a route's argument decoded), as a POST /api/users or password body, and
 * as a query's lines= and a log to tail, as a request head (stream.c reads it before evhttp) and
 * as a datastore path. A body is either refused with 400 and a field, or gives
 * a configuration that passes the model's checks; a route is a call or 404/405 with Allow. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "server.h"

static char *text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static void basic(const char *hdr)
{
	char user[64], pw[256];

	if (api_basic_parse(hdr, user, sizeof(user), pw, sizeof(pw)) && (strlen(user) == 0 || strlen(user) >= sizeof(user)))
		abort();
}

/* "METHOD PATH": routed; a call's argument lies inside the path and decodes or not. */
static void route(const char *line)
{
	const char *sp = strchr(line, ' ');
	char method[16], arg[4096];
	struct api_route rt;

	if (!sp || (size_t)(sp - line) >= sizeof(method))
		return;
	memcpy(method, line, (size_t)(sp - line));
	method[sp - line] = '\0';
	rt = api_route(api_method_find(method), sp + 1);
	if (rt.status == 0) {
		if (rt.call >= API_NCALLS || (rt.arg && (rt.arg < sp + 1 || rt.arg + rt.arglen > sp + 1 + strlen(sp + 1))))
			abort();
		if (rt.arg && api_arg_decode(rt.arg, rt.arglen, arg, sizeof(arg)) && strlen(arg) > rt.arglen)
			abort();
		(void)api_allowed(rt.call, HC_OPERATOR), (void)api_body_kind(rt.call), (void)api_call_name(rt.call);
	} else if (!(rt.status == 404 || (rt.status == 405 && rt.allow[0])))
		abort();
}

static void bodies(const uint8_t *data, size_t size)
{
	struct api_error e;
	json_t *o = NULL;
	const char *n, *p, *r;

	if (api_user_body((const char *)data, size, &o, &n, &p, &r, &e) == 0) {
		if (!n || !p || !r)
			abort();
		json_decref(o);
	} else if (e.status != 400 || !e.field[0]) {
		abort();
	}
	if (api_password_body((const char *)data, size, &o, &p, &e) == 0)
		json_decref(o);
	else if (e.status != 400 || !e.field[0])
		abort();
}

static void patch(const uint8_t *data, size_t size)
{
	struct hc_config cur, out = {0};
	struct api_error e;
	struct diag d;
	char *names = NULL;

	hc_defaults(&cur);
	if (api_patch((const char *)data, size, &cur, &out, &names, &e) == 0) {
		if (hc_check(&out, &d) < 0 || !names || !*names)
			abort();
		free(names);
		hc_free(&out);
	} else if (e.status != 400 || !e.field[0] || names || out.val[0]) {
		abort();
	}
	hc_free(&cur);
}

/* Each request the server reads from the stream: a method, a path without its query, a body
 * within the limit. */
static void each(struct sreq *r, void *arg)
{
	size_t len;
	bool over;
	const char *body = sreq_body(r, &len, &over);

	(void)arg;
	if (!*sreq_method(r) || strchr(sreq_path(r), '?') || len > 64 || body[len] != '\0' || (over && len) ||
	    sreq_length(r) < -1)
		abort();
}

static void head_and_path(const uint8_t *data, size_t size, const char *s)
{
	struct api_error e;
	char parent[4096], base[256];
	bool folder;

	srv_parse_buffer((const char *)data, size, 64, each, NULL);
	if (api_datastore_path(s, parent, sizeof(parent), base, sizeof(base), &folder, &e) == 0) {
		if (strstr(s, "..") && (strcmp(base, "..") == 0 || strstr(parent, "/../") || strncmp(parent, "../", 3) == 0))
			abort();
		if (s[0] == '/' || strstr(s, "//"))
			abort();
	} else if (e.status != 400 || strcmp(e.field, "path") != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = text(data, size);
	long n = api_lines_param(s, 200);
	json_t *lines;

	patch(data, size);
	bodies(data, size);
	basic(s);
	route(s);
	head_and_path(data, size, s);
	if (n != -1 && (n < 1 || n > 10000))
		abort();
	lines = api_tail_json(s, strlen(s), 3);
	if (json_array_size(lines) > 3)
		abort();
	json_decref(lines);
	free(s);
	return 0;
}
