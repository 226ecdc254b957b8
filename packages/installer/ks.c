/* ks.cfg parsing. Example:
 *
 *   vmaccepteula
 *   rootpw VMware1!
 *   install --firstdisk --overwritevmfs
 *   network --bootproto=static --ip=192.0.2.10 --netmask=255.255.255.0 --gateway=192.0.2.1
 *   reboot
 */
#define _GNU_SOURCE
#include "ks.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_WORDS 16

struct line {
	char *w[MAX_WORDS];
	int n, no;
};

static int fail(char *err, size_t size, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t size, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, size, "ks.cfg:%d: ", line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < size)
		vsnprintf(err + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* "--ip=1.2.3.4" with key "--ip": copy the value; false if w is another option. */
static bool opt_value(const char *w, const char *key, char *out, size_t size)
{
	size_t k = strlen(key);

	if (strncmp(w, key, k) != 0 || w[k] != '=')
		return false;
	snprintf(out, size, "%s", w + k + 1);
	return true;
}

static int cmd_rootpw(struct ks_config *c, struct line *l, char *err, size_t es)
{
	int i = 1;

	if (i < l->n && strcmp(l->w[i], "--iscrypted") == 0) {
		c->rootpw_crypted = true;
		i++;
	}
	if (i != l->n - 1 || strlen(l->w[i]) >= sizeof(c->rootpw))
		return fail(err, es, l->no, "rootpw needs one password (rootpw [--iscrypted] PASSWORD)");
	snprintf(c->rootpw, sizeof(c->rootpw), "%s", l->w[i]);
	return 0;
}

static int cmd_install(struct ks_config *c, struct line *l, char *err, size_t es)
{
	for (int i = 1; i < l->n; i++) {
		const char *w = l->w[i];
		if (strcmp(w, "--firstdisk") == 0 || strncmp(w, "--firstdisk=", 12) == 0)
			c->disk = KS_DISK_FIRST;
		else if (opt_value(w, "--disk", c->disk_name, sizeof(c->disk_name)) ||
			 opt_value(w, "--drive", c->disk_name, sizeof(c->disk_name)))
			c->disk = KS_DISK_NAMED;
		else if (strcmp(w, "--overwritevmfs") && strcmp(w, "--novmfsondisk") && strcmp(w, "--overwritevsan"))
			return fail(err, es, l->no, "install: unknown option '%s'; use --firstdisk or --disk=NAME", w);
	}
	if (c->disk == KS_DISK_UNSET || (c->disk == KS_DISK_NAMED && !c->disk_name[0]))
		return fail(err, es, l->no, "install needs --firstdisk or --disk=NAME");
	return 0;
}

static int net_option(struct ks_config *c, const char *w)
{
	char proto[16];

	if (opt_value(w, "--bootproto", proto, sizeof(proto))) {
		if (strcmp(proto, "dhcp") && strcmp(proto, "static"))
			return -1;
		c->dhcp = strcmp(proto, "dhcp") == 0;
		return 0;
	}
	if (opt_value(w, "--ip", c->ip, sizeof(c->ip)) || opt_value(w, "--netmask", c->netmask, sizeof(c->netmask)) ||
	    opt_value(w, "--gateway", c->gateway, sizeof(c->gateway)) ||
	    opt_value(w, "--nameserver", c->nameserver, sizeof(c->nameserver)) ||
	    opt_value(w, "--hostname", c->hostname, sizeof(c->hostname)))
		return 0;
	/* Accepted for compatibility; the appliance configures these later through hostd. */
	return strncmp(w, "--device=", 9) == 0 || strncmp(w, "--vlanid=", 9) == 0 ||
	       strncmp(w, "--addvmportgroup=", 17) == 0 ? 0 : -1;
}

static int cmd_network(struct ks_config *c, struct line *l, char *err, size_t es)
{
	for (int i = 1; i < l->n; i++)
		if (net_option(c, l->w[i]) < 0)
			return fail(err, es, l->no, "network: bad option '%s'; use --bootproto=dhcp|static, --ip=, "
				    "--netmask=, --gateway=, --nameserver=, --hostname=", l->w[i]);
	if (!c->dhcp && (!c->ip[0] || !c->netmask[0]))
		return fail(err, es, l->no, "network --bootproto=static needs --ip= and --netmask=");
	return 0;
}

static int command(struct ks_config *c, struct line *l, char *err, size_t es)
{
	const char *cmd = l->w[0];

	if (strcmp(cmd, "vmaccepteula") == 0 || strcmp(cmd, "accepteula") == 0)
		return c->eula = true, 0;
	if (strcmp(cmd, "rootpw") == 0)
		return cmd_rootpw(c, l, err, es);
	if (strcmp(cmd, "install") == 0)
		return cmd_install(c, l, err, es);
	if (strcmp(cmd, "network") == 0)
		return cmd_network(c, l, err, es);
	if (strcmp(cmd, "reboot") == 0 || strcmp(cmd, "poweroff") == 0) {
		c->end = cmd[0] == 'r' ? KS_END_REBOOT : KS_END_POWEROFF;
		return 0;
	}
	return fail(err, es, l->no, "unknown command '%.40s'; this installer knows vmaccepteula, rootpw, install, "
		    "network, reboot and poweroff", cmd);
}

static int split(char *s, struct line *l)
{
	char *save = NULL;

	l->n = 0;
	for (char *w = strtok_r(s, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (l->n == MAX_WORDS)
			return -1;
		l->w[l->n++] = w;
	}
	return 0;
}

static int finish(struct ks_config *c, int lines, char *err, size_t es)
{
	if (!c->eula)
		return fail(err, es, lines, "missing vmaccepteula; accept the license to install");
	if (!c->rootpw[0])
		return fail(err, es, lines, "missing rootpw; set the administrator's password");
	if (c->disk == KS_DISK_UNSET)
		return fail(err, es, lines, "missing install; say where to install (install --firstdisk)");
	return 0;
}

int ks_parse(const char *text, size_t len, struct ks_config *ret, char *err, size_t err_size)
{
	struct ks_config c = {.dhcp = true};
	char buf[1024];
	struct line l;
	int no = 0;

	for (const char *p = text, *end = text + len; p < end; no++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		l.no = no + 1;
		if (n >= sizeof(buf) || memchr(p, '\0', n))
			return fail(err, err_size, l.no, "line too long or not text; ks.cfg is a text file");
		memcpy(buf, p, n);
		buf[n] = '\0';
		p += n + 1;
		if (split(buf, &l) < 0)
			return fail(err, err_size, l.no, "too many words on the line");
		if (l.n == 0 || l.w[0][0] == '#')
			continue;
		if (command(&c, &l, err, err_size) < 0)
			return -1;
	}
	if (finish(&c, no, err, err_size) < 0)
		return -1;
	*ret = c;
	return 0;
}
