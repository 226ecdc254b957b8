/* The driver tables the image builder writes for init (builder/drivers.h): /etc/modules.alias
 * ("alias PATTERN MODULE", the kernel's modules.alias lines of the image's driver modules) and
 * /etc/modules.dep ("path: dependency-path ...", the kernel's modules.dep lines of those modules
 * and what they need). Parsed in place, without allocation; libc only. */
#ifndef MODALIAS_H
#define MODALIAS_H

#include <stdbool.h>
#include <stddef.h>

#define MODALIAS_MAX 8192 /* alias lines */
#define MODDEP_MAX 1024   /* module lines */
#define MODDEP_DEPS_MAX 48
#define MODNAME_MAX 64

struct modalias_entry {
	const char *pattern; /* a glob over a device's modalias (fnmatch, as modprobe matches) */
	const char *module;
	size_t prefix;       /* characters before the pattern's first wildcard */
};

struct moddep_entry {
	const char *path;    /* relative to /lib/modules/<release> */
	char name[MODNAME_MAX]; /* "nvme_core": the file's name without .ko, '-' as '_' */
	const char *deps[MODDEP_DEPS_MAX]; /* paths */
	size_t ndeps;
};

struct modtable {
	struct modalias_entry alias[MODALIAS_MAX];
	size_t nalias;
	struct moddep_entry dep[MODDEP_MAX];
	size_t ndep;
};

/* Parse alias text into t (appending); the text must outlive t. 0, or -EINVAL (a line that is
 * not "alias PATTERN MODULE") or -E2BIG (too many lines), with *line the line. */
int modalias_parse(struct modtable *t, char *text, int *line);
/* Parse modules.dep text into t (appending), the same way. */
int moddep_parse(struct modtable *t, char *text, int *line);
/* The next alias matching a device's modalias, from *next on (start at 0); NULL when none is left. */
const struct modalias_entry *modalias_match(const struct modtable *t, const char *modalias, size_t *next);
/* The module line of a name ('-' and '_' alike) or, with by_path, of a path; NULL if absent. */
const struct moddep_entry *moddep_find(const struct modtable *t, const char *key, bool by_path);
/* "kernel/drivers/nvme/host/nvme-core.ko" -> "nvme_core" (cut to size). */
void modname_of(const char *path, char *out, size_t size);

#endif
