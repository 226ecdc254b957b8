/* hostd's API without the network (api.h). */
#define _GNU_SOURCE
#include "api.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const struct {
	const char *path;
	enum api_call get, patch; /* API_NCALLS: not that method */
	const char *allow;
} routes[] = {
	{"/api/health", API_HEALTH, API_NCALLS, "GET"},
	{"/api/host", API_HOST, API_NCALLS, "GET"},
	{"/api/config", API_CONFIG_GET, API_CONFIG_PATCH, "GET, PATCH"},
	{"/api/users", API_USERS, API_NCALLS, "GET"},
};

struct api_route api_route(enum api_method m, const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		enum api_call c = m == API_GET ? routes[i].get : m == API_PATCH ? routes[i].patch : API_NCALLS;
		if (strcmp(path, routes[i].path) != 0)
			continue;
		if (c == API_NCALLS)
			return (struct api_route){.status = 405, .allow = routes[i].allow};
		return (struct api_route){.call = c};
	}
	return (struct api_route){.status = 404};
}

bool api_needs_auth(enum api_call c)
{
	return c != API_HEALTH;
}

/* Every role reads; only an administrator changes the configuration. */
bool api_allowed(enum api_call c, enum hc_role r)
{
	return c != API_CONFIG_PATCH || r == HC_ADMINISTRATOR;
}

bool api_changes(enum api_call c)
{
	return c == API_CONFIG_PATCH;
}

json_t *api_error_json(const struct api_error *e)
{
	json_t *o = json_pack("{s:s}", "error", e->msg);

	if (e->field[0])
		json_object_set_new(o, "field", json_string(e->field));
	return o;
}

json_t *api_config_json(const struct hc_config *c)
{
	json_t *o = json_object();

	for (int k = 0; k < HC_NKEYS; k++)
		json_object_set_new(o, hc_key_name((enum hc_key)k), json_string(c->val[k]));
	return o;
}

json_t *api_users_json(const struct hc_config *c)
{
	json_t *a = json_array();

	for (size_t i = 0; i < c->nuser; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:b}", "name", c->user[i].name, "role",
						   hc_role_name(c->user[i].role), "uid", (json_int_t)c->user[i].uid,
						   "password", c->user[i].hash[0] == '$'));
	return a;
}

static int bad(struct api_error *e, const char *field, const char *fmt, const char *arg)
{
	e->status = 400;
	snprintf(e->field, sizeof(e->field), "%s", field);
	snprintf(e->msg, sizeof(e->msg), fmt, arg);
	return -1;
}

/* The key a model error is about: hostconfig's messages start "key: ". */
static void field_of(const char *msg, char *field, size_t size)
{
	size_t n = strcspn(msg, ":");
	char key[64];

	snprintf(key, sizeof(key), "%.*s", (int)(n < sizeof(key) ? n : 0), msg);
	snprintf(field, size, "%s", hc_key_find(key) >= 0 ? key : "");
}

static void check_failed(const struct diag *d, struct api_error *e)
{
	char field[64];

	field_of(d->msg, field, sizeof(field));
	bad(e, field[0] ? field : "body", "%s", d->msg);
}

/* Each member onto c: a model key with a string value. */
static int patch_members(json_t *o, struct hc_config *c, struct buf *names, struct api_error *e)
{
	const char *key;
	json_t *v;
	struct diag d;

	json_object_foreach(o, key, v) {
		if (!*key)
			return bad(e, "body", "%s", "an empty key; GET /api/config lists the keys");
		if (hc_key_find(key) < 0)
			return bad(e, key, "unknown key '%.100s'; GET /api/config lists the keys", key);
		if (!json_is_string(v))
			return bad(e, key, "%s must be a string", key);
		if (hc_set(c, key, json_string_value(v), &d) < 0)
			return bad(e, key, "%s", d.msg);
		buf_puts(names, names->len ? "," : "");
		buf_puts(names, key);
	}
	return 0;
}

int api_patch(const char *body, size_t len, const struct hc_config *cur, struct hc_config *out, char **names,
	      struct api_error *e)
{
	struct hc_config c = {0};
	struct buf keys = {0};
	json_error_t je;
	json_t *o = len > API_BODY_MAX ? NULL : json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	struct diag d;
	int r = -1;

	e->status = 0;
	if (len > API_BODY_MAX)
		return bad(e, "body", "%s", "the body is over 1 MiB");
	if (!o)
		return bad(e, "body", "not JSON: %s", je.text);
	hc_copy(&c, cur);
	if (!json_is_object(o) || json_object_size(o) == 0)
		bad(e, "body", "%s", "expected an object of settings, e.g. {\"hostname\": \"esx1\"}");
	else if (patch_members(o, &c, &keys, e) == 0 && hc_check(&c, &d) < 0)
		check_failed(&d, e);
	else if (e->status == 0)
		r = 0;
	json_decref(o);
	if (r < 0) {
		hc_free(&c);
		free(keys.data);
		return -1;
	}
	buf_puts(&keys, "");
	*names = keys.data;
	*out = c;
	return 0;
}

bool api_basic_parse(const char *header, char *user, size_t usize, char *password, size_t psize)
{
	size_t n, pad = 0;
	unsigned char dec[512];
	const char *b64, *colon;
	int m;
	bool ok = false;

	if (strncasecmp(header, "Basic ", 6) != 0)
		return false;
	b64 = header + 6 + strspn(header + 6, " ");
	n = strlen(b64);
	if (n == 0 || n % 4 || n / 4 * 3 >= sizeof(dec) || strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
		return false;
	pad = b64[n - 1] == '=' ? (b64[n - 2] == '=' ? 2 : 1) : 0;
	if ((m = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n)) < 0 || (size_t)m < pad)
		return false;
	m -= (int)pad;
	dec[m] = '\0';
	colon = memchr(dec, ':', (size_t)m);
	if (colon && !memchr(dec, '\0', (size_t)m) && colon > (char *)dec && (size_t)(colon - (char *)dec) < usize &&
	    (size_t)(m - (colon - (char *)dec) - 1) < psize) {
		snprintf(user, usize, "%.*s", (int)(colon - (char *)dec), (char *)dec);
		snprintf(password, psize, "%s", colon + 1);
		ok = true;
	}
	explicit_bzero(dec, sizeof(dec));
	return ok;
}

const char *api_health_status(const char *text)
{
	return text && strncmp(text, "ok", 2) == 0 && (text[2] == '\0' || text[2] == '\n') ? "ok" : "degraded";
}

char *api_os_version(const char *text)
{
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, "VERSION_ID=", 11) == 0) {
			p += 11;
			p += *p == '"';
			return xstrndup(p, strcspn(p, "\"\n"));
		}
		p = strchr(p, '\n');
		p += p != NULL;
	}
	return xstrdup("");
}

const char *api_bank(const char *cmdline)
{
	for (const char *p = cmdline; p && (p = strstr(p, "bootbank=")); p++)
		if ((p == cmdline || p[-1] == ' ') && (p[9] == 'A' || p[9] == 'B') &&
		    (p[10] == '\0' || p[10] == ' ' || p[10] == '\n'))
			return p[9] == 'A' ? "A" : "B";
	return "live";
}
