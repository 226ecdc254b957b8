/* hostctl's command line (args.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "args.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { G_HOST = 1 << 16, G_SOCKET, G_USER, G_PWFILE, G_CA, G_FP, G_SNI, G_INSECURE, G_JSON, G_HELP };

static const struct option longopts[] = {
	{ "host", required_argument, NULL, G_HOST },
	{ "socket", required_argument, NULL, G_SOCKET },
	{ "user", required_argument, NULL, G_USER },
	{ "password-file", required_argument, NULL, G_PWFILE },
	{ "ca", required_argument, NULL, G_CA },
	{ "fingerprint", required_argument, NULL, G_FP },
	{ "server-name", required_argument, NULL, G_SNI },
	{ "insecure", no_argument, NULL, G_INSECURE },
	{ "json", no_argument, NULL, G_JSON },
	{ "help", no_argument, NULL, G_HELP },
	{ "role", required_argument, NULL, O_ROLE },
	{ "memory", required_argument, NULL, O_MEMORY },
	{ "cpus", required_argument, NULL, O_CPUS },
	{ "kernel", required_argument, NULL, O_KERNEL },
	{ "initrd", required_argument, NULL, O_INITRD },
	{ "cmdline", required_argument, NULL, O_CMDLINE },
	{ "disk", required_argument, NULL, O_DISK },
	{ "nics", required_argument, NULL, O_NICS },
	{ "autostart", no_argument, NULL, O_AUTOSTART },
	{ "lines", required_argument, NULL, O_LINES },
	{ "new-password-file", required_argument, NULL, O_NEWPW },
	{ NULL, 0, NULL, 0 },
};

const char *args_option_name(unsigned bit)
{
	for (const struct option *o = longopts; o->name; o++)
		if ((unsigned)o->val == bit)
			return o->name;
	return "?";
}

/* A whole number from lo to hi. */
static int number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!*s || *s == ' ' || *s == '+')
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int bad(char *err, size_t n, const char *fmt, const char *what)
{
	snprintf(err, n, fmt, what);
	return -1;
}

/* A global option: 0, 1 not one. */
static int global(int c, struct args *a)
{
	switch (c) {
	case G_HOST: a->host = optarg; return 0;
	case G_SOCKET: a->socket = optarg; return 0;
	case G_USER: a->user = optarg; return 0;
	case G_PWFILE: a->password_file = optarg; return 0;
	case G_CA: a->ca = optarg; return 0;
	case G_FP: a->fingerprint = optarg; return 0;
	case G_SNI: a->server_name = optarg; return 0;
	case G_INSECURE: a->insecure = true; return 0;
	case G_JSON: a->json = true; return 0;
	case G_HELP: a->help = true; return 0;
	}
	return 1;
}

/* A command option: 0, -1 a bad value. */
static int command_opt(int c, struct args *a, char *err, size_t n)
{
	a->set |= (unsigned)c;
	switch (c) {
	case O_ROLE: a->role = optarg; return 0;
	case O_KERNEL: a->kernel = optarg; return 0;
	case O_INITRD: a->initrd = optarg; return 0;
	case O_CMDLINE: a->cmdline = optarg; return 0;
	case O_NEWPW: a->new_password_file = optarg; return 0;
	case O_AUTOSTART: a->autostart = true; return 0;
	case O_MEMORY:
		return number(optarg, 1, 1L << 30, &a->memory) ? bad(err, n, "--memory '%s' is not a size in MiB; e.g. --memory 512", optarg) : 0;
	case O_CPUS:
		return number(optarg, 1, 1024, &a->cpus) ? bad(err, n, "--cpus '%s' is not a number of CPUs from 1; e.g. --cpus 2", optarg) : 0;
	case O_NICS:
		return number(optarg, 0, 8, &a->nics) ? bad(err, n, "--nics '%s' is not a number of NICs from 0 to 8", optarg) : 0;
	case O_LINES:
		return number(optarg, 1, 1000000, &a->lines) ? bad(err, n, "-n '%s' is not a number of lines from 1", optarg) : 0;
	case O_DISK:
		if (a->ndisks == MAX_DISKS)
			return bad(err, n, "more than %s --disk options", "16");
		a->disk[a->ndisks++] = optarg;
		return 0;
	}
	return bad(err, n, "unknown option %s", "?");
}

int args_parse(int argc, char **argv, struct args *a, char *err, size_t errlen)
{
	int c;

	memset(a, 0, sizeof(*a));
	optind = 0; /* GNU: start afresh */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			a->help = true;
		} else if (c == 'n') {
			if (command_opt(O_LINES, a, err, errlen))
				return -1;
		} else if (c == '?') {
			return bad(err, errlen, "unknown option '%s'", argv[optind - 1]);
		} else if (c == ':') {
			return bad(err, errlen, "option '%s' needs a value", argv[optind - 1]);
		} else if (global(c, a) && command_opt(c, a, err, errlen)) {
			return -1;
		}
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	return 0;
}

int host_port(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *p = NULL, *h = spec;
	size_t hl;
	long num;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -1;
		h = spec + 1;
		hl = (size_t)(close - h);
		p = close[1] ? close + 2 : NULL;
	} else {
		const char *colon = strchr(spec, ':');

		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		hl = colon ? (size_t)(colon - spec) : strlen(spec);
		p = colon ? colon + 1 : NULL;
	}
	if (hl == 0 || hl >= hostlen || (p && number(p, 1, 65535, &num)))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%s", p ? p : "443");
	return 0;
}

/* prefix and s, every byte but letters, digits, "-._~" (and "/" with slash) percent-encoded. */
static char *encode(const char *prefix, const char *s, bool slash)
{
	char *out = malloc(strlen(prefix) + 3 * strlen(s) + 1), *o;

	if (!out)
		return NULL;
	o = stpcpy(out, prefix);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("-._~", *c) ||
		    (slash && *c == '/'))
			*o++ = (char)*c;
		else
			o += sprintf(o, "%%%02X", *c);
	}
	*o = '\0';
	return out;
}

char *datastore_url(const char *path)
{
	while (*path == '/')
		path++;
	return encode("/api/datastore/", path, true);
}

char *url_name(const char *name)
{
	return encode("", name, false);
}

bool config_list_key(const char *key)
{
	static const char *const lists[] = { "dns-servers", "dns-search", "syslog-servers", "ntp-servers", "localadmin", "dns", "syslog", "ntp" };

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strcmp(key, lists[i]) == 0)
			return true;
	return false;
}

static json_t *words(const char *v)
{
	json_t *a = json_array();
	const char *sep = " \t,";

	while (a && *v) {
		size_t n;

		v += strspn(v, sep);
		n = strcspn(v, sep);
		if (n)
			json_array_append_new(a, json_stringn(v, n));
		v += n;
	}
	return a;
}

json_t *config_patch(char *const *kv, int n, char *err, size_t errlen)
{
	json_t *o = json_object();

	for (int i = 0; o && i < n; i++) {
		const char *eq = strchr(kv[i], '=');
		char key[128];

		if (!eq || eq == kv[i] || (size_t)(eq - kv[i]) >= sizeof(key)) {
			snprintf(err, errlen, "'%s' is not KEY=VALUE; e.g. hostname=esx-01", kv[i]);
			break;
		}
		memcpy(key, kv[i], (size_t)(eq - kv[i]));
		key[eq - kv[i]] = '\0';
		if (json_object_get(o, key)) {
			snprintf(err, errlen, "%s is given twice; give each key once", key);
			break;
		}
		if (json_object_set_new(o, key, config_list_key(key) ? words(eq + 1) : json_string(eq + 1))) {
			snprintf(err, errlen, "the value of %s is not UTF-8 text", key);
			break;
		}
		if (i == n - 1)
			return o;
	}
	if (o && n == 0)
		snprintf(err, errlen, "no KEY=VALUE given; e.g. hostctl config set hostname=esx-01");
	json_decref(o);
	return NULL;
}
