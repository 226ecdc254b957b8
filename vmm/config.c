/* The VM configuration: defaults, the `key = value` file format, and validation. */
#define _GNU_SOURCE
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const config_keys[] = {
	"name", "cpus", "memory", "kernel", "initrd", "cmdline", "disk", "nic", "console", NULL,
};

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->cpus = 1;
	c->mem = CONFIG_MEM_DEFAULT;
}

void config_free(struct config *c)
{
	free(c->name);
	free(c->kernel);
	free(c->initrd);
	free(c->cmdline);
	free(c->console);
	free(c->file);
	for (int i = 0; i < c->ndisks; i++)
		free(c->disk[i]);
	for (int i = 0; i < c->nnics; i++)
		free(c->nic[i].tap);
	config_init(c);
}

int config_parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t shift = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 0: break;
	default: return -1;
	}
	if ((*end == 'i' || *end == 'I') && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int config_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
				      &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) || !isxdigit((unsigned char)s[i * 3 + 1]))
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return (mac[0] & 1) ? -1 : 0; /* a multicast address cannot be a NIC's */
}

int config_parse_nic(const char *s, struct config_nic *n, char *err, size_t errlen)
{
	const char *comma = strchr(s, ',');
	size_t len = comma ? (size_t)(comma - s) : strlen(s);

	memset(n, 0, sizeof(*n));
	if (len == 0 || len >= 16 || memchr(s, '/', len)) {
		snprintf(err, errlen, "bad tap device name '%.*s'; give a name of 1 to 15 characters",
			 (int)(len > 40 ? 40 : len), s);
		return -1;
	}
	if (comma && (strncmp(comma, ",mac=", 5) || config_parse_mac(comma + 5, n->mac))) {
		snprintf(err, errlen, "bad NIC option '%.60s'; write TAP or TAP,mac=52:54:00:12:34:56", comma + 1);
		return -1;
	}
	n->has_mac = comma != NULL;
	n->tap = strndup(s, len);
	return 0;
}

/* A value as a path: relative paths are taken from dir. Returns a new string. */
static char *config_path(const char *dir, const char *v)
{
	char *p;

	if (v[0] == '/' || !dir || !*dir)
		return strdup(v);
	if (asprintf(&p, "%s/%s", dir, v) < 0)
		return NULL;
	return p;
}

/* The closest known key, if the misspelling is small (one edit or a swap). */
static const char *config_suggest(const char *key)
{
	for (int i = 0; config_keys[i]; i++) {
		const char *k = config_keys[i];
		size_t a = strlen(key), b = strlen(k), p = 0;

		if (a + 1 < b || b + 1 < a)
			continue;
		while (p < a && p < b && key[p] == k[p])
			p++;
		if (!strcmp(key + p + (a >= b), k + p + (b >= a)) ||
		    (a == b && p + 1 < a && key[p] == k[p + 1] && key[p + 1] == k[p] &&
		     !strcmp(key + p + 2, k + p + 2)))
			return k;
	}
	return NULL;
}

struct parse {
	struct config *c;
	const char *file, *dir;
	int line;
	char *err;
	size_t errlen;
};

static int parse_error(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, p->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Set a key that may appear once. */
static int parse_once(struct parse *p, char **slot, const char *key, char *value)
{
	if (*slot) {
		free(value);
		return parse_error(p, "'%s' given twice; keep one", key);
	}
	if (!value)
		return parse_error(p, "out of memory; free some memory");
	*slot = value;
	return 0;
}

static int parse_cpus(struct parse *p, const char *v)
{
	char *end;
	long n;

	if (p->c->cpus_line)
		return parse_error(p, "'cpus' given twice; keep one");
	n = strtol(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || n < 1 || n > CONFIG_MAX_CPUS)
		return parse_error(p, "cpus '%.40s' is not a number from 1 to %d; give e.g. cpus = 2", v,
				   CONFIG_MAX_CPUS);
	p->c->cpus = (int)n;
	p->c->cpus_line = p->line;
	return 0;
}

static int parse_memory(struct parse *p, const char *v)
{
	if (p->c->mem_line)
		return parse_error(p, "'memory' given twice; keep one");
	if (config_parse_size(v, &p->c->mem))
		return parse_error(p, "memory '%.40s' is not a size; give e.g. memory = 256M", v);
	p->c->mem_line = p->line;
	return 0;
}

static int parse_list(struct parse *p, const char *key, const char *v)
{
	struct config *c = p->c;

	if (!strcmp(key, "disk")) {
		if (c->ndisks == CONFIG_MAX_DISKS)
			return parse_error(p, "more than %d disks; remove some", CONFIG_MAX_DISKS);
		c->disk_line[c->ndisks] = p->line;
		c->disk[c->ndisks] = config_path(p->dir, v);
		return c->disk[c->ndisks++] ? 0 : parse_error(p, "out of memory; free some memory");
	}
	if (c->nnics == CONFIG_MAX_NICS)
		return parse_error(p, "more than %d NICs; remove some", CONFIG_MAX_NICS);
	char msg[200];
	if (config_parse_nic(v, &c->nic[c->nnics], msg, sizeof(msg)))
		return parse_error(p, "%s", msg);
	c->nnics++;
	return 0;
}

static int parse_kv(struct parse *p, const char *key, const char *v)
{
	struct config *c = p->c;

	if (!*v)
		return parse_error(p, "'%s' has no value; give one after '='", key);
	if (!strcmp(key, "name"))
		return parse_once(p, &c->name, key, strdup(v));
	if (!strcmp(key, "cmdline"))
		return parse_once(p, &c->cmdline, key, strdup(v));
	if (!strcmp(key, "console"))
		return parse_once(p, &c->console, key, strdup(v));
	if (!strcmp(key, "kernel")) {
		c->kernel_line = p->line;
		return parse_once(p, &c->kernel, key, config_path(p->dir, v));
	}
	if (!strcmp(key, "initrd")) {
		c->initrd_line = p->line;
		return parse_once(p, &c->initrd, key, config_path(p->dir, v));
	}
	if (!strcmp(key, "cpus"))
		return parse_cpus(p, v);
	if (!strcmp(key, "memory"))
		return parse_memory(p, v);
	if (!strcmp(key, "disk") || !strcmp(key, "nic"))
		return parse_list(p, key, v);
	const char *s = config_suggest(key);
	if (s)
		return parse_error(p, "unknown key '%s'; did you mean '%s'?", key, s);
	return parse_error(p, "unknown key '%s'; the keys are name, cpus, memory, kernel, initrd, "
			      "cmdline, disk, nic, console", key);
}

/* Strip blanks at both ends, in place. */
static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int parse_line(struct parse *p, char *line)
{
	char *s = trim(line), *eq;

	if (!*s || *s == '#')
		return 0;
	eq = strchr(s, '=');
	if (!eq)
		return parse_error(p, "expected 'key = value', got '%.40s'; add '=' or start a comment with '#'", s);
	*eq = 0;
	char *key = trim(s);
	if (!*key)
		return parse_error(p, "a line has no key before '='; write 'key = value'");
	for (char *k = key; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '-' && *k != '_')
			return parse_error(p, "bad key '%.40s'; keys are words like 'memory'", key);
	return parse_kv(p, key, trim(eq + 1));
}

int config_parse(struct config *c, const char *text, size_t len, const char *file, const char *dir,
		 char *err, size_t errlen)
{
	struct parse p = {.c = c, .file = file, .dir = dir, .err = err, .errlen = errlen};
	size_t i = 0;

	free(c->file);
	c->file = strdup(file);
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - text - i) : len - i;
		char *line;

		p.line++;
		if (memchr(text + i, 0, n))
			return parse_error(&p, "the file has a NUL byte; is it a text file?");
		line = strndup(text + i, n);
		if (!line)
			return parse_error(&p, "out of memory; free some memory");
		int r = parse_line(&p, line);
		free(line);
		if (r)
			return r;
		i += n + 1;
	}
	return 0;
}

int config_load(struct config *c, const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	char *text = NULL, *dir = strdup(file), *slash;
	size_t len = 0;
	int r = -1;

	if (!f) {
		snprintf(err, errlen, "cannot open config file %s: %s; check the path", file, strerror(errno));
		free(dir);
		return -1;
	}
	FILE *m = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	while (m && (n = fread(buf, 1, sizeof(buf), f)) > 0 && len < (1 << 20))
		fwrite(buf, 1, n, m);
	if (m && !fclose(m)) {
		slash = dir ? strrchr(dir, '/') : NULL;
		if (slash)
			*slash = 0;
		r = config_parse(c, text, len, file, slash ? dir : NULL, err, errlen);
	} else {
		snprintf(err, errlen, "cannot read config file %s; check it", file);
	}
	fclose(f);
	free(text);
	free(dir);
	return r;
}

/* Format an error about a value: with FILE:LINE when it came from a file. */
static int validate_error(const struct config *c, int line, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (c->file && line)
		n = snprintf(err, errlen, "%s:%d: ", c->file, line);
	else if (c->file)
		n = snprintf(err, errlen, "%s: ", c->file);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static int validate_file(const struct config *c, const char *what, const char *path, int line, int rw,
			 char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st))
		return validate_error(c, line, err, errlen, "%s %s: %s; check the path", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return validate_error(c, line, err, errlen, "%s %s is not a file; give a regular file", what, path);
	if (access(path, rw ? R_OK | W_OK : R_OK))
		return validate_error(c, line, err, errlen, "%s %s: %s; check its permissions", what, path,
				      strerror(errno));
	return 0;
}

static int validate_mem(const struct config *c, char *err, size_t errlen)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	uint64_t host = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : CONFIG_MEM_MAX;

	if (c->mem < CONFIG_MEM_MIN)
		return validate_error(c, c->mem_line, err, errlen,
				      "memory %llu KiB is too small; give at least %llu MiB",
				      (unsigned long long)(c->mem >> 10), CONFIG_MEM_MIN >> 20);
	if (c->mem > CONFIG_MEM_MAX || c->mem > host)
		return validate_error(c, c->mem_line, err, errlen,
				      "memory %llu MiB is too large (this host has %llu MiB, the limit is %llu GiB); "
				      "give less", (unsigned long long)(c->mem >> 20),
				      (unsigned long long)(host >> 20), CONFIG_MEM_MAX >> 30);
	if (c->mem & 0xfffff)
		return validate_error(c, c->mem_line, err, errlen, "memory must be whole MiB; round it");
	return 0;
}

int config_validate(const struct config *c, char *err, size_t errlen)
{
	if (!c->kernel)
		return validate_error(c, 0, err, errlen, "no kernel given; %s",
				      c->file ? "add 'kernel = FILE'" : "give --kernel FILE");
	if (c->name)
		for (const char *s = c->name; *s; s++)
			if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
				return validate_error(c, 0, err, errlen,
						      "name '%.40s' has a '%c'; use letters, digits, '.', '_', '-'",
						      c->name, *s);
	if (c->cpus < 1 || c->cpus > CONFIG_MAX_CPUS)
		return validate_error(c, c->cpus_line, err, errlen, "cpus %d is out of range; give 1 to %d",
				      c->cpus, CONFIG_MAX_CPUS);
	if (validate_mem(c, err, errlen))
		return -1;
	if (c->console && strcmp(c->console, "stdio") && strcmp(c->console, "none") &&
	    (strncmp(c->console, "unix:", 5) || !c->console[5]))
		return validate_error(c, 0, err, errlen, "console '%.60s' is unknown; give stdio, none or unix:PATH",
				      c->console);
	if (validate_file(c, "kernel", c->kernel, c->kernel_line, 0, err, errlen))
		return -1;
	if (c->initrd && validate_file(c, "initrd", c->initrd, c->initrd_line, 0, err, errlen))
		return -1;
	for (int i = 0; i < c->ndisks; i++)
		if (validate_file(c, "disk", c->disk[i], c->disk_line[i], 1, err, errlen))
			return -1;
	return 0;
}
