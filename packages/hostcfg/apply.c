/* The files generated from the configuration (apply.h; docs/configuration.md, "Files"). */
#define _GNU_SOURCE
#include "apply.h"
#include "kv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The groups of the roles (hc_role order); root's own group is 0. */
static const unsigned role_gid[] = {990, 991, 992};
/* The group localadmin (its members: the key localadmin): the DCUI lets them in. */
#define LOCALADMIN_GID 993

const char *const hc_owned[] = {
	HC_CONF, "etc/hostname", "etc/passwd", "etc/group", "etc/shadow", "etc/resolv.conf", "etc/ntp.conf",
	"etc/hostcfg/network.conf", "etc/logd.conf", "etc/hostcfg/hostd.crt", "etc/hostcfg/hostd.key", NULL,
};

const char *hc_area_name(int bit)
{
	static const char *const names[HC_AREAS] = {"hostname", "users", "dns", "network", "syslog", "ntp"};
	return bit >= 0 && bit < HC_AREAS ? names[bit] : "?";
}

static char *gen_hostname(const struct hc_config *c)
{
	return xasprintf("%s\n", c->val[HC_HOSTNAME]);
}

static char *gen_passwd(const struct hc_config *c)
{
	struct buf b = {0};

	buf_puts(&b, "");
	for (size_t i = 0; i < c->nuser; i++) {
		const struct hc_user *u = &c->user[i];
		if (u->uid == 0)
			buf_puts(&b, "root:x:0:0:root:/root:/bin/sh\n");
		else
			buf_printf(&b, "%s:x:%u:%u:%s:/:/bin/sh\n", u->name, u->uid, role_gid[u->role], u->name);
	}
	/* The system's own: the NTP client's user (docs/network.md). */
	buf_puts(&b, "ntpd:x:101:101:NTP client:/:/bin/false\n");
	return b.data;
}

static char *gen_group(const struct hc_config *c)
{
	struct buf b = {0};
	char *members;

	buf_puts(&b, "root:x:0:\n");
	for (int r = 0; r < 3; r++) {
		const char *sep = "";
		buf_printf(&b, "%s:x:%u:", hc_role_name((enum hc_role)r), role_gid[r]);
		for (size_t i = 0; i < c->nuser; i++)
			if ((int)c->user[i].role == r) {
				buf_printf(&b, "%s%s", sep, c->user[i].name);
				sep = ",";
			}
		buf_puts(&b, "\n");
	}
	/* The model's members are blank-separated (canonical: one blank), the group's comma-separated. */
	members = xstrdup(c->val[HC_LOCALADMIN]);
	for (char *p = members; (p = strchr(p, ' '));)
		*p = ',';
	buf_printf(&b, "localadmin:x:%u:%s\n", LOCALADMIN_GID, members);
	free(members);
	buf_puts(&b, "ntpd:x:101:\n");
	return b.data;
}

static char *gen_shadow(const struct hc_config *c)
{
	struct buf b = {0};

	buf_puts(&b, "");
	for (size_t i = 0; i < c->nuser; i++)
		buf_printf(&b, "%s:%s:::::::\n", c->user[i].name, strcmp(c->user[i].hash, "-") ? c->user[i].hash : "");
	buf_puts(&b, "ntpd:!:::::::\n");
	return b.data;
}

/* Each blank-separated word of list as "<prefix><word>\n". */
static void lines_of(struct buf *b, const char *prefix, const char *list)
{
	struct strv w = {0};

	kv_split(list, &w);
	for (size_t i = 0; i < w.n; i++)
		buf_printf(b, "%s%s\n", prefix, w.v[i]);
	strv_free(&w);
}

/* NULL (the file is left to the DHCP client) in DHCP mode without DNS settings. */
static char *gen_resolv(const struct hc_config *c)
{
	struct buf b = {0};

	if (strcmp(c->val[HC_NET_MODE], "dhcp") == 0 && !*c->val[HC_DNS_SERVERS] && !*c->val[HC_DNS_SEARCH])
		return NULL;
	buf_puts(&b, "# Written by hostcfg from /etc/hostcfg/host.conf (dns-servers, dns-search).\n");
	if (*c->val[HC_DNS_SEARCH])
		buf_printf(&b, "search %s\n", c->val[HC_DNS_SEARCH]);
	lines_of(&b, "nameserver ", c->val[HC_DNS_SERVERS]);
	return b.data;
}

static char *gen_ntp(const struct hc_config *c)
{
	struct buf b = {0};

	buf_puts(&b, "# Written by hostcfg from /etc/hostcfg/host.conf (ntp-servers), for ntpd.\n");
	lines_of(&b, "server ", c->val[HC_NTP]);
	return b.data;
}

static char *gen_network(const struct hc_config *c)
{
	const char *addr = c->val[HC_NET_ADDRESS], *slash = strchr(addr, '/');
	struct buf b = {0};

	buf_puts(&b, "# Written by hostcfg from /etc/hostcfg/host.conf, for the network service (shell syntax).\n");
	buf_printf(&b, "MODE=%s\n", c->val[HC_NET_MODE]);
	buf_printf(&b, "ADDRESS=%.*s\n", slash ? (int)(slash - addr) : 0, addr);
	buf_printf(&b, "PREFIX=%s\n", slash ? slash + 1 : "");
	buf_printf(&b, "GATEWAY=%s\n", c->val[HC_NET_GATEWAY]);
	buf_printf(&b, "IPV6_AUTOCONF=%s\n", c->val[HC_IPV6_AUTOCONF]);
	return b.data;
}

static char *gen_syslog(const struct hc_config *c)
{
	struct buf b = {0};

	buf_puts(&b, "# Written by hostcfg from /etc/hostcfg/host.conf (syslog-servers), for logd (docs/logd.md).\n");
	lines_of(&b, "server = ", c->val[HC_SYSLOG]);
	return b.data;
}

static const struct {
	const char *path;
	char *(*gen)(const struct hc_config *c);
	int mode;
	unsigned area;
} gens[] = {
	{"etc/hostname", gen_hostname, 0644, HC_AREA_HOSTNAME},
	{"etc/passwd", gen_passwd, 0644, HC_AREA_USERS},
	{"etc/group", gen_group, 0644, HC_AREA_USERS},
	{"etc/shadow", gen_shadow, 0600, HC_AREA_USERS},
	{"etc/resolv.conf", gen_resolv, 0644, HC_AREA_DNS},
	{"etc/ntp.conf", gen_ntp, 0644, HC_AREA_NTP},
	{"etc/hostcfg/network.conf", gen_network, 0644, HC_AREA_NETWORK},
	{"etc/logd.conf", gen_syslog, 0644, HC_AREA_SYSLOG},
};

/* Write root/rel atomically unless it already holds text; *wrote says whether it did. */
static int file_update(const char *root, const char *rel, const char *text, int mode, bool *wrote, struct diag *d)
{
	char *path = xasprintf("%s/%s", root, rel), *old = NULL, *dir;
	size_t old_len;
	int r = 0;

	*wrote = false;
	if (util_read_file(path, &old, &old_len) == 0 && old_len == strlen(text) && memcmp(old, text, old_len) == 0)
		goto out;
	dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	r = util_mkdir_p(dir, 0755);
	free(dir);
	if (r == 0)
		r = util_write_file_atomic(path, text, strlen(text), mode);
	if (r < 0)
		diag_set_errno(d, -r, path, 0, "cannot write; check that the file system is writable");
	*wrote = r == 0;
out:
	if (old)
		explicit_bzero(old, old_len);
	free(old);
	free(path);
	return r;
}

int hc_apply(const struct hc_config *c, const char *root, bool live, unsigned *changed, struct diag *d)
{
	char *conf;
	bool wrote;
	int r = 0;

	*changed = 0;
	/* host.conf last: a failure on the way leaves it as it was, and applying it again (the
	 * caller's rollback, or the next apply) makes the other files agree with it again. */
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(gens); i++) {
		char *text = gens[i].gen(c);
		if (!text)
			continue;
		r = file_update(root, gens[i].path, text, gens[i].mode, &wrote, d);
		if (wrote)
			*changed |= gens[i].area;
		explicit_bzero(text, strlen(text));
		free(text);
	}
	if (r == 0) {
		conf = hc_format(c);
		r = file_update(root, HC_CONF, conf, 0600, &wrote, d);
		explicit_bzero(conf, strlen(conf));
		free(conf);
	}
	if (r == 0 && live && sethostname(c->val[HC_HOSTNAME], strlen(c->val[HC_HOSTNAME])) < 0)
		r = diag_set_errno(d, errno, "hostname", 0, "cannot set the running host name; run as root");
	return r;
}
