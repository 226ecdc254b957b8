/* init's service files (packages/init/service.h): what a file says is what init does, a wrong
 * file is refused with its file and line, dependencies start first and cycles are named, and a
 * crashing service is restarted with back-off until its restart-limit gives it up. */
#include <string.h>

#include "service.h"
#include "tap.h"

static struct service svcs[SERVICE_MAX];

static int parse(struct service *svc, const char *name, const char *text)
{
	char path[64];

	snprintf(path, sizeof(path), "/usr/lib/services/%s", name);
	return service_parse(svc, name, path, text, strlen(text));
}

static void test_full(void)
{
	struct service *s = &svcs[0];
	int r = parse(s, "web", "# a web service\n"
			       "description = Management web UI\n"
			       "command = /usr/sbin/webd --port 443\t-v\n"
			       "user = www\n"
			       "after = syslogd hostd\n"
			       "after = netd\n"
			       "ready = tcp 127.0.0.1:443\n"
			       "ready-timeout = 20\n"
			       "essential = yes\n"
			       "restart = always\n"
			       "restart-limit = 3 10\n"
			       "stop = /usr/sbin/webd --save\n"
			       "stop-timeout = 7\n"
			       "capabilities = sys_time net_bind_service\n");

	ok(r == 0 && s->state == SVC_WAITING, "a file with every key parses (%s)", s->problem);
	ok(strcmp(s->command.argv[0], "/usr/sbin/webd") == 0 && strcmp(s->command.argv[2], "443") == 0 &&
		   strcmp(s->command.argv[3], "-v") == 0 && s->command.argv[4] == NULL,
	   "command is split on blanks and tabs into 4 words");
	ok(strcmp(s->user, "www") == 0 && strcmp(s->description, "Management web UI") == 0, "user and description kept");
	ok(s->n_after == 3 && strcmp(s->after[2], "netd") == 0 && s->after_line == 6,
	   "after names add up over two lines (3 names, the last at line 6)");
	ok(s->ready == READY_TCP && strcmp(s->ready_arg, "127.0.0.1:443") == 0 && s->ready_timeout == 20,
	   "ready = tcp HOST:PORT and its timeout");
	ok(s->essential && s->restart == RESTART_ALWAYS && s->limit_n == 3 && s->limit_s == 10 && s->stop_timeout == 7,
	   "essential, restart, restart-limit and stop-timeout");
	ok(strcmp(s->stop.argv[1], "--save") == 0, "the stop command is split too");
	ok(s->caps == ((1ULL << 25) | (1ULL << 10)), "capabilities: sys_time (25) and net_bind_service (10)");
}

static void test_defaults(void)
{
	struct service *s = &svcs[0];

	ok(parse(s, "d", "command = /bin/true\n") == 0, "a file with only a command parses");
	ok(s->ready == READY_STARTED && s->ready_timeout == 10 && s->restart == RESTART_ON_FAILURE &&
		   s->limit_n == 5 && s->limit_s == 60 && s->stop_timeout == 5 && !s->essential && s->user[0] == '\0' &&
		   s->stop.argv[0] == NULL && s->tty[0] == '\0' && s->caps == 0,
	   "defaults: ready started, 10 s, on-failure, 5 restarts in 60 s, stop-timeout 5, not essential, root");
	ok(parse(s, "d", "command = /bin/x\nready = path /run/x.sock\nrestart-limit = none\nrestart = never\n") == 0 &&
		   s->ready == READY_PATH && strcmp(s->ready_arg, "/run/x.sock") == 0 && s->limit_n < 0 &&
		   s->restart == RESTART_NEVER,
	   "ready = path, restart-limit = none, restart = never");
	ok(parse(s, "d", "command = /bin/x\nready = exited\n") == 0 && s->ready == READY_EXITED, "ready = exited");
}

/* name's file text must be refused with a problem holding want. */
static void refused(const char *text, const char *want, const char *what)
{
	struct service *s = &svcs[0];
	int r = parse(s, "bad", text);

	ok(r < 0 && s->state == SVC_BAD && strstr(s->problem, want), "%s: '%s' (got '%s')", what, want, s->problem);
}

static void test_errors(void)
{
	refused("command = /bin/x\n\nfoo = 1\n", "/usr/lib/services/bad:3: unknown key 'foo'", "an unknown key");
	refused("description = x\n", "/usr/lib/services/bad: no command", "a missing command");
	refused("command = bin/x\n", "bad:1: the command must start with an absolute path", "a relative command");
	refused("command =\n", "bad:1: the command is empty", "an empty command");
	refused("command = /bin/x\ncommand = /bin/y\n", "bad:2: 'command' is given twice", "a key given twice");
	refused("command = /bin/x\nready = soon\n", "bad:2: ready must be", "an unknown ready");
	refused("command = /bin/x\nready = tcp localhost\n", "bad:2: ready = tcp needs HOST:PORT", "tcp without a port");
	refused("command = /bin/x\nready = tcp h:99999\n", "bad:2: ready = tcp needs HOST:PORT", "a port too big");
	refused("command = /bin/x\nready = path run/x\n", "bad:2: ready = path needs an absolute path", "a relative path");
	refused("command = /bin/x\nready = started now\n", "bad:2: ready = started or exited takes nothing",
		"ready = started with an argument");
	refused("command = /bin/x\nready-timeout = 0\n", "bad:2: ready-timeout must be", "a zero ready-timeout");
	refused("command = /bin/x\nready-timeout = 5s\n", "bad:2: ready-timeout must be", "seconds with a unit");
	refused("command = /bin/x\nessential = true\n", "bad:2: essential must be yes or no", "essential = true");
	refused("command = /bin/x\nrestart = sometimes\n", "bad:2: restart must be", "an unknown restart");
	refused("command = /bin/x\nrestart-limit = 5\n", "bad:2: restart-limit must be", "a limit without seconds");
	refused("command = /bin/x\nrestart-limit = 33 60\n", "bad:2: restart-limit must be", "a limit over 32");
	refused("command = /bin/x\nafter = a b/c\n", "bad:2: after names services", "a bad name in after");
	refused("command = /bin/x\nuser = ro ot\n", "bad:2: the user must be", "a user with a blank");
	refused("command = /bin/x\nuser = ntpd\ncapabilities = sys_admin\n", "bad:3: unknown capability",
		"a capability init does not hand out");
	refused("command = /bin/x\nuser = ntpd\ncapabilities =  \n", "bad:3: no capability named", "an empty list");
	refused("command = /bin/x\ncapabilities = sys_time\n", "capabilities are kept only by a service run as another user",
		"capabilities for a root service");
	refused("command = /bin/x\ntty = ttyS0\n", "bad:2: tty must be console or a terminal under /dev", "a bare tty");
	refused("command = /bin/x\ntty = console\nessential = yes\n", "cannot be essential", "an essential session");
	refused("command /bin/x\n", "bad:1: expected '=' after the key", "a line without '='");
	refused("command = /bin/a b c d e f g h i j k l m n o p q\n", "more than 16 words", "17 words");
	ok(parse(&svcs[0], "a/b", "command = /bin/x\n") < 0 && strstr(svcs[0].problem, "is not a service name"),
	   "a file name that is no service name is refused");
}

/* Parse the files given as name, text pairs into svcs; returns how many. */
static size_t load(const char *const *files)
{
	size_t n = 0;

	for (; files[0]; files += 2, n++)
		parse(&svcs[n], files[0], files[1]);
	return n;
}

static size_t pos(const size_t *order, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (order[k] == i)
			return k;
	return n;
}

static void test_order(void)
{
	static const char *const files[] = {
		"console", "command = /bin/sh\nafter = klogd\n",
		"klogd", "command = /bin/klogd\nafter = syslogd\n",
		"syslogd", "command = /bin/syslogd\n",
		"a", "command = /bin/a\n\nafter = b\n",
		"b", "command = /bin/b\nafter = c\n",
		"c", "command = /bin/c\nafter = a\n",
		"d", "command = /bin/d\nafter = nosuch\n",
		"e", "command = /bin/e\nafter = a\n",
		NULL,
	};
	size_t order[SERVICE_MAX], n = load(files), got = service_order(svcs, n, order), failed = 99;

	ok(got == n, "every service is in the order (%zu of %zu)", got, n);
	ok(pos(order, n, 2) < pos(order, n, 1) && pos(order, n, 1) < pos(order, n, 0),
	   "dependencies first: syslogd, then klogd, then console");
	ok(svcs[0].state == SVC_WAITING && svcs[1].state == SVC_WAITING && svcs[2].state == SVC_WAITING,
	   "services outside the cycle stay startable");
	ok(svcs[3].state == SVC_BAD && svcs[4].state == SVC_BAD && svcs[5].state == SVC_BAD &&
		   strstr(svcs[3].problem, "/usr/lib/services/a:3: dependency cycle a -> b -> c -> a"),
	   "a cycle a -> b -> c -> a makes all three BAD, named with file:line (%s)", svcs[3].problem);
	ok(svcs[6].state == SVC_BAD && strstr(svcs[6].problem, "services/d:2: after names 'nosuch', which is no service"),
	   "an unknown after name is named with file:line (%s)", svcs[6].problem);
	ok(svcs[2].budget == 10 && svcs[1].budget == 20 && svcs[0].budget == 30,
	   "budgets add the ready-timeouts along the chain: syslogd 10, klogd 20, console 30 (%d %d %d)",
	   svcs[2].budget, svcs[1].budget, svcs[0].budget);
	ok(svcs[3].budget > 0 && svcs[3].budget <= 30 && svcs[7].budget <= 40,
	   "a cycle's budgets stay finite (a %d, e %d)", svcs[3].budget, svcs[7].budget);
	ok(service_deps(svcs, 7, &failed) == -1 && failed == 3, "a service after a BAD one cannot start");
	ok(service_deps(svcs, 1, &failed) == 0, "klogd waits while syslogd is not ready");
	svcs[2].was_ready = true;
	svcs[2].state = SVC_READY;
	ok(service_deps(svcs, 1, &failed) == 1, "klogd may start once syslogd is ready");
	svcs[2].state = SVC_BACKOFF;
	ok(service_deps(svcs, 1, &failed) == 1, "a dependency restarting after it was ready still counts");
	svcs[2].state = SVC_GIVEN_UP;
	ok(service_deps(svcs, 1, &failed) == -1 && failed == 2, "a given-up dependency fails what waits for it");
	ok(service_deps(svcs, 2, &failed) == 1, "a service without dependencies may start at once");
}

static void test_restart(void)
{
	struct service *s = &svcs[0];
	int delays[8];
	bool allowed[5];

	parse(s, "crash", "command = /bin/false\nrestart = always\nrestart-limit = 3 10\n");
	for (int i = 0; i < 8; i++)
		delays[i] = service_backoff(s, 0.5);
	ok(delays[0] == 1 && delays[1] == 2 && delays[2] == 4 && delays[3] == 8 && delays[4] == 16 &&
		   delays[5] == 30 && delays[7] == 30,
	   "back-off doubles from 1 s up to 30 s (%d %d %d %d %d %d %d)", delays[0], delays[1], delays[2],
	   delays[3], delays[4], delays[5], delays[7]);
	ok(service_backoff(s, 45) == 1, "a service that ran 45 s is restarted after 1 s again");
	for (int i = 0; i < 4; i++)
		allowed[i] = service_restart_allowed(s, 100 + i);
	ok(allowed[0] && allowed[1] && allowed[2] && !allowed[3], "restart-limit 3 10: 3 restarts, the 4th gives up");
	ok(service_restart_allowed(s, 111), "restarts older than the window no longer count");
	parse(s, "crash", "command = /bin/false\nrestart-limit = 0 10\n");
	ok(!service_restart_allowed(s, 1), "restart-limit 0: no restart at all");
	parse(s, "crash", "command = /bin/false\nrestart-limit = none\n");
	for (int i = 0; i < 40; i++)
		allowed[4] = service_restart_allowed(s, i);
	ok(allowed[4], "restart-limit none: a 40th restart in 40 s is allowed");
	parse(s, "x", "command = /bin/x\n");
	ok(service_wants_restart(s, false) && !service_wants_restart(s, true), "on-failure restarts only a failure");
	parse(s, "x", "command = /bin/x\nrestart = always\n");
	ok(service_wants_restart(s, true), "always restarts an exit with status 0 too");
	parse(s, "x", "command = /bin/x\nrestart = never\n");
	ok(!service_wants_restart(s, false), "never restarts nothing");
}

int main(void)
{
	test_full();
	test_defaults();
	test_errors();
	test_order();
	test_restart();
	return tap_done();
}
