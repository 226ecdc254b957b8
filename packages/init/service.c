/* Service files (service.h): the parser, the start order and the restart decisions. libc only. */
#define _GNU_SOURCE
#include "service.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

#define DEFAULT_READY_TIMEOUT 10
#define DEFAULT_STOP_TIMEOUT 5
#define DEFAULT_LIMIT_N 5
#define DEFAULT_LIMIT_S 60

/* Mark svc BAD with "path:line: message". Returns -1. */
static int __attribute__((format(printf, 3, 4))) bad(struct service *svc, int line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	svc->state = SVC_BAD;
	/* A longer problem is cut: the file and line come first. */
	if (line > 0 && snprintf(svc->problem, sizeof(svc->problem), "%s:%d: %s", svc->path, line, msg) < 0)
		svc->problem[0] = '\0';
	else if (line <= 0 && snprintf(svc->problem, sizeof(svc->problem), "%s: %s", svc->path, msg) < 0)
		svc->problem[0] = '\0';
	return -1;
}

static bool name_valid(const char *name)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

	return name[0] != '\0' && name[0] != '.' && strlen(name) < SERVICE_NAME_MAX &&
	       name[strspn(name, allowed)] == '\0';
}

/* A whole number of seconds in [min, max]; -1 otherwise. */
static int seconds(const char *text, int min, int max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end != '\0' || text[0] == '-' || text[0] == '+' || v < min || v > max)
		return -1;
	return (int)v;
}

/* Split value into cmd's words; NULL or what is wrong. */
static const char *cmd_split(struct service_cmd *cmd, const char *value)
{
	size_t n = 0;
	char *save = NULL, *word;

	if (strlen(value) >= sizeof(cmd->text))
		return "the command is longer than 255 characters; shorten it";
	snprintf(cmd->text, sizeof(cmd->text), "%s", value);
	for (word = strtok_r(cmd->text, " \t\n\\", &save); word; word = strtok_r(NULL, " \t\n\\", &save)) {
		if (n == SERVICE_ARGS_MAX)
			return "the command has more than 16 words; wrap it in a script";
		cmd->argv[n++] = word;
	}
	cmd->argv[n] = NULL;
	if (n == 0)
		return "the command is empty; name the program to run";
	if (cmd->argv[0][0] != '/')
		return "the command must start with an absolute path, e.g. /bin/syslogd";
	return NULL;
}

typedef const char *(*key_fn)(struct service *svc, const char *value);

static const char *key_description(struct service *svc, const char *value)
{
	snprintf(svc->description, sizeof(svc->description), "%s", value);
	return NULL;
}

static const char *key_command(struct service *svc, const char *value)
{
	return cmd_split(&svc->command, value);
}

static const char *key_stop(struct service *svc, const char *value)
{
	return cmd_split(&svc->stop, value);
}

static const char *key_user(struct service *svc, const char *value)
{
	if (!name_valid(value) || strlen(value) >= sizeof(svc->user))
		return "the user must be a user name of /etc/passwd";
	snprintf(svc->user, sizeof(svc->user), "%s", value);
	return NULL;
}

/* The capabilities a service may keep: the few a daemon of the host needs. */
static const struct {
	const char *name;
	int number; /* CAP_* of linux/capability.h */
} cap_names[] = {
	{"net_bind_service", 10}, {"net_admin", 12}, {"net_raw", 13}, {"sys_nice", 23}, {"sys_time", 25},
};

#define N_CAPS (sizeof(cap_names) / sizeof(cap_names[0]))

static const char *key_capabilities(struct service *svc, const char *value)
{
	char copy[256], *save = NULL, *word;

	if (strlen(value) >= sizeof(copy))
		return "the capabilities list is too long";
	snprintf(copy, sizeof(copy), "%s", value);
	for (word = strtok_r(copy, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
		size_t c = 0;

		while (c < N_CAPS && strcmp(word, cap_names[c].name) != 0)
			c++;
		if (c == N_CAPS)
			return "unknown capability; the capabilities are net_bind_service, net_admin, net_raw, "
			       "sys_nice, sys_time";
		svc->caps |= 1ULL << cap_names[c].number;
	}
	if (!svc->caps)
		return "no capability named; name one or leave the key out";
	return NULL;
}

static const char *key_after(struct service *svc, const char *value)
{
	char copy[512], *save = NULL, *word;

	if (strlen(value) >= sizeof(copy))
		return "the after list is too long";
	snprintf(copy, sizeof(copy), "%s", value);
	for (word = strtok_r(copy, " \t\n\\", &save); word; word = strtok_r(NULL, " \t\n\\", &save)) {
		if (!name_valid(word))
			return "after names services: letters, digits, '.', '_' and '-'";
		if (svc->n_after == SERVICE_AFTER_MAX)
			return "more than 8 services after; start them through a service of their own";
		snprintf(svc->after[svc->n_after++], SERVICE_NAME_MAX, "%s", word);
	}
	return NULL;
}

static const char *key_ready(struct service *svc, const char *value)
{
	static const char *const kinds[] = {"started", "exited", "path", "tcp"};
	size_t len = strcspn(value, " \t");
	const char *arg = value + len + strspn(value + len, " \t");

	for (int k = 0; k < 4; k++) {
		if (strlen(kinds[k]) != len || strncmp(value, kinds[k], len) != 0)
			continue;
		svc->ready = (enum service_ready)k;
		if ((k < READY_PATH) != (arg[0] == '\0'))
			return k < READY_PATH ? "ready = started or exited takes nothing after it"
					      : "ready = path /FILE or tcp HOST:PORT needs its argument";
		if (strlen(arg) >= sizeof(svc->ready_arg) || strpbrk(arg, " \t"))
			return "the ready argument is one word of at most 107 characters";
		if (k == READY_PATH && arg[0] != '/')
			return "ready = path needs an absolute path, e.g. path /dev/log";
		if (k == READY_TCP && (!strchr(arg, ':') || seconds(strrchr(arg, ':') + 1, 1, 65535) < 0))
			return "ready = tcp needs HOST:PORT, e.g. tcp 127.0.0.1:443";
		snprintf(svc->ready_arg, sizeof(svc->ready_arg), "%s", arg);
		return NULL;
	}
	return "ready must be started, exited, path /FILE or tcp HOST:PORT";
}

static const char *key_ready_timeout(struct service *svc, const char *value)
{
	svc->ready_timeout = seconds(value, 1, 3600);
	return svc->ready_timeout < 0 ? "ready-timeout must be whole seconds from 1 to 3600" : NULL;
}

static const char *key_stop_timeout(struct service *svc, const char *value)
{
	svc->stop_timeout = seconds(value, 1, 30);
	return svc->stop_timeout < 0 ? "stop-timeout must be whole seconds from 1 to 30" : NULL;
}

static const char *key_essential(struct service *svc, const char *value)
{
	if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
		return "essential must be yes or no";
	svc->essential = strcmp(value, "yes") == 0;
	return NULL;
}

static const char *key_restart(struct service *svc, const char *value)
{
	static const char *const names[] = {"always", "on-failure", "never"};

	for (int k = 0; k < 3; k++)
		if (strcmp(value, names[k]) == 0) {
			svc->restart = (enum service_restart)k;
			return NULL;
		}
	return "restart must be always, on-failure or never";
}

static const char *key_restart_limit(struct service *svc, const char *value)
{
	char n[16], s[16], extra;

	if (strcmp(value, "none") == 0) {
		svc->limit_n = -1;
		return NULL;
	}
	if (sscanf(value, "%15s %15s %c", n, s, &extra) != 2 || (svc->limit_n = seconds(n, 0, SERVICE_RESTARTS_MAX)) < 0 ||
	    (svc->limit_s = seconds(s, 1, 86400)) < 0)
		return "restart-limit must be 'N SECONDS' (N at most 32) or none";
	return NULL;
}

static const char *key_tty(struct service *svc, const char *value)
{
	if (strcmp(value, "console") != 0 && strncmp(value, "/dev/", 5) != 0)
		return "tty must be console or a terminal under /dev, e.g. /dev/tty1";
	if (strlen(value) >= sizeof(svc->tty))
		return "the tty path is too long";
	snprintf(svc->tty, sizeof(svc->tty), "%s", value);
	return NULL;
}

static const struct {
	const char *key;
	key_fn fn;
} keys[] = {
	{"description", key_description}, {"command", key_command}, {"user", key_user}, {"after", key_after},
	{"ready", key_ready}, {"ready-timeout", key_ready_timeout}, {"essential", key_essential},
	{"restart", key_restart}, {"restart-limit", key_restart_limit}, {"stop", key_stop},
	{"stop-timeout", key_stop_timeout}, {"tty", key_tty}, {"capabilities", key_capabilities},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Apply one pair; `seen` guards against a key given twice (after may repeat). 0 or -1. */
static int apply(struct service *svc, const struct kv *kv, unsigned *seen)
{
	for (size_t k = 0; k < N_KEYS; k++) {
		const char *err;

		if (strcmp(kv->key, keys[k].key) != 0)
			continue;
		if ((*seen & (1u << k)) && keys[k].fn != key_after)
			return bad(svc, kv->line, "'%s' is given twice; keep one", kv->key);
		*seen |= 1u << k;
		if (keys[k].fn == key_after)
			svc->after_line = kv->line;
		err = keys[k].fn(svc, kv->value);
		return err ? bad(svc, kv->line, "%s", err) : 0;
	}
	return bad(svc, kv->line, "unknown key '%s'; the keys are description, command, user, after, ready, "
		   "ready-timeout, essential, restart, restart-limit, stop, stop-timeout, tty, capabilities", kv->key);
}

static void defaults(struct service *svc, const char *name, const char *path)
{
	memset(svc, 0, sizeof(*svc));
	snprintf(svc->name, sizeof(svc->name), "%s", name);
	snprintf(svc->path, sizeof(svc->path), "%s", path);
	svc->ready_timeout = DEFAULT_READY_TIMEOUT;
	svc->stop_timeout = DEFAULT_STOP_TIMEOUT;
	svc->restart = RESTART_ON_FAILURE;
	svc->limit_n = DEFAULT_LIMIT_N;
	svc->limit_s = DEFAULT_LIMIT_S;
	svc->state = SVC_WAITING;
	svc->out_fd = -1;
	svc->backoff = 1;
}

/* What the whole file must say once every line is read. */
static int check_whole(struct service *svc, unsigned seen)
{
	if (!(seen & (1u << 1)))
		return bad(svc, 0, "no command; add 'command = /path/to/program ARGS'");
	if (svc->tty[0] && svc->essential)
		return bad(svc, 0, "a service on a tty starts after BOOT-OK, so it cannot be essential; "
			   "write essential = no");
	if (svc->caps && (!svc->user[0] || strcmp(svc->user, "root") == 0))
		return bad(svc, 0, "capabilities are kept only by a service run as another user than root; "
			   "add 'user = NAME' or leave capabilities out");
	return 0;
}

int service_parse(struct service *svc, const char *name, const char *path, const char *text, size_t len)
{
	struct kv_lexer lx;
	struct kv kv;
	struct diag d;
	unsigned seen = 0;
	int r;

	defaults(svc, name, path);
	if (!name_valid(name))
		return bad(svc, 0, "the file name is not a service name (letters, digits, '.', '_', '-', at "
			   "most 31); rename it");
	kv_init(&lx, path, text, len);
	while ((r = kv_next(&lx, &kv, &d)) > 0) {
		r = apply(svc, &kv, &seen);
		kv_free(&kv);
		if (r < 0)
			return -1;
	}
	if (r < 0) {
		svc->state = SVC_BAD;
		if (snprintf(svc->problem, sizeof(svc->problem), "%s", d.msg) < 0)
			svc->problem[0] = '\0';
		return -1;
	}
	return check_whole(svc, seen);
}

static int find(const struct service *svcs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(svcs[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void resolve(struct service *svcs, size_t n, size_t i)
{
	struct service *svc = &svcs[i];

	for (int a = 0; a < svc->n_after; a++) {
		svc->after_idx[a] = find(svcs, n, svc->after[a]);
		if (svc->after_idx[a] < 0 && svc->state != SVC_BAD)
			bad(svc, svc->after_line, "after names '%s', which is no service; add its file or remove the name",
			    svc->after[a]);
	}
}

/* The depth-first walk of service_order: colour 0 unseen, 1 on the path, 2 done. */
struct walk {
	struct service *svcs;
	int colour[SERVICE_MAX];
	size_t path[SERVICE_MAX], depth;
	size_t *order, n_order;
};

/* Every service on the path from the one at j back round to j is in a cycle. */
static void cycle_mark(struct walk *w, size_t j)
{
	char text[200] = "";
	size_t from = 0, len = 0;

	while (w->path[from] != j)
		from++;
	for (size_t p = from; p < w->depth && len < sizeof(text); p++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s -> ", w->svcs[w->path[p]].name);
	if (len < sizeof(text))
		snprintf(text + len, sizeof(text) - len, "%s", w->svcs[j].name);
	for (size_t p = from; p < w->depth; p++) {
		struct service *svc = &w->svcs[w->path[p]];
		if (svc->state != SVC_BAD)
			bad(svc, svc->after_line, "dependency cycle %s; remove one of its after names", text);
	}
}

static void visit(struct walk *w, size_t i)
{
	struct service *svc = &w->svcs[i];

	w->colour[i] = 1;
	w->path[w->depth++] = i;
	for (int a = 0; a < svc->n_after; a++) {
		int j = svc->after_idx[a];

		if (j < 0)
			continue;
		if (w->colour[j] == 1)
			cycle_mark(w, (size_t)j);
		else if (w->colour[j] == 0)
			visit(w, (size_t)j);
	}
	w->depth--;
	w->colour[i] = 2;
	w->order[w->n_order++] = i;
}

/* In start order, so a dependency's budget is known first (in a cycle it is not: 0 then). */
static void budgets(struct service *svcs, const size_t *order, size_t n)
{
	for (size_t k = 0; k < n; k++)
		svcs[order[k]].budget = -1;
	for (size_t k = 0; k < n; k++) {
		struct service *svc = &svcs[order[k]];
		int most = 0;

		for (int a = 0; a < svc->n_after; a++)
			if (svc->after_idx[a] >= 0 && svcs[svc->after_idx[a]].budget > most)
				most = svcs[svc->after_idx[a]].budget;
		svc->budget = svc->ready_timeout + most;
	}
}

size_t service_order(struct service *svcs, size_t n, size_t order[])
{
	struct walk w = {.svcs = svcs, .order = order};

	if (n > SERVICE_MAX)
		n = SERVICE_MAX;
	for (size_t i = 0; i < n; i++)
		resolve(svcs, n, i);
	for (size_t i = 0; i < n; i++)
		if (w.colour[i] == 0)
			visit(&w, i);
	budgets(svcs, order, w.n_order);
	return w.n_order;
}

/* Whether a dependency in this state will never become ready. */
static bool dep_failed(const struct service *dep)
{
	return dep->state == SVC_BAD || dep->state == SVC_GIVEN_UP || dep->late ||
	       (dep->state == SVC_DONE && !dep->was_ready);
}

int service_deps(const struct service *svcs, size_t i, size_t *failed)
{
	const struct service *svc = &svcs[i];
	int all = 1;

	for (int a = 0; a < svc->n_after; a++) {
		const struct service *dep;

		if (svc->after_idx[a] < 0)
			continue; /* an unknown name made the service BAD already */
		dep = &svcs[svc->after_idx[a]];
		if (dep_failed(dep)) {
			*failed = (size_t)svc->after_idx[a];
			return -1;
		}
		/* A dependency restarting after it was ready once still counts as ready. */
		if (!dep->was_ready)
			all = 0;
	}
	return all;
}

bool service_wants_restart(const struct service *svc, bool ok)
{
	if (svc->restart == RESTART_ALWAYS)
		return true;
	return svc->restart == RESTART_ON_FAILURE && !ok;
}

bool service_restart_allowed(struct service *svc, double now)
{
	int kept = 0;

	if (svc->limit_n < 0)
		return true;
	/* Forget the restarts that left the window. */
	for (int r = 0; r < svc->n_restarts; r++)
		if (now - svc->restarts[r] < svc->limit_s)
			svc->restarts[kept++] = svc->restarts[r];
	svc->n_restarts = kept;
	if (kept >= svc->limit_n)
		return false;
	svc->restarts[svc->n_restarts++] = now;
	return true;
}

int service_backoff(struct service *svc, double ran)
{
	int delay;

	if (ran >= SERVICE_BACKOFF_MAX)
		svc->backoff = 1;
	delay = svc->backoff;
	svc->backoff = delay * 2 > SERVICE_BACKOFF_MAX ? SERVICE_BACKOFF_MAX : delay * 2;
	return delay;
}
