/* A VM's definition (vmdef.h). */
#define _GNU_SOURCE
#include "vmdef.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char keys[] = "name, memory_mib, cpus, kernel, initrd, cmdline, disks, nics, macs, autostart";

static int bad(struct api_error *e, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct api_error *e, const char *field, const char *fmt, ...)
{
	va_list ap;

	e->status = 400;
	snprintf(e->field, sizeof(e->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

bool vm_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VM_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
			return false;
	return true;
}

bool vm_path_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VM_PATH_MAX || s[0] == '/')
		return false;
	for (const char *c = s; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return false;
	for (const char *p = s; p;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p = slash ? slash + 1 : NULL;
	}
	return true;
}

static int get_int(json_t *v, const char *key, int lo, int hi, int *out, struct api_error *e)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return bad(e, key, "%s: an integer from %d to %d", key, lo, hi);
	*out = (int)json_integer_value(v);
	return 0;
}

static int get_path(json_t *v, const char *key, bool empty_ok, char *out, struct api_error *e)
{
	const char *s = json_string_value(v);

	if (!json_is_string(v) || strlen(s) != json_string_length(v) || (!(empty_ok && !*s) && !vm_path_valid(s)))
		return bad(e, key,
			   "%s: a file of the datastore by its path in it, e.g. \"images/bzImage\" (relative, no '..', "
			   "at most %d characters)%s",
			   key, VM_PATH_MAX, empty_ok ? ", or \"\" for none" : "");
	snprintf(out, VM_PATH_MAX + 1, "%s", s);
	return 0;
}

static int get_cmdline(json_t *v, char *out, struct api_error *e)
{
	const char *s = json_string_value(v);

	if (!json_is_string(v) || json_string_length(v) > VM_CMDLINE_MAX || strlen(s) != json_string_length(v))
		return bad(e, "cmdline", "cmdline: a string of at most %d characters", VM_CMDLINE_MAX);
	for (const char *c = s; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return bad(e, "cmdline", "cmdline: printable ASCII only (no control characters)");
	snprintf(out, VM_CMDLINE_MAX + 1, "%s", s);
	return 0;
}

static int get_disks(json_t *v, struct vm_def *d, struct api_error *e)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v) || json_array_size(v) > VM_DISKS_MAX)
		return bad(e, "disks", "disks: an array of at most %d datastore paths (raw disk images)", VM_DISKS_MAX);
	json_array_foreach(v, i, x) if (get_path(x, "disks", false, d->disks[i], e) < 0) return -1;
	d->ndisks = (int)json_array_size(v);
	return 0;
}

/* A unicast MAC, six hex pairs separated by ':' (either case), into out in lower case. */
static bool mac_parse(const char *s, char out[VM_MAC_SIZE])
{
	unsigned b[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return false;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
	if (b[0] & 1) /* multicast */
		return false;
	snprintf(out, VM_MAC_SIZE, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned char)b[0], (unsigned char)b[1],
		 (unsigned char)b[2], (unsigned char)b[3], (unsigned char)b[4], (unsigned char)b[5]);
	return true;
}

static int get_macs(json_t *v, struct vm_def *d, struct api_error *e)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v) || json_array_size(v) > VM_NICS_MAX)
		return bad(e, "macs", "macs: an array of at most %d MACs, one per NIC", VM_NICS_MAX);
	json_array_foreach(v, i, x) if (!json_is_string(x) || !mac_parse(json_string_value(x), d->macs[i]))
		return bad(e, "macs", "macs: '%.40s' is not a unicast MAC such as 02:1a:2b:3c:4d:5e",
			   json_is_string(x) ? json_string_value(x) : "(not a string)");
	d->nmacs = (int)json_array_size(v);
	for (size_t j = 0; j < i; j++)
		for (size_t k = j + 1; k < i; k++)
			if (!strcmp(d->macs[j], d->macs[k]))
				return bad(e, "macs", "macs: %s is given twice; each NIC needs its own", d->macs[j]);
	return 0;
}

static int get_name(json_t *v, const struct vm_def *base, struct vm_def *d, struct api_error *e)
{
	const char *s = json_string_value(v);

	if (!json_is_string(v) || strlen(s) != json_string_length(v) || !vm_name_valid(s))
		return bad(e, "name", "name: 1 to %d letters, digits, '.', '_' or '-', not starting with '.' or '-'",
			   VM_NAME_MAX);
	if (base && strcmp(s, base->name) != 0)
		return bad(e, "name", "name: a VM cannot be renamed; create a new one");
	snprintf(d->name, sizeof(d->name), "%s", s);
	return 0;
}

/* One key of the object onto d. */
static int set_key(const char *k, json_t *v, const struct vm_def *base, struct vm_def *d, struct api_error *e)
{
	if (!strcmp(k, "name"))
		return get_name(v, base, d, e);
	if (!strcmp(k, "memory_mib"))
		return get_int(v, k, VM_MEM_MIN, VM_MEM_MAX, &d->memory_mib, e);
	if (!strcmp(k, "cpus"))
		return get_int(v, k, 1, VM_CPUS_MAX, &d->cpus, e);
	if (!strcmp(k, "nics"))
		return get_int(v, k, 0, VM_NICS_MAX, &d->nics, e);
	if (!strcmp(k, "kernel") || !strcmp(k, "initrd"))
		return get_path(v, k, k[0] == 'i', k[0] == 'k' ? d->kernel : d->initrd, e);
	if (!strcmp(k, "cmdline"))
		return get_cmdline(v, d->cmdline, e);
	if (!strcmp(k, "disks"))
		return get_disks(v, d, e);
	if (!strcmp(k, "macs"))
		return get_macs(v, d, e);
	if (!strcmp(k, "autostart")) {
		if (!json_is_boolean(v))
			return bad(e, k, "autostart: true or false");
		d->autostart = json_is_true(v);
		return 0;
	}
	return bad(e, k, "%.64s: unknown key; the keys are %s", k, keys);
}

static void defaults(struct vm_def *d)
{
	memset(d, 0, sizeof(*d));
	d->memory_mib = 256;
	d->cpus = 1;
	snprintf(d->cmdline, sizeof(d->cmdline), "console=ttyS0");
}

static int parse_object(json_t *o, const struct vm_def *base, struct vm_def *d, struct api_error *e)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return bad(e, "", "the body must be a JSON object with the keys %s", keys);
	json_object_foreach(o, k, v) if (set_key(k, v, base, d, e) < 0) return -1;
	if (!base && !json_object_get(o, "name"))
		return bad(e, "name", "name: required");
	if (!base && !json_object_get(o, "kernel"))
		return bad(e, "kernel", "kernel: required: the guest's bzImage on the datastore");
	if (d->nmacs > d->nics && json_object_get(o, "macs"))
		return bad(e, "macs", "macs: %d MACs for %d NICs; give at most one per NIC", d->nmacs, d->nics);
	if (d->nmacs > d->nics) /* fewer NICs: the MACs of those gone are dropped */
		d->nmacs = d->nics;
	return 0;
}

int vm_def_parse(const char *text, size_t len, const struct vm_def *base, struct vm_def *out, struct api_error *e)
{
	struct vm_def *d = xmalloc(sizeof(*d));
	json_error_t je;
	json_t *o;
	int r;

	if (len > API_BODY_MAX) {
		free(d);
		e->status = 413;
		e->field[0] = '\0';
		snprintf(e->msg, sizeof(e->msg), "the body is over 1 MiB");
		return -1;
	}
	if (base)
		*d = *base;
	else
		defaults(d);
	if (!(o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
		r = bad(e, "", "the body is not valid JSON: %.200s (line %d)", je.text, je.line);
	else
		r = parse_object(o, base, d, e);
	if (r == 0)
		*out = *d;
	json_decref(o);
	free(d);
	return r;
}

json_t *vm_def_json(const struct vm_def *d)
{
	json_t *disks = json_array(), *macs = json_array();

	for (int i = 0; i < d->ndisks; i++)
		json_array_append_new(disks, json_string(d->disks[i]));
	for (int i = 0; i < d->nmacs; i++)
		json_array_append_new(macs, json_string(d->macs[i]));
	return json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:o, s:i, s:o, s:b}", "name", d->name, "memory_mib",
			 d->memory_mib, "cpus", d->cpus, "kernel", d->kernel, "initrd", d->initrd, "cmdline", d->cmdline,
			 "disks", disks, "nics", d->nics, "macs", macs, "autostart", d->autostart);
}

/* FNV-1a, 32 bits. */
static unsigned name_hash(const char *name)
{
	unsigned h = 2166136261u;

	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 16777619u;
	return h;
}

void vm_tap_name(const char *name, int i, char out[VM_TAP_SIZE])
{
	if (strlen(name) <= VM_TAP_SIZE - 6)
		snprintf(out, VM_TAP_SIZE, "vm-%.10s-%c", name, '0' + (i & 7));
	else
		snprintf(out, VM_TAP_SIZE, "vm%08x-%c", name_hash(name), '0' + (i & 7));
}

void vm_nic_mac(const struct vm_def *d, int i, char out[VM_MAC_SIZE])
{
	unsigned h = name_hash(d->name);

	if (i >= 0 && i < d->nmacs)
		snprintf(out, VM_MAC_SIZE, "%s", d->macs[i]);
	else
		snprintf(out, VM_MAC_SIZE, "02:%02x:%02x:%02x:%02x:%02x", h >> 24, (h >> 16) & 0xff, (h >> 8) & 0xff,
			 h & 0xff, i & 0xff);
}

void vm_macs_fill(struct vm_def *d, const unsigned char *random, size_t n)
{
	for (; d->nmacs < d->nics && (size_t)(d->nmacs + 1) * 6 <= n; d->nmacs++) {
		const unsigned char *b = random + d->nmacs * 6;
		snprintf(d->macs[d->nmacs], VM_MAC_SIZE, "%02x:%02x:%02x:%02x:%02x:%02x", (b[0] & 0xfc) | 0x02, b[1], b[2],
			 b[3], b[4], b[5]);
	}
}

json_t *vm_nics_json(const struct vm_def *d)
{
	json_t *a = json_array();
	char tap[VM_TAP_SIZE], mac[VM_MAC_SIZE];

	for (int i = 0; i < d->nics; i++) {
		vm_tap_name(d->name, i, tap);
		vm_nic_mac(d, i, mac);
		json_array_append_new(a, json_pack("{s:s, s:s}", "tap", tap, "mac", mac));
	}
	return a;
}

void vm_argv(const struct vm_def *d, const char *vmm, const char *dir, char **argv)
{
	int n = 0;

	argv[n++] = xstrdup(vmm);
	argv[n++] = xstrdup("--kernel");
	argv[n++] = xasprintf("%s/%s", dir, d->kernel);
	if (d->initrd[0]) {
		argv[n++] = xstrdup("--initrd");
		argv[n++] = xasprintf("%s/%s", dir, d->initrd);
	}
	argv[n++] = xstrdup("--cmdline");
	argv[n++] = xstrdup(d->cmdline);
	argv[n++] = xstrdup("--mem");
	argv[n++] = xasprintf("%dM", d->memory_mib);
	argv[n++] = xstrdup("--cpus");
	argv[n++] = xasprintf("%d", d->cpus);
	for (int i = 0; i < d->ndisks; i++) {
		argv[n++] = xstrdup("--disk");
		argv[n++] = xasprintf("%s/%s", dir, d->disks[i]);
	}
	for (int i = 0; i < d->nics; i++) {
		char tap[VM_TAP_SIZE], mac[VM_MAC_SIZE];
		vm_tap_name(d->name, i, tap);
		vm_nic_mac(d, i, mac);
		argv[n++] = xstrdup("--net");
		argv[n++] = xasprintf("%s,mac=%s", tap, mac);
	}
	argv[n++] = xstrdup("--console");
	argv[n++] = xstrdup("stdio");
	argv[n] = NULL;
}

void vm_argv_free(char **argv)
{
	for (int i = 0; argv[i]; i++)
		free(argv[i]);
}

unsigned long long vm_memory_max(const struct vm_def *d)
{
	return ((unsigned long long)d->memory_mib + VM_MEM_OVERHEAD_MIB) << 20;
}

void vm_cpu_max(const struct vm_def *d, char *out, size_t size)
{
	snprintf(out, size, "%d 100000", d->cpus * 100000);
}

