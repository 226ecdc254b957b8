/* hostd's API without the network (api.h). */
#define _GNU_SOURCE
#include "api.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysfile.h"
#include "util.h"

enum { ANY = -1, ADMINISTRATOR = HC_ADMINISTRATOR, OPERATOR = HC_OPERATOR, READ_ONLY = HC_READ_ONLY };
enum { NONE = API_BODY_NONE, JSON = API_BODY_JSON, STREAM = API_BODY_STREAM };
enum { GET = API_GET, POST = API_POST, PUT = API_PUT, PATCH = API_PATCH, DELETE = API_DELETE };

static const char *const method_names[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

static const struct {
	enum api_method method;
	const char *pattern;
	int role; /* the least role, or ANY */
	enum api_body body;
	const char *name; /* "METHOD pattern" */
} routes[API_NCALLS] = {
#define ROUTE(m_, p_, id_, fn_, role_, body_) [API_##id_] = {(enum api_method)m_, p_, role_, (enum api_body)body_, #m_ " " p_},
#include "routes.def"
#undef ROUTE
};

/* Whether path matches pattern; the part a "*" or "**" took in *arg. */
static bool match(const char *pat, const char *path, const char **arg, size_t *arglen)
{
	while (*pat) {
		if (strcmp(pat, "**") == 0) {
			*arg = path, *arglen = strlen(path);
			return true;
		}
		if (*pat == '*') {
			size_t n = strcspn(path, "/");
			if (n == 0)
				return false;
			*arg = path, *arglen = n;
			pat++, path += n;
			continue;
		}
		if (*pat++ != *path++)
			return false;
	}
	return *path == '\0';
}

struct api_route api_route(enum api_method m, const char *path)
{
	struct api_route rt = {.status = 404};

	for (size_t i = 0; i < API_NCALLS; i++) {
		const char *arg = NULL;
		size_t arglen = 0;

		if (!match(routes[i].pattern, path, &arg, &arglen))
			continue;
		if (routes[i].method == m)
			return (struct api_route){.call = (enum api_call)i, .arg = arg, .arglen = arglen};
		rt.status = 405;
		if (!strstr(rt.allow, method_names[routes[i].method]))
			snprintf(rt.allow + strlen(rt.allow), sizeof(rt.allow) - strlen(rt.allow), "%s%s",
				 rt.allow[0] ? ", " : "", method_names[routes[i].method]);
	}
	return rt;
}

enum api_method api_method_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(method_names); i++)
		if (strcmp(name, method_names[i]) == 0)
			return (enum api_method)i;
	return API_OTHER;
}

bool api_needs_auth(enum api_call c)
{
	return routes[c].role != ANY;
}

/* The roles are ordered: an administrator may do what an operator may, who may do what a
 * read-only user may. */
bool api_allowed(enum api_call c, enum hc_role r)
{
	return routes[c].role == ANY || (int)r <= routes[c].role;
}

bool api_changes(enum api_call c)
{
	return routes[c].method != API_GET;
}

enum api_body api_body_kind(enum api_call c)
{
	return routes[c].body;
}

const char *api_call_name(enum api_call c)
{
	return routes[c].name;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

bool api_arg_decode(const char *arg, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++, o++) {
		int c = (unsigned char)arg[i];

		if (o + 1 >= size)
			return false;
		if (c == '%') {
			if (i + 2 >= len || hexval(arg[i + 1]) < 0 || hexval(arg[i + 2]) < 0)
				return false;
			c = hexval(arg[i + 1]) * 16 + hexval(arg[i + 2]);
			i += 2;
		}
		if (c == 0)
			return false;
		out[o] = (char)c;
	}
	if (o >= size)
		return false;
	out[o] = '\0';
	return true;
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

json_t *api_users_json(const struct hc_config *c, const bool *locked)
{
	json_t *a = json_array();

	for (size_t i = 0; i < c->nuser; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:b, s:b}", "name", c->user[i].name, "role",
						   hc_role_name(c->user[i].role), "uid", (json_int_t)c->user[i].uid,
						   "password", c->user[i].hash[0] == '$', "locked", locked && locked[i]));
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

/* The short names the API takes for the list keys. */
static const struct {
	const char *alias;
	enum hc_key key;
} aliases[] = {{"dns", HC_DNS_SERVERS}, {"syslog", HC_SYSLOG}, {"ntp", HC_NTP}};

static bool list_key(int k)
{
	return k == HC_DNS_SERVERS || k == HC_DNS_SEARCH || k == HC_SYSLOG || k == HC_NTP || k == HC_LOCALADMIN;
}

/* The model key of a member's name (an alias too), or -1. */
static int member_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (strcmp(name, aliases[i].alias) == 0)
			return (int)aliases[i].key;
	return hc_key_find(name);
}

/* A member's value as the model's text: a string, or for a list key an array of strings
 * joined with blanks (owned by the caller); NULL with e filled (field: the member's name). */
static char *member_text(const char *name, int k, json_t *v, struct api_error *e)
{
	struct buf b = {0};
	size_t i;
	json_t *s;

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (!list_key(k) || !json_is_array(v)) {
		bad(e, name, list_key(k) ? "%s must be an array of strings or a string" : "%s must be a string", name);
		return NULL;
	}
	json_array_foreach(v, i, s) {
		const char *t = json_string_value(s);
		if (!t || !*t || t[strcspn(t, " \t\n")]) {
			free(b.data);
			bad(e, name, "%s: each item must be a non-empty string without blanks", name);
			return NULL;
		}
		buf_puts(&b, i ? " " : "");
		buf_puts(&b, t);
	}
	buf_puts(&b, "");
	return b.data;
}

/* Each member onto c: a model key (or an alias) with a string value, or an array for a list. */
static int patch_members(json_t *o, struct hc_config *c, struct buf *names, struct api_error *e)
{
	const char *key;
	json_t *v;
	struct diag d;
	bool seen[HC_NKEYS] = {false};

	json_object_foreach(o, key, v) {
		int k = member_key(key);
		char *text;
		int r;

		if (!*key)
			return bad(e, "body", "%s", "an empty key; GET /api/config lists the keys");
		if (k < 0)
			return bad(e, key, "unknown key '%.100s'; GET /api/config lists the keys", key);
		if (seen[k])
			return bad(e, key, "%s: given twice (by its name and its alias)", key);
		seen[k] = true;
		if (!(text = member_text(key, k, v, e)))
			return -1;
		r = hc_set(c, hc_key_name((enum hc_key)k), text, &d);
		free(text);
		if (r < 0)
			return bad(e, key, "%s", d.msg);
		buf_puts(names, names->len ? "," : "");
		buf_puts(names, hc_key_name((enum hc_key)k));
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

int api_patch_edit(const struct hc_config *cur, struct hc_config *next, void *arg, struct diag *d)
{
	struct api_patch_edit *p = arg;

	(void)d;
	hc_free(next); /* api_patch() makes its own copy of cur */
	if (api_patch(p->body, p->len, cur, next, &p->names, p->e) < 0)
		return -1;
	snprintf(p->hostname_old, sizeof(p->hostname_old), "%s", cur->val[HC_HOSTNAME]);
	snprintf(p->hostname_new, sizeof(p->hostname_new), "%s", next->val[HC_HOSTNAME]);
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

/* body as a JSON object whose members are all in keys (NULL-terminated), each a string. */
static json_t *object_of(const char *body, size_t len, const char *const *keys, struct api_error *e)
{
	json_error_t je;
	json_t *o = len > API_BODY_MAX ? NULL : json_loadb(body, len, JSON_REJECT_DUPLICATES, &je), *v;
	const char *key;

	e->status = 0;
	if (len > API_BODY_MAX)
		bad(e, "body", "%s", "the body is over 1 MiB");
	else if (!o)
		bad(e, "body", "not JSON: %s", je.text);
	else if (!json_is_object(o))
		bad(e, "body", "%s", "expected a JSON object");
	else
		json_object_foreach(o, key, v) {
			size_t i = 0;
			while (keys[i] && strcmp(keys[i], key) != 0)
				i++;
			if (!keys[i] && bad(e, *key ? key : "body", "unknown key '%.100s'", key))
				break;
			if (!json_is_string(v) && bad(e, key, "%s must be a string", key))
				break;
		}
	if (e->status) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *member(json_t *o, const char *key, struct api_error *e)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		bad(e, key, "%s is missing", key);
	return s;
}

int api_user_body(const char *body, size_t len, json_t **root, const char **name, const char **password,
		  const char **role, struct api_error *e)
{
	static const char *const keys[] = {"name", "password", "role", NULL};
	json_t *o = object_of(body, len, keys, e);

	if (!o)
		return -1;
	*role = json_string_value(json_object_get(o, "role"));
	*role = *role ? *role : "read-only";
	if (!(*name = member(o, "name", e)) || !(*password = member(o, "password", e))) {
		json_decref(o);
		return -1;
	}
	*root = o;
	return 0;
}

int api_password_body(const char *body, size_t len, json_t **root, const char **password, struct api_error *e)
{
	static const char *const keys[] = {"password", NULL};
	json_t *o = object_of(body, len, keys, e);

	if (!o)
		return -1;
	if (!(*password = member(o, "password", e))) {
		json_decref(o);
		return -1;
	}
	*root = o;
	return 0;
}

long api_lines_param(const char *query, long def)
{
	for (const char *p = query; p && *p; p += strcspn(p, "&"), p += *p == '&') {
		char *end;
		long n;

		if (strncmp(p, "lines=", 6) != 0)
			continue;
		n = strtol(p + 6, &end, 10);
		if (end == p + 6 || (*end && *end != '&') || p[6] == '-' || p[6] == '+' || p[6] == ' ' || n < 1 || n > 10000)
			return -1;
		def = n;
	}
	return def;
}

json_t *api_tail_json(const char *text, size_t len, long n)
{
	json_t *a = json_array();
	size_t end = len, start;

	if (end && text[end - 1] == '\n')
		end--;
	start = end;
	for (long k = 0; k < n && start > 0; k++) {
		while (start > 0 && text[start - 1] != '\n')
			start--;
		if (k + 1 < n && start > 0)
			start--;
	}
	while (len && start < end) {
		size_t l = strcspn(text + start, "\n");
		char *line;

		l = l > end - start ? end - start : l;
		line = xstrndup(text + start, l);
		for (char *c = line; *c; c++)
			*c = (unsigned char)*c >= 0x80 || ((unsigned char)*c < 0x20 && *c != '\t') ? '?' : *c;
		json_array_append_new(a, json_string(line));
		free(line);
		start += l + 1;
	}
	return a;
}

int api_datastore_path(const char *path, char *parent, size_t psize, char *base, size_t bsize, bool *folder,
		       struct api_error *e)
{
	size_t n = strlen(path), last = 0;

	e->status = 0;
	*folder = n > 0 && path[n - 1] == '/';
	if (*folder)
		n--;
	if (path[0] == '/')
		return bad(e, "path", "%s", "the path is relative to the datastore: no leading '/'");
	if (n >= psize || n >= 4096)
		return bad(e, "path", "%s", "the path is too long");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return bad(e, "path", "%s", "the path holds a control character");
	for (size_t i = 0, s = 0; n && i <= n; i++) {
		if (i < n && path[i] != '/')
			continue;
		if (i == s || (i - s == 1 && path[s] == '.') || (i - s == 2 && path[s] == '.' && path[s + 1] == '.'))
			return bad(e, "path", "%s", "the path has an empty, '.' or '..' component; name files inside the datastore");
		if (i - s >= bsize || i - s > 255)
			return bad(e, "path", "%s", "a name in the path is over 255 bytes");
		if (s == 0 && i - s == 12 && strncmp(path, ".hostd-spool", 12) == 0)
			return bad(e, "path", "%s", "the uploads' folder .hostd-spool is hostd's own");
		last = s;
		s = i + 1;
	}
	snprintf(parent, psize, "%.*s", (int)(last ? last - 1 : 0), path);
	snprintf(base, bsize, "%.*s", (int)(n - last), path + last);
	return 0;
}
