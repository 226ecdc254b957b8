/* The host's configuration model and host.conf (config.h; docs/configuration.md). */
#define _GNU_SOURCE
#include "hostconfig.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "util.h"

#define WHY_MAX 320
#define UID_FIRST 1000
#define UID_LAST 59999
#define HOSTNAME_MAX 63 /* the kernel keeps 64 bytes with the NUL */

/* A value check: 0 and the canonical text appended to out, or -1 with why = "what; what to do". */
typedef int (*check_fn)(const char *in, struct buf *out, char *why);

static int why_set(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int why_set(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, WHY_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

static bool ipv4_parse(const char *s, uint32_t *ret);
static bool user_name_ok(const char *s);

/* RFC 1123 labels, dot-separated, each 1..63 of [A-Za-z0-9-] not starting or ending with '-'. */
static bool dns_name_ok(const char *s, size_t max)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > max || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i <= len; i++) {
		char ch = s[i];
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)ch) && !(ch == '-' && label > 0))
			return false;
		label++;
	}
	return true;
}

/* A server's name: a DNS name whose last label is not all digits (RFC 1123, 2.1: "999.1.1.1" is a
 * bad address, not a name), or an IPv4 address. */
static bool server_name_ok(const char *s)
{
	const char *last = strrchr(s, '.');
	uint32_t a;

	last = last ? last + 1 : s;
	if (strspn(last, "0123456789") == strlen(last))
		return ipv4_parse(s, &a);
	return dns_name_ok(s, 253);
}

static int check_hostname(const char *in, struct buf *out, char *why)
{
	if (!dns_name_ok(in, HOSTNAME_MAX))
		return why_set(why, "'%.80s' is not a host name; use letters, digits and '-' (not first or last) in "
			       "dot-separated labels, %d characters at most (RFC 1123)", in, HOSTNAME_MAX);
	buf_puts(out, in);
	return 0;
}

static int check_choice(const char *in, struct buf *out, char *why, const char *a, const char *b)
{
	if (strcmp(in, a) && strcmp(in, b))
		return why_set(why, "'%.80s' is not a choice; use %s or %s", in, a, b);
	buf_puts(out, in);
	return 0;
}

static int check_mode(const char *in, struct buf *out, char *why)
{
	return check_choice(in, out, why, "dhcp", "static");
}

static int check_onoff(const char *in, struct buf *out, char *why)
{
	return check_choice(in, out, why, "on", "off");
}

static bool ipv4_parse(const char *s, uint32_t *ret)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*ret = ntohl(a.s_addr);
	return true;
}

/* A decimal number lo..hi without sign or leading zero. */
static bool number_parse(const char *s, long lo, long hi, long *ret)
{
	long v = 0;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 6)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		v = v * 10 + (*s - '0');
	}
	*ret = v;
	return v >= lo && v <= hi;
}

/* A unicast host address: not 0.x, loopback, multicast, reserved or broadcast. */
static bool ipv4_unicast(uint32_t a)
{
	unsigned top = a >> 24;
	return top != 0 && top != 127 && top < 224;
}

static uint32_t prefix_mask(long prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static int check_address(const char *in, struct buf *out, char *why)
{
	char ip[32];
	const char *slash = strchr(in, '/');
	uint32_t a, mask;
	long prefix;

	if (!*in)
		return 0; /* unset */
	if (!slash || (size_t)(slash - in) >= sizeof(ip))
		return why_set(why, "'%.80s' is not ADDRESS/PREFIX; write it as 192.0.2.10/24", in);
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - in), in);
	if (!ipv4_parse(ip, &a))
		return why_set(why, "'%.80s' is not an IPv4 address; write four numbers 0-255, as 192.0.2.10", ip);
	if (!number_parse(slash + 1, 1, 32, &prefix))
		return why_set(why, "prefix '%.20s' is not 1 to 32; write the subnet as a prefix length, as /24",
			       slash + 1);
	mask = prefix_mask(prefix);
	if (!ipv4_unicast(a))
		return why_set(why, "%s is not a host's address (0.x, 127.x, multicast or reserved); give the host's own",
			       ip);
	if (prefix <= 30 && ((a & ~mask) == 0 || (a & ~mask) == ~mask))
		return why_set(why, "%s is the network or broadcast address of /%ld; give a host address in the subnet",
			       ip, prefix);
	buf_printf(out, "%s/%ld", ip, prefix);
	return 0;
}

static int check_gateway(const char *in, struct buf *out, char *why)
{
	uint32_t a;

	if (!*in)
		return 0;
	if (!ipv4_parse(in, &a) || !ipv4_unicast(a))
		return why_set(why, "'%.80s' is not a host's IPv4 address; write four numbers 0-255, as 192.0.2.1", in);
	buf_puts(out, in);
	return 0;
}

/* Each blank-separated word of in through one check, at most max of them, joined by one blank. */
static int check_list(const char *in, struct buf *out, char *why, size_t max, const char *what,
		      int (*one)(const char *w, char *why))
{
	struct strv words = {0};
	int r = 0;

	kv_split(in, &words);
	if (words.n > max)
		r = why_set(why, "%zu %s given, at most %zu are allowed; remove some", words.n, what, max);
	for (size_t i = 0; r == 0 && i < words.n; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcmp(words.v[i], words.v[j]) == 0)
				r = why_set(why, "'%.80s' is listed twice; list it once", words.v[i]);
		if (r == 0)
			r = one(words.v[i], why);
		if (r == 0)
			buf_printf(out, "%s%s", i ? " " : "", words.v[i]);
	}
	strv_free(&words);
	return r;
}

static int one_ip(const char *w, char *why)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, w, a) == 1 || inet_pton(AF_INET6, w, a) == 1)
		return 0;
	return why_set(why, "'%.80s' is not an IPv4 or IPv6 address; give the server's address, as 192.0.2.53", w);
}

static int one_domain(const char *w, char *why)
{
	const char *last = strrchr(w, '.');

	if (dns_name_ok(w, 253) && strspn(last ? last + 1 : w, "0123456789") != strlen(last ? last + 1 : w))
		return 0;
	return why_set(why, "'%.80s' is not a domain name; use letters, digits and '-' in dot-separated labels", w);
}

static int one_host(const char *w, char *why)
{
	unsigned char a[16];

	if (server_name_ok(w) || inet_pton(AF_INET6, w, a) == 1)
		return 0;
	return why_set(why, "'%.80s' is not a host name or address; give the server, as pool.ntp.org or 192.0.2.123", w);
}

/* scheme://HOST:PORT, HOST a name, an IPv4 address or [IPv6]. */
static int one_url(const char *w, char *why)
{
	static const char *const schemes[] = {"udp://", "tcp://", "tls://"};
	const char *host = NULL, *colon, *end;
	char h[256];
	unsigned char a[16];
	long port;

	for (size_t i = 0; i < ARRAY_SIZE(schemes); i++)
		if (strncmp(w, schemes[i], 6) == 0)
			host = w + 6;
	if (!host)
		return why_set(why, "'%.80s' is not a syslog URL; write udp://HOST:PORT, tcp://HOST:PORT or "
			       "tls://HOST:PORT", w);
	colon = strrchr(host, ':');
	if (!colon || !number_parse(colon + 1, 1, 65535, &port))
		return why_set(why, "'%.80s' has no port 1-65535; end it with :514 (udp, tcp) or :6514 (tls)", w);
	end = colon;
	if (host[0] == '[') {
		if (end - host < 3 || end[-1] != ']')
			return why_set(why, "'%.80s': an IPv6 host is written in brackets, as [2001:db8::1]:514", w);
		host++, end--;
	}
	snprintf(h, sizeof(h), "%.*s", (int)(end - host < 255 ? end - host : 255), host);
	if (!(host[-1] == '[' ? inet_pton(AF_INET6, h, a) == 1 : server_name_ok(h)))
		return why_set(why, "'%.80s' names no valid host; give a host name or address", w);
	return 0;
}

static int one_user(const char *w, char *why)
{
	if (user_name_ok(w))
		return 0;
	return why_set(why, "'%.80s' is not a user name; use a-z, 0-9, '_' and '-', 32 at most", w);
}

static int check_dns(const char *in, struct buf *out, char *why)
{
	return check_list(in, out, why, 3, "DNS servers", one_ip);
}

static int check_search(const char *in, struct buf *out, char *why)
{
	return check_list(in, out, why, 6, "search domains", one_domain);
}

static int check_syslog(const char *in, struct buf *out, char *why)
{
	return check_list(in, out, why, 4, "syslog servers", one_url);
}

static int check_ntp(const char *in, struct buf *out, char *why)
{
	return check_list(in, out, why, 8, "NTP servers", one_host);
}

static int check_members(const char *in, struct buf *out, char *why)
{
	return check_list(in, out, why, 16, "members", one_user);
}

static const struct {
	const char *name, *def;
	check_fn check;
} keys[HC_NKEYS] = {
	[HC_HOSTNAME] = {"hostname", "localhost", check_hostname},
	[HC_NET_MODE] = {"network-mode", "dhcp", check_mode},
	[HC_NET_ADDRESS] = {"network-address", "", check_address},
	[HC_NET_GATEWAY] = {"network-gateway", "", check_gateway},
	[HC_DNS_SERVERS] = {"dns-servers", "", check_dns},
	[HC_DNS_SEARCH] = {"dns-search", "", check_search},
	[HC_IPV6_AUTOCONF] = {"ipv6-autoconf", "on", check_onoff},
	[HC_SYSLOG] = {"syslog-servers", "", check_syslog},
	[HC_NTP] = {"ntp-servers", "", check_ntp},
	[HC_LOCALADMIN] = {"localadmin", "", check_members},
};

static const char *const roles[] = {"administrator", "operator", "read-only"};

const char *hc_key_name(enum hc_key k)
{
	return keys[k].name;
}

int hc_key_find(const char *name)
{
	for (int k = 0; k < HC_NKEYS; k++)
		if (strcmp(name, keys[k].name) == 0)
			return k;
	return -1;
}

const char *hc_role_name(enum hc_role r)
{
	return roles[r];
}

int hc_role_find(const char *name)
{
	for (size_t r = 0; r < ARRAY_SIZE(roles); r++)
		if (strcmp(name, roles[r]) == 0)
			return (int)r;
	return -1;
}

static void user_free(struct hc_user *u)
{
	free(u->name);
	if (u->hash)
		explicit_bzero(u->hash, strlen(u->hash));
	free(u->hash);
}

void hc_free(struct hc_config *c)
{
	for (int k = 0; k < HC_NKEYS; k++)
		free(c->val[k]);
	for (size_t i = 0; i < c->nuser; i++)
		user_free(&c->user[i]);
	free(c->user);
	memset(c, 0, sizeof(*c));
}

static void user_push(struct hc_config *c, const char *name, enum hc_role role, unsigned uid, const char *hash)
{
	c->user = xrealloc(c->user, (c->nuser + 1) * sizeof(*c->user));
	c->user[c->nuser++] = (struct hc_user){xstrdup(name), role, uid, xstrdup(hash)};
}

void hc_defaults(struct hc_config *c)
{
	memset(c, 0, sizeof(*c));
	for (int k = 0; k < HC_NKEYS; k++)
		c->val[k] = xstrdup(keys[k].def);
	user_push(c, "root", HC_ADMINISTRATOR, 0, "-");
}

void hc_copy(struct hc_config *dst, const struct hc_config *src)
{
	memset(dst, 0, sizeof(*dst));
	for (int k = 0; k < HC_NKEYS; k++)
		dst->val[k] = xstrdup(src->val[k]);
	for (size_t i = 0; i < src->nuser; i++)
		user_push(dst, src->user[i].name, src->user[i].role, src->user[i].uid, src->user[i].hash);
}

/* Check one key's value; on success *ret holds its canonical text (owned). */
static int value_check(int k, const char *value, char **ret, char *why)
{
	struct buf out = {0};

	buf_puts(&out, "");
	if (strlen(value) > 1024 || strpbrk(value, "\n\\")) {
		buf_free(&out);
		return why_set(why, "the value is too long or holds a newline or backslash; give one short line");
	}
	if (keys[k].check(value, &out, why) < 0) {
		buf_free(&out);
		return -1;
	}
	*ret = out.data;
	return 0;
}

static int unknown_key(const char *path, int line, const char *name, struct diag *d)
{
	const char *best = NULL;
	size_t best_dist = 3;

	for (int k = 0; k < HC_NKEYS; k++) {
		size_t dist = util_edit_distance(name, keys[k].name);
		if (dist < best_dist)
			best_dist = dist, best = keys[k].name;
	}
	if (best)
		return diag_set(d, path, line, "unknown key '%.80s'; did you mean '%s'?", name, best);
	return diag_set(d, path, line, "unknown key '%.80s'; docs/configuration.md lists the keys", name);
}

int hc_get(const struct hc_config *c, const char *name, char **ret, struct diag *d)
{
	int k = hc_key_find(name);

	if (k < 0)
		return unknown_key("hostcfg", 0, name, d);
	*ret = xstrdup(c->val[k]);
	return 0;
}

int hc_set(struct hc_config *c, const char *name, const char *value, struct diag *d)
{
	char why[WHY_MAX], *canon;
	int k = hc_key_find(name);

	if (k < 0)
		return unknown_key(name, 0, name, d);
	if (value_check(k, value, &canon, why) < 0)
		return diag_set(d, name, 0, "%s", why);
	free(c->val[k]);
	c->val[k] = canon;
	return 0;
}

/* Each member of localadmin is one of the users. */
static int check_localadmin(const struct hc_config *c, struct diag *d)
{
	struct strv w = {0};
	int r = 0;

	kv_split(c->val[HC_LOCALADMIN], &w);
	for (size_t i = 0; r == 0 && i < w.n; i++)
		if (!hc_user_find(c, w.v[i]))
			r = diag_set(d, "localadmin", 0, "'%.40s' is no user; add the user first, or leave it out", w.v[i]);
	strv_free(&w);
	return r;
}

int hc_check(const struct hc_config *c, struct diag *d)
{
	const char *addr = c->val[HC_NET_ADDRESS], *gw = c->val[HC_NET_GATEWAY];
	char ip[32];
	uint32_t a, g, mask;
	long prefix;

	if (check_localadmin(c, d) < 0)
		return -1;
	if (strcmp(c->val[HC_NET_MODE], "static") == 0 && !*addr)
		return diag_set(d, "network-mode", 0, "static needs network-address; set network-address=A.B.C.D/PREFIX "
				"in the same command");
	if (!*gw || !*addr)
		return 0;
	snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(addr, "/"), addr);
	if (!ipv4_parse(ip, &a) || !ipv4_parse(gw, &g) || !number_parse(strchr(addr, '/') + 1, 1, 32, &prefix))
		return diag_set(d, "network-address", 0, "not a valid address; set it again");
	mask = prefix_mask(prefix);
	if (g == a)
		return diag_set(d, "network-gateway", 0, "%s is the host's own address; give the router's address", gw);
	if ((g & mask) != (a & mask)) {
		struct in_addr net = {htonl(a & mask)};
		char nb[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &net, nb, sizeof(nb));
		return diag_set(d, "network-gateway", 0, "%s is outside the subnet %s/%ld of network-address %s; give a "
				"router in that subnet, or change both in one command", gw, nb, prefix, addr);
	}
	return 0;
}

/* User names as useradd takes them: [a-z_][a-z0-9_-]*, 32 at most. */
static bool user_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* "$6$[rounds=N$]SALT$HASH" with crypt's alphabet, "!" (locked) or "-" (no password set: the
 * console's login lets the user in and says to set one; hostd does not). */
static bool hash_ok(const char *h)
{
	const char *p = h + 3, *dollar;

	if (strcmp(h, "!") == 0 || strcmp(h, "-") == 0)
		return true;
	if (strncmp(h, "$6$", 3) != 0)
		return false;
	if (strncmp(p, "rounds=", 7) == 0 && !(p = strchr(p, '$')))
		return false;
	p += *p == '$';
	dollar = strchr(p, '$');
	if (!dollar || dollar == p || dollar - p > 16 || strlen(dollar + 1) != 86)
		return false;
	for (const char *q = p; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '.' && *q != '/' && q != dollar)
			return false;
	return true;
}

struct hc_user *hc_user_find(const struct hc_config *c, const char *name)
{
	for (size_t i = 0; i < c->nuser; i++)
		if (strcmp(c->user[i].name, name) == 0)
			return &c->user[i];
	return NULL;
}

/* "NAME ROLE UID HASH" of a user line, checked against the users already read. */
static int user_line(struct hc_config *c, const char *path, int line, const char *value, bool *root_seen,
		     struct diag *d)
{
	struct strv w = {0};
	long uid = 0;
	int role = 0, r = 0;

	kv_split(value, &w);
	if (w.n != 4)
		r = diag_set(d, path, line, "user: expected 'user = NAME ROLE UID HASH'; add users with hostcfg user add");
	else if (!user_name_ok(w.v[0]))
		r = diag_set(d, path, line, "user: '%.40s' is not a user name; use a-z, 0-9, '_' and '-', 32 at most", w.v[0]);
	else if ((role = hc_role_find(w.v[1])) < 0)
		r = diag_set(d, path, line, "user %s: unknown role '%.40s'; use administrator, operator or read-only",
			     w.v[0], w.v[1]);
	else if (!number_parse(w.v[2], 0, UID_LAST, &uid) || (uid == 0) != (strcmp(w.v[0], "root") == 0) ||
		 (uid != 0 && uid < UID_FIRST))
		r = diag_set(d, path, line, "user %s: uid '%.20s' is not allowed; root has 0, the others %d-%d",
			     w.v[0], w.v[2], UID_FIRST, UID_LAST);
	else if (!hash_ok(w.v[3]))
		r = diag_set(d, path, line, "user %s: the password hash is not sha512-crypt ($6$...) or '!'; set it with "
			     "hostcfg passwd", w.v[0]);
	else if (strcmp(w.v[0], "root") == 0 && role != HC_ADMINISTRATOR)
		r = diag_set(d, path, line, "user root: root is an administrator; give it the role administrator");
	/* user[0] is the default root until the file's root line replaces it. */
	for (size_t i = *root_seen ? 0 : 1; r == 0 && i < c->nuser; i++)
		if (strcmp(c->user[i].name, w.v[0]) == 0 || c->user[i].uid == (unsigned)uid)
			r = diag_set(d, path, line, "user %s: its name or uid %ld is taken by an earlier line; give each "
				     "user its own", w.v[0], uid);
	if (r == 0 && uid == 0) {
		user_free(&c->user[0]);
		c->user[0] = (struct hc_user){xstrdup("root"), HC_ADMINISTRATOR, 0, xstrdup(w.v[3])};
		*root_seen = true;
	} else if (r == 0)
		user_push(c, w.v[0], (enum hc_role)role, (unsigned)uid, w.v[3]);
	if (w.n >= 4)
		explicit_bzero(w.v[3], strlen(w.v[3]));
	strv_free(&w);
	return r;
}

/* One "key = value" pair into c; seen[] catches a key given twice. */
static int parse_pair(struct hc_config *c, const char *path, const struct kv *kv, bool *seen, bool *root_seen,
		      struct diag *d)
{
	char why[WHY_MAX], *canon;
	int k;

	if (strcmp(kv->key, "user") == 0)
		return user_line(c, path, kv->line, kv->value, root_seen, d);
	if ((k = hc_key_find(kv->key)) < 0)
		return unknown_key(path, kv->line, kv->key, d);
	if (seen[k])
		return diag_set(d, path, kv->line, "%s is given twice; keep one line", kv->key);
	seen[k] = true;
	if (value_check(k, kv->value, &canon, why) < 0)
		return diag_set(d, path, kv->line, "%s: %s", kv->key, why);
	free(c->val[k]);
	c->val[k] = canon;
	return 0;
}

int hc_parse(const char *path, const char *text, size_t len, struct hc_config *ret, struct diag *d)
{
	struct hc_config base;
	int r;

	hc_defaults(&base);
	r = hc_parse_over(path, text, len, &base, ret, d);
	hc_free(&base);
	return r;
}

int hc_parse_over(const char *path, const char *text, size_t len, const struct hc_config *base, struct hc_config *ret,
		  struct diag *d)
{
	struct hc_config c;
	struct kv_lexer lx;
	struct kv kv;
	bool seen[HC_NKEYS] = {0}, root_seen = false;
	int r;

	hc_copy(&c, base);
	/* The users are the text's: only root (base's until a root line) stands before them. */
	while (c.nuser > 1)
		user_free(&c.user[--c.nuser]);
	kv_init(&lx, path, text, len);
	while ((r = kv_next(&lx, &kv, d)) > 0) {
		r = parse_pair(&c, path, &kv, seen, &root_seen, d);
		if (strcmp(kv.key, "user") == 0)
			explicit_bzero(kv.value, strlen(kv.value));
		kv_free(&kv);
		if (r < 0)
			break;
	}
	if (r == 0 && (r = hc_check(&c, d)) < 0) {
		char msg[sizeof(d->msg)];
		snprintf(msg, sizeof(msg), "%s", d->msg);
		r = diag_set(d, path, 0, "%s", msg);
	}
	if (r < 0) {
		hc_free(&c);
		return r;
	}
	hc_free(ret);
	*ret = c;
	return 0;
}

int hc_load(const char *path, struct hc_config *ret, struct diag *d)
{
	struct hc_config base;
	int r;

	hc_defaults(&base);
	r = hc_load_over(path, &base, ret, d);
	hc_free(&base);
	return r;
}

int hc_load_over(const char *path, const struct hc_config *base, struct hc_config *ret, struct diag *d)
{
	char *text;
	size_t len;
	int r = util_read_file(path, &text, &len);

	if (r == -ENOENT) {
		hc_free(ret);
		hc_copy(ret, base);
		return 0;
	}
	if (r < 0)
		return diag_set_errno(d, -r, path, 0, "cannot read the configuration; check the file");
	r = hc_parse_over(path, text, len, base, ret, d);
	explicit_bzero(text, len);
	free(text);
	return r;
}

char *hc_format(const struct hc_config *c)
{
	struct buf b = {0};

	buf_puts(&b, "# The host's configuration, written by hostcfg (docs/configuration.md). Change it with\n"
		     "# hostcfg set KEY=VALUE; an edit by hand is checked at the next hostcfg command.\n");
	for (int k = 0; k < HC_NKEYS; k++)
		buf_printf(&b, "%s = %s\n", keys[k].name, c->val[k]);
	buf_puts(&b, "# user = NAME ROLE UID HASH (sha512-crypt, or ! when locked)\n");
	for (size_t i = 0; i < c->nuser; i++)
		buf_printf(&b, "user = %s %s %u %s\n", c->user[i].name, roles[c->user[i].role], c->user[i].uid,
			   c->user[i].hash);
	return b.data;
}

int hc_save(const struct hc_config *c, const char *path, struct diag *d)
{
	char *text;
	int r = hc_check(c, d);

	if (r < 0)
		return r;
	text = hc_format(c);
	r = util_write_file_atomic(path, text, strlen(text), 0600);
	explicit_bzero(text, strlen(text));
	free(text);
	return r < 0 ? diag_set_errno(d, -r, path, 0, "cannot write the configuration; check the file system") : 0;
}

int hc_hash_password(const char *password, char *out, size_t size, struct diag *d)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int r = 0;

	if (!crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt)))
		return diag_set_errno(d, errno ? errno : EINVAL, "password", 0, "cannot make a salt; check /dev/urandom");
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_r(password, salt, cd);
	if (!h || h[0] != '$' || strlen(h) >= size)
		r = diag_set(d, "password", 0, "cannot hash the password with sha512-crypt; check libxcrypt");
	else
		snprintf(out, size, "%s", h);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

static int password_ok(const char *pw, struct diag *d)
{
	size_t n = strlen(pw);

	if (n < 8 || n > 256)
		return diag_set(d, "password", 0, "a password has 8 to 256 characters; choose another");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
			return diag_set(d, "password", 0, "a password holds no control characters; choose another");
	return 0;
}

static unsigned uid_next(const struct hc_config *c)
{
	unsigned uid = UID_FIRST;

	for (size_t i = 0; i < c->nuser; i++)
		if (c->user[i].uid >= uid)
			uid = c->user[i].uid + 1;
	return uid;
}

int hc_user_check_new(const struct hc_config *c, const char *name, const char *role, struct diag *d)
{
	if (!user_name_ok(name))
		return diag_set(d, "user", 0, "'%.40s' is not a user name; use a-z, 0-9, '_' and '-' (not first), 32 at most",
				name);
	if (hc_user_find(c, name))
		return diag_set(d, "user", 0, "%s exists already; change its password with hostcfg passwd %s", name, name);
	if (hc_role_find(role) < 0)
		return diag_set(d, "user", 0, "unknown role '%.40s'; use administrator, operator or read-only", role);
	if (uid_next(c) > UID_LAST)
		return diag_set(d, "user", 0, "no user id is left; remove unused users");
	return 0;
}

int hc_user_add(struct hc_config *c, const char *name, const char *role, const char *password, struct diag *d)
{
	char hash[256];
	int r;

	if ((r = hc_user_check_new(c, name, role, d)) < 0 || (r = password_ok(password, d)) < 0 || (r = hc_hash_password(password, hash, sizeof(hash), d)) < 0)
		return r;
	user_push(c, name, (enum hc_role)hc_role_find(role), uid_next(c), hash);
	explicit_bzero(hash, sizeof(hash));
	return 0;
}

/* name left out of localadmin's members. */
static void members_drop(struct hc_config *c, const char *name)
{
	struct strv w = {0};
	struct buf b = {0};

	buf_puts(&b, "");
	kv_split(c->val[HC_LOCALADMIN], &w);
	for (size_t i = 0; i < w.n; i++)
		if (strcmp(w.v[i], name) != 0)
			buf_printf(&b, "%s%s", b.len ? " " : "", w.v[i]);
	strv_free(&w);
	free(c->val[HC_LOCALADMIN]);
	c->val[HC_LOCALADMIN] = b.data;
}

int hc_user_del(struct hc_config *c, const char *name, struct diag *d)
{
	struct hc_user *u = hc_user_find(c, name);

	if (!u)
		return diag_set(d, "user", 0, "no user named '%.40s'; hostcfg show lists the users", name);
	if (u->uid == 0)
		return diag_set(d, "user", 0, "root cannot be removed; lock it out by other means (hostcfg passwd root)");
	members_drop(c, name);
	user_free(u);
	memmove(u, u + 1, (size_t)(c->user + c->nuser - (u + 1)) * sizeof(*u));
	c->nuser--;
	return 0;
}

int hc_user_set_hash(struct hc_config *c, const char *name, const char *hash, struct diag *d)
{
	struct hc_user *u = hc_user_find(c, name);

	if (!u)
		return diag_set(d, "user", 0, "no user named '%.40s'; add it with hostcfg user add", name);
	if (!hash_ok(hash) || strcmp(hash, "!") == 0 || strcmp(hash, "-") == 0)
		return diag_set(d, "user", 0, "%s: the password hash is not sha512-crypt ($6$SALT$HASH); make one with "
				"mkpasswd -m sha512", name);
	if (u->hash)
		explicit_bzero(u->hash, strlen(u->hash));
	free(u->hash);
	u->hash = xstrdup(hash);
	return 0;
}

int hc_user_passwd(struct hc_config *c, const char *name, const char *password, struct diag *d)
{
	char hash[256];
	int r;

	if (!hc_user_find(c, name))
		return diag_set(d, "user", 0, "no user named '%.40s'; add it with hostcfg user add", name);
	if ((r = password_ok(password, d)) < 0 || (r = hc_hash_password(password, hash, sizeof(hash), d)) < 0)
		return r;
	r = hc_user_set_hash(c, name, hash, d);
	explicit_bzero(hash, sizeof(hash));
	return r;
}
