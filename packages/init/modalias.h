/* The driver tables the image builder writes for init (builder/drivers.h): /etc/modules.alias
 * ("alias PATTERN MODULE", the kernel's modules.alias lines of the image's driver modules) and
 * /etc/modules.dep ("path: dependency-path ...", the kernel's modules.dep lines of those modules
 * and what they need). Parsed in place, without allocation; libc only. */
#ifndef MODALIAS_H
#define MODALIAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* The devices a scan has looked at ("bus/device"), and what it found, so that the next scan
 * round reads a device again only while it may still need a driver. Open addressing over 64-bit
 * hashes of the names, no allocation: a host with a terabyte of memory has thousands of memory
 * blocks, and every one is a device. Once the set is three-quarters full it takes no more: a
 * device it does not know is DEV_NEW, and is looked at in every round. */
#define DEVSET_SLOTS 16384

enum dev_state {
	DEV_NEW,       /* not looked at, or not remembered */
	DEV_DONE,      /* nothing to do: a driver is bound, or it has no modalias */
	DEV_UNMATCHED, /* a modalias no table matched yet (a later table may) */
	DEV_MATCHED,   /* a table matched it; its modules were loaded */
};

struct devset {
	uint64_t hash[DEVSET_SLOTS]; /* 0: a free slot */
	unsigned char state[DEVSET_SLOTS];
	size_t n;
};

enum dev_state devset_get(const struct devset *s, const char *bus, const char *dev);
/* Remember a device's state; false when the set is full (the device is then not remembered). */
bool devset_set(struct devset *s, const char *bus, const char *dev, enum dev_state state);

#endif
