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

#include <arpa/inet.h>
#include <ctype.h>
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

/* "$6$[rounds=N$]SALT$HASH": a salt of 1 to 16 and a hash of 86 characters of crypt's alphabet. */
static bool sha512_crypt_ok(const char *h)
{
	const char *p = h + 3, *d;

	if (strncmp(h, "$6$", 3) != 0)
		return false;
	if (strncmp(p, "rounds=", 7) == 0 && (p = strchr(p, '$')) != NULL)
		p++;
	if (!p || !(d = strchr(p, '$')) || d == p || d - p > 16 || strlen(d + 1) != 86)
		return false;
	for (const char *q = p; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '.' && *q != '/' && q != d)
			return false;
	return true;
}

/* RFC 1123: dot-separated labels of 1 to 63 letters, digits and '-' (not first or last), 63 in all. */
static bool hostname_ok(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)s[i]) || (s[i] == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

static bool ipv4_ok(const char *s, uint32_t *ret)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*ret = ntohl(a.s_addr);
	return true;
}

/* The prefix length of a contiguous netmask (255.255.255.0: 24), or -1. */
static int mask_prefix(const char *s)
{
	uint32_t m;
	int n = 0;

	if (!ipv4_ok(s, &m))
		return -1;
	while (n < 32 && (m & (0x80000000u >> n)))
		n++;
	return n > 0 && (n == 32 || (m << n) == 0) ? n : -1;
}

/* --nameserver: addresses separated by commas (ESXi's form) or blanks. */
static bool nameservers_ok(const char *s)
{
	char copy[128], *save = NULL, *w;
	unsigned char a[16];

	snprintf(copy, sizeof(copy), "%s", s);
	for (w = strtok_r(copy, ", ", &save); w; w = strtok_r(NULL, ", ", &save))
		if (inet_pton(AF_INET, w, a) != 1 && inet_pton(AF_INET6, w, a) != 1)
			return false;
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
	if (c->rootpw_crypted && !sha512_crypt_ok(l->w[i]))
		return fail(err, es, l->no, "rootpw --iscrypted needs a sha512-crypt hash ($6$SALT$HASH); make one "
			    "with mkpasswd -m sha512");
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
		else if (strcmp(w, "--overwritevmfs") == 0)
			c->overwrite_datastore = true;
		else if (strcmp(w, "--novmfsondisk") && strcmp(w, "--overwritevsan"))
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

/* The values the host will apply: checked now, so that the first boot does not refuse them. */
static int network_values(struct ks_config *c, int no, char *err, size_t es)
{
	uint32_t ip = 0, gw = 0, mask;

	if (c->ip[0] && !ipv4_ok(c->ip, &ip))
		return fail(err, es, no, "network: --ip=%s is not an IPv4 address; write it as 192.0.2.10", c->ip);
	if (c->netmask[0] && (c->prefix = mask_prefix(c->netmask)) < 0)
		return fail(err, es, no, "network: --netmask=%s is not a netmask; write it as 255.255.255.0", c->netmask);
	if (c->gateway[0] && !ipv4_ok(c->gateway, &gw))
		return fail(err, es, no, "network: --gateway=%s is not an IPv4 address", c->gateway);
	mask = c->prefix > 0 ? 0xffffffffu << (32 - c->prefix) : 0;
	if (!c->dhcp && c->gateway[0] && ((gw & mask) != (ip & mask) || gw == ip))
		return fail(err, es, no, "network: --gateway=%s is not a router in %s/%d; give one in the subnet",
			    c->gateway, c->ip, c->prefix);
	if (c->nameserver[0] && !nameservers_ok(c->nameserver))
		return fail(err, es, no, "network: --nameserver=%s is not a list of addresses; separate them with commas",
			    c->nameserver);
	if (c->hostname[0] && !hostname_ok(c->hostname))
		return fail(err, es, no, "network: --hostname=%s is not a host name; use letters, digits and '-' in "
			    "dot-separated labels, 63 characters at most", c->hostname);
	return 0;
}

static int cmd_network(struct ks_config *c, struct line *l, char *err, size_t es)
{
	for (int i = 1; i < l->n; i++)
		if (net_option(c, l->w[i]) < 0)
			return fail(err, es, l->no, "network: bad option '%s'; use --bootproto=dhcp|static, --ip=, "
				    "--netmask=, --gateway=, --nameserver=, --hostname=", l->w[i]);
	if (!c->dhcp && (!c->ip[0] || !c->netmask[0]))
		return fail(err, es, l->no, "network --bootproto=static needs --ip= and --netmask=");
	return network_values(c, l->no, err, es);
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

/* snprintf() at out + *n, keeping *n the length the text would have. */
static void add(char *out, size_t size, int *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add(char *out, size_t size, int *n, const char *fmt, ...)
{
	va_list ap;
	size_t at = (size_t)*n < size ? (size_t)*n : size;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(out + at, size - at, fmt, ap);
	va_end(ap);
	*n += r > 0 ? r : 0;
}

int ks_firstboot_conf(const struct ks_config *c, const char *hash, char *out, size_t size)
{
	char dns[sizeof(c->nameserver)];
	int n = 0;

	snprintf(dns, sizeof(dns), "%s", c->nameserver);
	for (char *p = dns; *p; p++)
		*p = *p == ',' ? ' ' : *p;
	add(out, size, &n, "# Written by the installer from ks.cfg. At the first boot hostcfg restore applies it,\n"
	    "# saves it into state.tgz and removes this file.\n");
	add(out, size, &n, "network-mode = %s\nuser = root administrator 0 %s\n", c->dhcp ? "dhcp" : "static", hash);
	if (c->hostname[0])
		add(out, size, &n, "hostname = %s\n", c->hostname);
	if (!c->dhcp)
		add(out, size, &n, "network-address = %s/%d\n", c->ip, c->prefix);
	if (!c->dhcp && c->gateway[0])
		add(out, size, &n, "network-gateway = %s\n", c->gateway);
	if (dns[0])
		add(out, size, &n, "dns-servers = %s\n", dns);
	return n;
}

/* A line starting a section: "%firstboot [--interpreter=busybox]" opens it, "%end" closes it. */
static int section(struct ks_config *c, struct line *l, bool *in, char *err, size_t es)
{
	(void)c;
	if (strcmp(l->w[0], "%end") == 0 && *in) {
		*in = false;
		return 0;
	}
	if (strcmp(l->w[0], "%firstboot") == 0 && !*in) {
		for (int i = 1; i < l->n; i++)
			if (strcmp(l->w[i], "--interpreter=busybox") != 0)
				return fail(err, es, l->no, "%%firstboot: option '%.40s' is not supported; the commands run "
					    "with busybox's sh (--interpreter=busybox)", l->w[i]);
		*in = true;
		return 0;
	}
	return fail(err, es, l->no, "section '%.40s' is not supported here; this installer knows %%firstboot "
		    "(ended by %%end or the end of the file)", l->w[0]);
}

/* A line of the %firstboot section, kept as written. */
static int firstboot_line(struct ks_config *c, const char *line, int no, char *err, size_t es)
{
	size_t have = strlen(c->firstboot), n = strlen(line);

	if (have + n + 2 > sizeof(c->firstboot))
		return fail(err, es, no, "%%firstboot is longer than %zu bytes; move the work into a script it fetches",
			    sizeof(c->firstboot) - 1);
	memcpy(c->firstboot + have, line, n);
	memcpy(c->firstboot + have + n, "\n", 2);
	return 0;
}

int ks_parse(const char *text, size_t len, struct ks_config *ret, char *err, size_t err_size)
{
	struct ks_config c = {.dhcp = true};
	char buf[1024], raw[1024];
	struct line l;
	bool in_firstboot = false;
	int no = 0;

	for (const char *p = text, *end = text + len; p < end; no++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		l.no = no + 1;
		if (n >= sizeof(buf) || memchr(p, '\0', n))
			return fail(err, err_size, l.no, "line too long or not text; ks.cfg is a text file");
		memcpy(buf, p, n);
		buf[n] = '\0';
		memcpy(raw, buf, n + 1);
		p += n + 1;
		if (split(buf, &l) < 0 && !in_firstboot)
			return fail(err, err_size, l.no, "too many words on the line");
		if (l.n > 0 && l.w[0][0] == '%') {
			if (section(&c, &l, &in_firstboot, err, err_size) < 0)
				return -1;
			continue;
		}
		if (in_firstboot) {
			if (firstboot_line(&c, raw, l.no, err, err_size) < 0)
				return -1;
			continue;
		}
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
