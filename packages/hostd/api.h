/* hostd's API without the network (docs/api.md): the routes and who may call them, the JSON of the
 * configuration model, the checks of a PATCH body, the Basic credentials and the host's facts read
 * from files. Every function here is pure or reads only the files it names, for the unit tests and
 * the fuzz target; hostd.c puts them on its HTTP server (server.c). */
#ifndef HOSTD_API_H
#define HOSTD_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hostconfig.h"

#define API_BODY_MAX (1024 * 1024)

enum api_method { API_GET, API_POST, API_PUT, API_PATCH, API_DELETE, API_OTHER };

/* The calls, one per route of routes.def: API_HEALTH, API_CONFIG_PATCH, ... */
enum api_call {
#define ROUTE(method, pattern, call, handler, role, body) API_##call,
#include "routes.def"
#undef ROUTE
	API_NCALLS
};

/* How a call takes its request body. */
enum api_body { API_BODY_NONE, API_BODY_JSON, API_BODY_STREAM };

/* What a request may do: a call, or an HTTP status (404 no such path, 405 not that method). */
struct api_route {
	enum api_call call; /* valid when status is 0 */
	int status;
	char allow[64];     /* with 405: the methods the path takes */
	const char *arg;    /* the part of the path a "*" or "**" took (not decoded), or NULL */
	size_t arglen;
};

/* The route of method and path (the path without its query). */
struct api_route api_route(enum api_method m, const char *path);
/* The method of its name ("GET", ...); API_OTHER for others. */
enum api_method api_method_find(const char *name);
/* Whether the call needs credentials (only the health check does not). */
bool api_needs_auth(enum api_call c);
/* Whether a user of role r may make the call. */
bool api_allowed(enum api_call c, enum hc_role r);
/* Whether the call changes something (and is logged): every method but GET. */
bool api_changes(enum api_call c);
/* How the call takes its body. */
enum api_body api_body_kind(enum api_call c);
/* The method and pattern of a call, for the log: "PATCH /api/config". */
const char *api_call_name(enum api_call c);

/* The percent-decoded arg of a route into out (size bytes); false when it has a bad escape, a
 * NUL, or is too long. */
bool api_arg_decode(const char *arg, size_t len, char *out, size_t size);

/* An error for the client: the HTTP status, the message and the field it is about ("" none). */
struct api_error {
	int status;
	char field[64];
	char msg[1100];
};
/* {"error": msg, "field": field}; field left out when empty. New reference. */
json_t *api_error_json(const struct api_error *e);

/* The settings (every key, by its host.conf name) of c; never the users' hashes. New reference. */
json_t *api_config_json(const struct hc_config *c);
/* [{"name", "role", "uid", "password": set or not, "locked"}] of c's users; locked[i] says
 * whether user i is locked out (NULL: none is). New reference. */
json_t *api_users_json(const struct hc_config *c, const bool *locked);

/*
 * A PATCH /api/config body (at most API_BODY_MAX bytes, not NUL-terminated): a JSON object of
 * model keys with string values; the list keys (dns-servers, dns-search, syslog-servers,
 * ntp-servers) take an array of strings too, and "dns", "syslog", "ntp" name their list keys.
 * The values are set onto a copy of cur and checked whole. On success *out is
 * the new configuration (free with hc_free) and *names the keys changed, comma-separated (owned
 * by the caller); on error 400 with the field named, and *out untouched.
 */
int api_patch(const char *body, size_t len, const struct hc_config *cur, struct hc_config *out, char **names,
	      struct api_error *e);

/* api_patch() as host_edit()'s edit (packages/hostcfg/host.h): arg is a struct api_patch_edit,
 * body and e set by the caller; on success names and the host name before and after are set. */
struct api_patch_edit {
	const char *body;
	size_t len;
	struct api_error *e;
	char *names; /* owned by the caller once set */
	char hostname_old[64], hostname_new[64];
};
int api_patch_edit(const struct hc_config *cur, struct hc_config *next, void *arg, struct diag *d);

/*
 * A POST /api/users body: {"name", "password", "role"} (role defaults to read-only); each
 * string checked for its type. The strings point into *root (json_decref it after). 0, or -1
 * with e a 400 naming the field.
 */
int api_user_body(const char *body, size_t len, json_t **root, const char **name, const char **password,
		  const char **role, struct api_error *e);
/* A PUT /api/users/NAME/password body: {"password"}; as api_user_body(). */
int api_password_body(const char *body, size_t len, json_t **root, const char **password, struct api_error *e);

/* The lines= of a query string ("lines=N&..."): N in 1..10000, def when absent; -1 when bad. */
long api_lines_param(const char *query, long def);
/* The last n lines of text as a JSON array of strings (invalid UTF-8 replaced). New reference. */
json_t *api_tail_json(const char *text, size_t len, long n);

/*
 * A datastore path (the decoded rest of /api/datastore/PATH): relative, components of at most
 * 255 bytes, none empty, "." or "..", none a control character, not the uploads' folder
 * ".hostd-spool". Split into its folder (parent, "" for the top) and its last component (base,
 * "" for the top itself); *folder says whether it ended in "/". 0, or -1 with e a 400 about the
 * field "path". Symbolic links are the caller's to refuse (openat2 RESOLVE_BENEATH).
 */
int api_datastore_path(const char *path, char *parent, size_t psize, char *base, size_t bsize, bool *folder,
		       struct api_error *e);

/* The user and password of an "Authorization: Basic ..." value; false when it is not one (a bad
 * base64, no ':', an empty user or over the sizes). */
bool api_basic_parse(const char *header, char *user, size_t usize, char *password, size_t psize);

/* The health from /run/health's text: "ok" when its first line is "ok", else "degraded". (The
 * version and bank come from lib/sysfile.h, which the DCUI reads too.) */
const char *api_health_status(const char *text);

#endif
