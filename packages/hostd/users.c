/* hostd's calls about the host's users: list, add, remove, set a password, unlock. Changes go
 * through hostcfg's model and host_edit (under its lock), as PATCH /api/config does; the lockout
 * is packages/auth's. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "hostd.h"
#include "util.h"

void get_users(struct call *c)
{
	struct hc_config cf = {0};
	bool *locked;

	if (conf_load(c->hd, &cf, c->req) < 0)
		return;
	locked = xmalloc(cf.nuser + 1);
	for (size_t i = 0; i < cf.nuser; i++)
		locked[i] = auth_locked(&c->hd->auth, cf.user[i].name, time(NULL));
	reply(c->req, 200, api_users_json(&cf, locked));
	free(locked);
	hc_free(&cf);
}

/* The field a model error about users is about. */
static const char *user_field(const char *msg)
{
	return strncmp(msg, "password:", 9) == 0 ? "password" : strstr(msg, "unknown role") ? "role" : "name";
}

/* A users_change() edit: the call, where its own refusals go, and what its edit returned. */
struct user_edit {
	int (*edit)(struct hc_config *, const struct call *, struct diag *, struct api_error *);
	const struct call *c;
	struct api_error *e;
	int r; /* 1 until the edit has run */
};

static int user_edit_run(const struct hc_config *cur, struct hc_config *next, void *arg, struct diag *d)
{
	struct user_edit *ue = arg;

	(void)cur;
	return ue->r = ue->edit(next, ue->c, d, ue->e);
}

/* edit(a copy of the configuration, c) through host_edit. 0, or -1 with e filled (400 from the
 * model, 404 for no such user, 500). */
static int users_change(struct call *c, int (*edit)(struct hc_config *, const struct call *, struct diag *, struct api_error *),
			struct api_error *e)
{
	struct user_edit ue = {edit, c, e, 1};
	struct diag d;
	int r;

	e->status = 0;
	r = host_edit(&c->hd->h, user_edit_run, &ue, &d);
	if (r == HOST_EDIT_REFUSED && e->status)
		;
	else if (r == HOST_EDIT_REFUSED && ue.r == -ENOENT)
		error_set(e, 404, "no such user; GET /api/users lists them");
	else if (r == HOST_EDIT_REFUSED)
		error_field(e, user_field(d.msg), d.msg);
	else if (r < 0) {
		logf_(c->hd, LOG_ERR, "%s", d.msg);
		error_set(e, 500, ue.r == 1 ? "the configuration cannot be read; see the host's log"
					    : "the configuration cannot be applied; nothing changed; see the host's log");
	}
	return r != 0 ? -1 : 0;
}

static int add(struct hc_config *cf, const struct call *c, struct diag *d, struct api_error *e)
{
	json_t *o = NULL;
	const char *name, *pw, *role;
	int r;

	if (api_user_body(c->body, c->len, &o, &name, &pw, &role, e) < 0)
		return -1;
	if (hc_user_find(cf, name)) {
		r = error_set(e, 409, "the user exists; PUT /api/users/NAME/password changes a password");
		snprintf(e->field, sizeof(e->field), "name");
	} else
		r = hc_user_add(cf, name, role, pw, d);
	json_decref(o);
	return r < 0 ? -EINVAL : 0;
}

static int del(struct hc_config *cf, const struct call *c, struct diag *d, struct api_error *e)
{
	(void)e;
	if (!hc_user_find(cf, c->arg))
		return -ENOENT;
	return hc_user_del(cf, c->arg, d) < 0 ? -EINVAL : 0;
}

static int passwd(struct hc_config *cf, const struct call *c, struct diag *d, struct api_error *e)
{
	json_t *o = NULL;
	const char *pw;
	int r;

	if (api_password_body(c->body, c->len, &o, &pw, e) < 0)
		return -1;
	r = hc_user_find(cf, c->arg) ? hc_user_passwd(cf, c->arg, pw, d) : -ENOENT;
	json_decref(o);
	return r == -ENOENT ? r : r < 0 ? -EINVAL : 0;
}

/* The user's entry of GET /api/users. */
static void reply_user(struct call *c, int status, const char *name)
{
	struct hc_config cf = {0};
	struct hc_user *u;
	json_t *a;

	if (conf_load(c->hd, &cf, c->req) < 0)
		return;
	if ((u = hc_user_find(&cf, name))) {
		bool locked = auth_locked(&c->hd->auth, name, time(NULL));
		struct hc_config one = {.user = u, .nuser = 1};
		a = api_users_json(&one, &locked);
		reply(c->req, status, json_incref(json_array_get(a, 0)));
		json_decref(a);
	} else {
		reply(c->req, status, json_pack("{s:s}", "name", name));
	}
	hc_free(&cf);
}

void post_user(struct call *c)
{
	struct api_error e = {0};
	json_t *o = json_loadb(c->body, c->len, 0, NULL);
	char name[64];

	snprintf(name, sizeof(name), "%s", json_is_string(json_object_get(o, "name")) ? json_string_value(json_object_get(o, "name")) : "");
	json_decref(o);
	if (!auth_user_valid(name) && name[0]) {
		error_field(&e, "name", "name: a user name is [a-z_][a-z0-9_-]{0,31}");
		return refuse(c, "", &e);
	}
	if (users_change(c, add, &e) < 0)
		return refuse(c, auth_user_valid(name) ? name : "", &e);
	audit(c, name, NULL);
	reply_user(c, 201, name);
}

void delete_user(struct call *c)
{
	struct api_error e = {0};
	const char *name = auth_user_valid(c->arg) ? c->arg : "";

	if (users_change(c, del, &e) < 0)
		return refuse(c, name, &e);
	auth_unlock(&c->hd->auth, c->arg);
	audit(c, name, NULL);
	reply(c->req, 200, json_pack("{s:s}", "deleted", c->arg));
}

void put_password(struct call *c)
{
	struct api_error e = {0};
	const char *name = auth_user_valid(c->arg) ? c->arg : "";

	if (users_change(c, passwd, &e) < 0)
		return refuse(c, name, &e);
	audit(c, name, NULL);
	reply_user(c, 200, c->arg);
}

void post_unlock(struct call *c)
{
	struct hc_config cf = {0};
	struct api_error e = {0};
	bool known;

	if (conf_load(c->hd, &cf, c->req) < 0)
		return;
	known = hc_user_find(&cf, c->arg) != NULL;
	hc_free(&cf);
	if (!known)
		error_set(&e, 404, "no such user; GET /api/users lists them");
	else if (auth_unlock(&c->hd->auth, c->arg) < 0)
		error_set(&e, 500, "the lockout cannot be cleared; see the host's log");
	if (e.status)
		return refuse(c, auth_user_valid(c->arg) ? c->arg : "", &e);
	audit(c, c->arg, NULL);
	reply_user(c, 200, c->arg);
}
