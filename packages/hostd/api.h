/* hostd's API without the network (docs/api.md): the routes and who may call them, the JSON of the
 * configuration model, the checks of a PATCH body, the Basic credentials and the host's facts read
 * from files. Every function here is pure or reads only the files it names, for the unit tests and
 * the fuzz target; hostd.c puts them on libevent's evhttp. */
#ifndef HOSTD_API_H
#define HOSTD_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hostconfig.h"

#define API_BODY_MAX (1024 * 1024)

enum api_method { API_GET, API_PATCH, API_OTHER };

enum api_call { API_HEALTH, API_HOST, API_CONFIG_GET, API_CONFIG_PATCH, API_USERS, API_NCALLS };

/* What a request may do: a call, or an HTTP status (404 no such path, 405 not that method). */
struct api_route {
	enum api_call call; /* valid when status is 0 */
	int status;
	const char *allow;  /* with 405: the methods the path takes */
};

/* The route of method and path (the path without its query). */
struct api_route api_route(enum api_method m, const char *path);
/* Whether the call needs credentials (only the health check does not). */
bool api_needs_auth(enum api_call c);
/* Whether a user of role r may make the call. */
bool api_allowed(enum api_call c, enum hc_role r);
/* Whether the call changes something (and is logged). */
bool api_changes(enum api_call c);

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
/* [{"name", "role", "uid", "password": set or not}] of c's users. New reference. */
json_t *api_users_json(const struct hc_config *c);

/*
 * A PATCH /api/config body (at most API_BODY_MAX bytes, not NUL-terminated): a JSON object of
 * model keys with string values, set onto a copy of cur and checked whole. On success *out is
 * the new configuration (free with hc_free) and *names the keys changed, comma-separated (owned
 * by the caller); on error 400 with the field named, and *out untouched.
 */
int api_patch(const char *body, size_t len, const struct hc_config *cur, struct hc_config *out, char **names,
	      struct api_error *e);

/* The user and password of an "Authorization: Basic ..." value; false when it is not one (a bad
 * base64, no ':', an empty user or over the sizes). */
bool api_basic_parse(const char *header, char *user, size_t usize, char *password, size_t psize);

/* The host's facts from text: "ok" when the first line of /run/health is "ok", else "degraded";
 * VERSION_ID of os-release ("" when none); "A", "B" from bootbank= of the kernel's command line,
 * else "live". Results are owned by the caller. */
const char *api_health_status(const char *text);
char *api_os_version(const char *text);
const char *api_bank(const char *cmdline);

#endif
