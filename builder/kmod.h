/* Kernel modules: the modules an image profile names, with their dependencies from modules.dep,
 * in an order that loads each after what it needs. */
#ifndef KMOD_H
#define KMOD_H

#include "kv.h"
#include "util.h"

struct kmod_entry {
	char *name;      /* "virtio_blk" ('-' folded to '_') */
	char *path;      /* "kernel/drivers/block/virtio_blk.ko" */
	struct strv deps; /* paths */
};

struct kmod_db {
	struct kmod_entry *e;
	size_t n;
	struct strv builtin; /* names of modules built into the kernel */
	/* modules.alias: alias_pattern[i] (a modalias glob) is handled by module alias_module[i] */
	struct strv alias_pattern, alias_module;
};

/* Parse modules.dep text into db (appending). 0, or -EINVAL with d naming path:line. */
int kmod_parse_dep(struct kmod_db *db, const char *path, const char *text, size_t len, struct diag *d);
/* Parse modules.alias text ("alias PATTERN MODULE" lines) into db (appending). 0, or -EINVAL. */
int kmod_parse_alias(struct kmod_db *db, const char *path, const char *text, size_t len, struct diag *d);
/* Load <moddir>/modules.alias. */
int kmod_load_alias(struct kmod_db *db, const char *moddir, struct diag *d);
/* The entry of a module name ('-' and '_' alike), or NULL. */
const struct kmod_entry *kmod_find(const struct kmod_db *db, const char *name);
/* The entry of a path as modules.dep gives it, or NULL. */
const struct kmod_entry *kmod_find_path(const struct kmod_db *db, const char *path);
/* Load <moddir>/modules.dep and modules.builtin. */
int kmod_load(struct kmod_db *db, const char *moddir, struct diag *d);
/*
 * Append to ret the paths of the named modules and everything they need, dependencies first,
 * each once. Built-in modules are skipped. An unknown name is -EINVAL with d naming
 * where (path, lines[i]) it was asked for.
 */
int kmod_resolve(const struct kmod_db *db, const struct strv *names, const int *lines, const char *path,
		 struct strv *ret, struct diag *d);
/* Free the database. */
void kmod_free(struct kmod_db *db);

#endif
