/* hostcfg: the host's configuration from the command line (docs/configuration.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "host.h"

static const char usage[] =
	"Usage: hostcfg [--root DIR] COMMAND [ARGS]\n"
	"\n"
	"The host's configuration, kept in /etc/hostcfg/host.conf and saved into /bootbank/state.tgz.\n"
	"\n"
	"Commands:\n"
	"  show [--json]             every setting and the users (never a password or its hash)\n"
	"  get KEY                   one setting\n"
	"  set KEY=VALUE...          change settings, all or none; applies them and asks for a save\n"
	"  user add NAME ROLE        add a user (ROLE: administrator, operator or read-only); the\n"
	"                            password is read from standard input, never the command line\n"
	"  user del NAME             remove a user (never root)\n"
	"  passwd NAME               change a user's password (read from standard input)\n"
	"  apply                     write the files generated from /etc/hostcfg/host.conf and set the hostname\n"
	"  save                      save the configuration into /bootbank/state.tgz now\n"
	"  restore                   at boot: restore the saved state (or bank A's first-boot settings)\n"
	"  restore-defaults          remove the saved state and go back to the defaults\n"
	"  saver [--delay S] [--interval S]\n"
	"                            the service that saves a change after S seconds (default 2),\n"
	"                            everything every S seconds (default 3600) and at SIGTERM\n"
	"\n"
	"Keys: hostname, network-mode, network-address, network-gateway, dns-servers, dns-search,\n"
	"ipv6-autoconf, syslog-servers, ntp-servers, localadmin (docs/configuration.md).\n"
	"--root DIR works on a directory tree instead of the running host (no mount, no sethostname).\n"
	"Exit status: 0 done, 1 refused or failed (nothing changed), 2 bad usage.\n";

static void usage_error(const char *what)
{
	fprintf(stderr, "hostcfg: %s; see hostcfg --help\n", what);
	exit(2);
}

static int fail(const struct diag *d)
{
	diag_print("hostcfg", d);
	return 1;
}

/* The running configuration; a damaged host.conf is refused (fix it or restore-defaults). */
static int conf_load(const struct host *h, struct hc_config *c, struct diag *d)
{
	int r = host_conf_load(h, c, d);

	if (r < 0) {
		size_t n = strlen(d->msg);
		snprintf(d->msg + n, sizeof(d->msg) - n, " (or run hostcfg restore-defaults)");
	}
	return r;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	putchar('"');
}

static void show_json(const struct hc_config *c)
{
	printf("{");
	for (int k = 0; k < HC_NKEYS; k++) {
		printf("%s", k ? ", " : "");
		json_str(hc_key_name((enum hc_key)k));
		printf(": ");
		json_str(c->val[k]);
	}
	printf(", \"users\": [");
	for (size_t i = 0; i < c->nuser; i++) {
		printf("%s{\"name\": ", i ? ", " : "");
		json_str(c->user[i].name);
		printf(", \"role\": \"%s\", \"uid\": %u, \"password\": %s}", hc_role_name(c->user[i].role),
		       c->user[i].uid, c->user[i].hash[0] == '$' ? "true" : "false");
	}
	printf("]}\n");
}

static int cmd_show(struct host *h, int argc, char **argv, struct diag *d)
{
	struct hc_config c = {0};
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;

	if (argc > 2 || (argc == 2 && !json))
		usage_error("show takes only --json");
	if (conf_load(h, &c, d) < 0)
		return -EINVAL;
	if (json) {
		show_json(&c);
	} else {
		for (int k = 0; k < HC_NKEYS; k++)
			printf("%s = %s\n", hc_key_name((enum hc_key)k), c.val[k]);
		for (size_t i = 0; i < c.nuser; i++)
			printf("user %s: %s, uid %u, %s\n", c.user[i].name, hc_role_name(c.user[i].role), c.user[i].uid,
			       c.user[i].hash[0] == '$' ? "password set"
			       : strcmp(c.user[i].hash, "-") == 0 ? "no password set (the console lets in; set one)"
								   : "locked");
	}
	hc_free(&c);
	return 0;
}

static int cmd_get(struct host *h, int argc, char **argv, struct diag *d)
{
	struct hc_config c = {0};
	char *v = NULL;
	int r;

	if (argc != 2)
		usage_error("get takes one KEY");
	if ((r = conf_load(h, &c, d)) == 0 && (r = hc_get(&c, argv[1], &v, d)) == 0)
		printf("%s\n", v);
	free(v);
	hc_free(&c);
	return r;
}

/* KEY=VALUE pairs onto a copy; the copy replaces nothing unless every pair and the whole agree. */
static int cmd_set(struct host *h, int argc, char **argv, struct diag *d)
{
	struct hc_config cur = {0}, c = {0};
	int r;

	if (argc < 2)
		usage_error("set takes KEY=VALUE pairs");
	for (int i = 1; i < argc; i++)
		if (!strchr(argv[i], '='))
			usage_error("set takes KEY=VALUE pairs (no '=' in an argument)");
	if ((r = conf_load(h, &cur, d)) < 0)
		return r;
	hc_copy(&c, &cur);
	for (int i = 1; r == 0 && i < argc; i++) {
		char *key = xstrndup(argv[i], strcspn(argv[i], "="));
		r = hc_set(&c, key, argv[i] + strlen(key) + 1, d);
		free(key);
	}
	if (r == 0 && (r = hc_check(&c, d)) == 0)
		r = host_commit(h, &cur, &c, d);
	hc_free(&c);
	hc_free(&cur);
	return r;
}

/* A password from standard input: one line; on a terminal, asked twice without echo. */
static int password_read(char *out, size_t size, struct diag *d)
{
	bool tty = isatty(0);
	struct termios old, quiet;
	char again[300];
	int r = 0;

	if (tty && tcgetattr(0, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	if (tty)
		fputs("Password: ", stderr);
	if (!fgets(out, (int)size, stdin))
		r = diag_set(d, "password", 0, "nothing on standard input; give the password on standard input");
	if (r == 0 && tty) {
		fputs("\nAgain: ", stderr);
		if (!fgets(again, sizeof(again), stdin) || strcmp(again, out) != 0)
			r = diag_set(d, "password", 0, "the two passwords differ; try again");
		fputs("\n", stderr);
		explicit_bzero(again, sizeof(again));
	}
	if (tty)
		tcsetattr(0, TCSAFLUSH, &old);
	out[strcspn(out, "\n")] = '\0';
	return r;
}

static int cmd_user(struct host *h, int argc, char **argv, struct diag *d)
{
	struct hc_config c = {0}, old = {0};
	char pw[300] = "";
	bool add = argc == 4 && strcmp(argv[1], "add") == 0, del = argc == 3 && strcmp(argv[1], "del") == 0;
	bool passwd = argc == 2 && strcmp(argv[0], "passwd") == 0;
	int r;

	if (!add && !del && !passwd)
		usage_error("use user add NAME ROLE, user del NAME or passwd NAME");
	if ((r = conf_load(h, &c, d)) < 0)
		goto out;
	hc_copy(&old, &c);
	/* The name and role first: no password is asked for a command that would fail anyway. */
	if (add)
		r = hc_user_check_new(&c, argv[2], argv[3], d);
	if (passwd && !hc_user_find(&c, argv[1]))
		r = diag_set(d, "user", 0, "no user named '%.40s'; add it with hostcfg user add", argv[1]);
	if (r == 0 && (add || passwd) && (r = password_read(pw, sizeof(pw), d)) == 0)
		r = add ? hc_user_add(&c, argv[2], argv[3], pw, d) : hc_user_passwd(&c, argv[1], pw, d);
	else if (del)
		r = hc_user_del(&c, argv[2], d);
	explicit_bzero(pw, sizeof(pw));
	if (r == 0)
		r = host_commit(h, &old, &c, d);
out:
	hc_free(&old);
	hc_free(&c);
	return r;
}

static int cmd_apply(struct host *h, int argc, char **argv, struct diag *d)
{
	struct hc_config c = {0};
	unsigned changed;
	int r;

	(void)argv;
	if (argc != 1)
		usage_error("apply takes no arguments");
	if ((r = conf_load(h, &c, d)) == 0 && (r = hc_apply(&c, h->root, h->live, &changed, d)) == 0)
		host_reload(h, changed);
	hc_free(&c);
	return r;
}

static int cmd_save(struct host *h, int argc, char **argv, struct diag *d)
{
	(void)argv;
	if (argc != 1)
		usage_error("save takes no arguments");
	return host_save(h, d);
}

static int cmd_defaults(struct host *h, int argc, char **argv, struct diag *d)
{
	struct hc_config c;
	unsigned changed;
	int r = 0;

	(void)argv;
	if (argc != 1)
		usage_error("restore-defaults takes no arguments");
	if (host_has_bank(h))
		r = host_state_remove(h, d);
	host_defaults(h, &c);
	if (r == 0 && (r = hc_apply(&c, h->root, h->live, &changed, d)) == 0) {
		host_reload(h, changed);
		printf("hostcfg: the defaults are back; the saved state is removed\n");
	}
	hc_free(&c);
	return r;
}

static int cmd_restore(struct host *h, int argc, char **argv, struct diag *d)
{
	(void)argv;
	if (argc != 1)
		usage_error("restore takes no arguments");
	return restore_run(h, d);
}

static int cmd_saver(struct host *h, int argc, char **argv, struct diag *d)
{
	(void)d;
	for (int i = 1; i < argc; i++) {
		double *to = strcmp(argv[i], "--delay") == 0 ? &h->delay : strcmp(argv[i], "--interval") == 0 ? &h->interval
													: NULL;
		char *end;
		if (!to || i + 1 == argc)
			usage_error("saver takes --delay SECONDS and --interval SECONDS");
		*to = strtod(argv[++i], &end);
		if (*end || *to <= 0 || *to > 86400)
			usage_error("a saver delay or interval is a number of seconds, 0 to 86400");
	}
	exit(host_saver_run(h));
}

static const struct {
	const char *name;
	int (*fn)(struct host *h, int argc, char **argv, struct diag *d);
	bool locked; /* changes the configuration: under the lock */
} commands[] = {
	{"show", cmd_show, false}, {"get", cmd_get, false},         {"set", cmd_set, true},
	{"user", cmd_user, true},  {"passwd", cmd_user, true},      {"apply", cmd_apply, true},
	{"save", cmd_save, true},  {"restore", cmd_restore, true},  {"restore-defaults", cmd_defaults, true},
	{"saver", cmd_saver, false},
};

static int dispatch(struct host *h, int argc, char **argv)
{
	struct diag d;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if (commands[i].locked && host_lock(h, &d) < 0)
			return fail(&d);
		r = commands[i].fn(h, argc, argv, &d);
		host_unlock(h);
		return r < 0 ? fail(&d) : 0;
	}
	fprintf(stderr, "hostcfg: unknown command '%s'; see hostcfg --help\n", argv[0]);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"root", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'}, {0}};
	struct host h = {.root = "/", .live = true, .lock_fd = -1, .delay = 2, .interval = 3600};
	struct stat st;
	int ch;

	util_progname = "hostcfg";
	umask(022);
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (ch == 'h')
			return fputs(usage, stdout), 0;
		if (ch != 'r')
			usage_error("bad option");
		h.root = optarg;
		h.live = strcmp(optarg, "/") == 0;
		if (stat(optarg, &st) < 0 || !S_ISDIR(st.st_mode))
			usage_error("--root names no folder");
	}
	if (optind == argc)
		usage_error("no command given");
	return dispatch(&h, argc - optind, argv + optind);
}
