#define _GNU_SOURCE
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

#define SIZE_MIN 4096
#define SIZE_MAX_BYTES (64UL << 20)

static int host_ok(const char *h, int bracketed)
{
	if (!*h)
		return 0;
	for (; *h; h++)
		if (!(bracketed ? strchr("0123456789abcdefABCDEF:.", *h) : strchr("abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", *h)))
			return 0;
	return 1;
}

static int port_ok(const char *p)
{
	char *end;
	long v = strtol(p, &end, 10);

	return *p && !*end && v >= 1 && v <= 65535;
}

/* Split "host", "host:port", "[v6]" or "[v6]:port" into u. */
static int split_host(const char *s, struct logd_url *u, const char **why)
{
	const char *colon, *hs = s, *he;
	int br = *s == '[';

	if (br) {
		hs = s + 1;
		he = strchr(hs, ']');
		if (!he || (he[1] && he[1] != ':'))
			return *why = "an IPv6 address must be in brackets: tcp://[2001:db8::1]:514", -EINVAL;
		colon = he[1] ? he + 1 : NULL;
	} else {
		colon = strchr(s, ':');
		he = colon ? colon : s + strlen(s);
	}
	if ((size_t)(he - hs) >= sizeof(u->host))
		return *why = "the host name is too long", -EINVAL;
	memcpy(u->host, hs, (size_t)(he - hs));
	u->host[he - hs] = '\0';
	if (!host_ok(u->host, br))
		return *why = "not a host name or address", -EINVAL;
	if (colon && (strlen(colon + 1) >= sizeof(u->port) || !port_ok(colon + 1)))
		return *why = "the port must be a number from 1 to 65535", -EINVAL;
	snprintf(u->port, sizeof(u->port), "%s", colon ? colon + 1 : u->proto == LOGD_TLS ? "6514" : "514");
	return 0;
}

int logd_url_parse(const char *s, struct logd_url *ret, const char **why)
{
	static const char *const schemes[] = {"udp://", "tcp://", "tls://"};
	struct logd_url u = {0};
	int i = 0;

	while (i < 3 && strncmp(s, schemes[i], 6) != 0)
		i++;
	if (i == 3)
		return *why = "a server is udp://HOST[:PORT], tcp://HOST[:PORT] or tls://HOST[:PORT]", -EINVAL;
	if (strlen(s) >= sizeof(u.text))
		return *why = "too long", -EINVAL;
	u.proto = (enum logd_proto)i;
	snprintf(u.text, sizeof(u.text), "%s", s);
	if (split_host(s + 6, &u, why) < 0)
		return -EINVAL;
	*ret = u;
	return 0;
}

static int size_value(const struct kv *kv, const char *path, size_t *out, struct diag *d)
{
	char *end;
	unsigned long v = strtoul(kv->value, &end, 10);

	if (!*kv->value || *end || kv->value[0] == '-' || v < SIZE_MIN || v > SIZE_MAX_BYTES)
		return diag_set(d, path, kv->line, "%s must be a number of bytes from %d to %lu", kv->key, SIZE_MIN,
				SIZE_MAX_BYTES);
	*out = v;
	return 0;
}

static int one_key(struct logd_conf *c, const struct kv *kv, const char *path, struct diag *d)
{
	const char *why = NULL;

	if (strcmp(kv->key, "server") == 0) {
		if (c->nservers == LOGD_SERVERS_MAX)
			return diag_set(d, path, kv->line, "at most %d servers", LOGD_SERVERS_MAX);
		if (logd_url_parse(kv->value, &c->server[c->nservers], &why) < 0)
			return diag_set(d, path, kv->line, "server '%s': %s", kv->value, why);
		c->nservers++;
		return 0;
	}
	if (strcmp(kv->key, "ca") == 0) {
		if (kv->value[0] != '/' || strlen(kv->value) >= sizeof(c->ca))
			return diag_set(d, path, kv->line, "ca must be an absolute path to a PEM file");
		snprintf(c->ca, sizeof(c->ca), "%s", kv->value);
		return 0;
	}
	return size_value(kv, path, strcmp(kv->key, "log-size") == 0 ? &c->log_size : &c->queue_size, d);
}

int logd_conf_parse(const char *path, const char *text, size_t len, struct logd_conf *ret, struct diag *d)
{
	static const char *const keys[] = {"server", "ca", "log-size", "queue-size", NULL};
	struct logd_conf c = {.log_size = 1 << 20, .queue_size = 1 << 20};
	struct kv_lexer lx;
	struct kv kv;
	int r = 0, got;

	kv_init(&lx, path, text, len);
	while (r == 0 && (got = kv_next(&lx, &kv, d)) != 0) {
		if (got < 0)
			return got;
		r = kv_check_key(path, &kv, keys, d);
		if (r == 0)
			r = one_key(&c, &kv, path, d);
		kv_free(&kv);
	}
	if (r == 0)
		*ret = c;
	return r;
}
