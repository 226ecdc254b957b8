#define _GNU_SOURCE
#include "modalias.h"

#include <errno.h>
#include <fnmatch.h>
#include <string.h>

/* Split the next line off *cursor (NUL-terminating it); NULL at the end. */
static char *line_next(char **cursor)
{
	char *s = *cursor, *nl;

	if (!s || !*s)
		return NULL;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*cursor = nl + 1;
	} else {
		*cursor = s + strlen(s);
	}
	return s;
}

/* The next blank-separated word of *s, NUL-terminated in place; NULL when none is left. */
static char *word_next(char **s)
{
	char *w = *s + strspn(*s, " \t\r"), *end;

	if (!*w)
		return NULL;
	end = w + strcspn(w, " \t\r");
	*s = *end ? end + 1 : end;
	*end = '\0';
	return w;
}

static bool skip_line(const char *l)
{
	l += strspn(l, " \t\r");
	return *l == '\0' || *l == '#';
}

void modname_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	const char *dot = strstr(base, ".ko");
	size_t n = dot ? (size_t)(dot - base) : strlen(base), i;

	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		out[i] = base[i] == '-' ? '_' : base[i];
	out[n] = '\0';
}

static int alias_line(struct modtable *t, char *l)
{
	char *kw = word_next(&l), *pattern = word_next(&l), *module = word_next(&l);

	if (!kw || strcmp(kw, "alias") != 0 || !pattern || !module || word_next(&l))
		return -EINVAL;
	if (t->nalias == MODALIAS_MAX)
		return -E2BIG;
	t->alias[t->nalias++] = (struct modalias_entry){
		.pattern = pattern, .module = module, .prefix = strcspn(pattern, "*?[\\"),
	};
	return 0;
}

/* Each line of text that is not blank or a comment, through one_line(); *line counts them all,
 * so that on an error it names the line. */
static int parse_lines(struct modtable *t, char *text, int *line, int (*one_line)(struct modtable *, char *))
{
	char *cursor = text, *l;
	int r;

	*line = 0;
	while ((l = line_next(&cursor))) {
		++*line;
		if (!skip_line(l) && (r = one_line(t, l)) < 0)
			return r;
	}
	return 0;
}

int modalias_parse(struct modtable *t, char *text, int *line)
{
	return parse_lines(t, text, line, alias_line);
}

static int dep_line(struct modtable *t, char *l)
{
	char *colon = strchr(l, ':'), *rest, *path, *w;
	struct moddep_entry *e;

	if (!colon)
		return -EINVAL;
	*colon = '\0';
	rest = colon + 1;
	path = word_next(&l);
	if (!path || word_next(&l))
		return -EINVAL;
	if (t->ndep == MODDEP_MAX)
		return -E2BIG;
	e = &t->dep[t->ndep];
	e->path = path;
	e->ndeps = 0;
	modname_of(path, e->name, sizeof(e->name));
	while ((w = word_next(&rest))) {
		if (e->ndeps == MODDEP_DEPS_MAX)
			return -E2BIG;
		e->deps[e->ndeps++] = w;
	}
	t->ndep++;
	return 0;
}

int moddep_parse(struct modtable *t, char *text, int *line)
{
	return parse_lines(t, text, line, dep_line);
}

const struct modalias_entry *modalias_match(const struct modtable *t, const char *modalias, size_t *next)
{
	for (size_t i = *next; i < t->nalias; i++) {
		const struct modalias_entry *a = &t->alias[i];
		/* Most patterns differ from the device's within their literal prefix: skip fnmatch. */
		if (strncmp(a->pattern, modalias, a->prefix) != 0)
			continue;
		if (fnmatch(a->pattern, modalias, 0) == 0) {
			*next = i + 1;
			return a;
		}
	}
	*next = t->nalias;
	return NULL;
}

const struct moddep_entry *moddep_find(const struct modtable *t, const char *key, bool by_path)
{
	char name[MODNAME_MAX];

	if (!by_path)
		modname_of(key, name, sizeof(name));
	for (size_t i = 0; i < t->ndep; i++)
		if (strcmp(by_path ? t->dep[i].path : t->dep[i].name, by_path ? key : name) == 0)
			return &t->dep[i];
	return NULL;
}

/* FNV-1a of "bus/dev"; never 0, the free slot's mark. */
static uint64_t dev_hash(const char *bus, const char *dev)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *p = bus; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ '/') * 1099511628211ULL;
	for (const char *p = dev; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h ? h : 1;
}

/* The slot of h, or the free slot where it would go. */
static size_t dev_slot(const struct devset *s, uint64_t h)
{
	size_t i = (size_t)(h % DEVSET_SLOTS);

	while (s->hash[i] && s->hash[i] != h)
		i = (i + 1) % DEVSET_SLOTS;
	return i;
}

enum dev_state devset_get(const struct devset *s, const char *bus, const char *dev)
{
	uint64_t h = dev_hash(bus, dev);
	size_t i = dev_slot(s, h);

	return s->hash[i] == h ? (enum dev_state)s->state[i] : DEV_NEW;
}

bool devset_set(struct devset *s, const char *bus, const char *dev, enum dev_state state)
{
	uint64_t h = dev_hash(bus, dev);
	size_t i = dev_slot(s, h);

	if (s->hash[i] != h) {
		if (s->n >= DEVSET_SLOTS / 4 * 3)
			return false;
		s->hash[i] = h;
		s->n++;
	}
	s->state[i] = (unsigned char)state;
	return true;
}
