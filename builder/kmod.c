#define _GNU_SOURCE
#include "kmod.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "kernel/fs/squashfs/squashfs.ko" -> "squashfs"; "snd-hda.ko.xz" -> "snd_hda". */
static char *name_of(const char *path, size_t len)
{
	const char *slash = memrchr(path, '/', len), *base = slash ? slash + 1 : path;
	const char *dot = memmem(base, len - (size_t)(base - path), ".ko", 3);
	char *name = xstrndup(base, dot ? (size_t)(dot - base) : len - (size_t)(base - path));

	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
	return name;
}

static int parse_line(struct kmod_db *db, const char *s, const char *e, const char *path, int line,
		      struct diag *d)
{
	const char *colon = memchr(s, ':', (size_t)(e - s));
	struct kmod_entry ent = {0};
	char *rest;

	if (!colon || colon == s)
		return diag_set(d, path, line, "expected 'module.ko: dependencies'; run depmod again");
	ent.path = xstrndup(s, (size_t)(colon - s));
	ent.name = name_of(s, (size_t)(colon - s));
	rest = xstrndup(colon + 1, (size_t)(e - colon - 1));
	kv_split(rest, &ent.deps);
	free(rest);
	db->e = xrealloc(db->e, (db->n + 1) * sizeof(*db->e));
	db->e[db->n++] = ent;
	return 0;
}

typedef int line_fn(struct kmod_db *db, const char *s, const char *e, const char *path, int line,
		    struct diag *d);

/* Call fn for each line that is neither empty nor a '#' comment; stop at the first error. */
static int each_line(struct kmod_db *db, const char *path, const char *text, size_t len, line_fn *fn,
		     struct diag *d)
{
	const char *p = text, *end = text + len;
	int line = 0, err = 0;

	while (p < end && err == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		line++;
		if (e > p && *p != '#')
			err = fn(db, p, e, path, line, d);
		p = e + 1;
	}
	return err;
}

int kmod_parse_dep(struct kmod_db *db, const char *path, const char *text, size_t len, struct diag *d)
{
	return each_line(db, path, text, len, parse_line, d);
}

static int parse_alias_line(struct kmod_db *db, const char *s, const char *e, const char *path, int line,
			    struct diag *d)
{
	char *text = xstrndup(s, (size_t)(e - s));
	struct strv w = {0};
	int r = 0;

	kv_split(text, &w);
	if (w.n != 3 || strcmp(w.v[0], "alias") != 0)
		r = diag_set(d, path, line, "expected 'alias PATTERN MODULE'; run depmod again");
	else {
		strv_push(&db->alias_pattern, w.v[1]);
		strv_push_take(&db->alias_module, name_of(w.v[2], strlen(w.v[2])));
	}
	strv_free(&w);
	free(text);
	return r;
}

int kmod_parse_alias(struct kmod_db *db, const char *path, const char *text, size_t len, struct diag *d)
{
	return each_line(db, path, text, len, parse_alias_line, d);
}

int kmod_load_alias(struct kmod_db *db, const char *moddir, struct diag *d)
{
	char *path = xasprintf("%s/modules.alias", moddir), *text;
	size_t len;
	int err = util_read_file(path, &text, &len);

	if (err < 0)
		err = diag_set(d, path, 0, "cannot read: %s; the kernel recipe must run depmod", strerror(-err));
	else {
		err = kmod_parse_alias(db, path, text, len, d);
		free(text);
	}
	free(path);
	return err;
}

static void load_builtin(struct kmod_db *db, const char *moddir)
{
	char *path = xasprintf("%s/modules.builtin", moddir), *text, *save = NULL;

	if (util_read_file(path, &text, NULL) == 0) {
		for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			strv_push_take(&db->builtin, name_of(l, strlen(l)));
		free(text);
	}
	free(path);
}

int kmod_load(struct kmod_db *db, const char *moddir, struct diag *d)
{
	char *path = xasprintf("%s/modules.dep", moddir), *text;
	size_t len;
	int err = util_read_file(path, &text, &len);

	if (err < 0)
		err = diag_set(d, path, 0, "cannot read: %s; the kernel recipe must run depmod", strerror(-err));
	else {
		err = kmod_parse_dep(db, path, text, len, d);
		free(text);
	}
	free(path);
	if (err == 0)
		load_builtin(db, moddir);
	return err;
}

static const struct kmod_entry *find(const struct kmod_db *db, const char *name, int by_path)
{
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(by_path ? db->e[i].path : db->e[i].name, name) == 0)
			return &db->e[i];
	return NULL;
}

const struct kmod_entry *kmod_find(const struct kmod_db *db, const char *name)
{
	char *want = name_of(name, strlen(name));
	const struct kmod_entry *m = find(db, want, 0);

	free(want);
	return m;
}

const struct kmod_entry *kmod_find_path(const struct kmod_db *db, const char *path)
{
	return find(db, path, 1);
}

/* Post-order walk; depth bounds a malformed modules.dep with a cycle. */
static void add_with_deps(const struct kmod_db *db, const struct kmod_entry *m, struct strv *ret, int depth)
{
	if (strv_contains(ret, m->path) || depth > 64)
		return;
	for (size_t i = 0; i < m->deps.n; i++) {
		const struct kmod_entry *dep = find(db, m->deps.v[i], 1);
		if (dep)
			add_with_deps(db, dep, ret, depth + 1);
		else if (!strv_contains(ret, m->deps.v[i]))
			strv_push(ret, m->deps.v[i]);
	}
	if (!strv_contains(ret, m->path))
		strv_push(ret, m->path);
}

static const char *closest(const struct kmod_db *db, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < db->n; i++) {
		size_t dist = util_edit_distance(name, db->e[i].name);
		if (dist < best_d) {
			best_d = dist;
			best = db->e[i].name;
		}
	}
	return best;
}

int kmod_resolve(const struct kmod_db *db, const struct strv *names, const int *lines, const char *path,
		 struct strv *ret, struct diag *d)
{
	for (size_t i = 0; i < names->n; i++) {
		char *want = name_of(names->v[i], strlen(names->v[i]));
		const struct kmod_entry *m = find(db, want, 0);
		int builtin = strv_contains(&db->builtin, want);
		const char *near = m || builtin ? NULL : closest(db, want);
		free(want);
		if (m)
			add_with_deps(db, m, ret, 0);
		else if (!builtin && near)
			return diag_set(d, path, lines[i], "unknown kernel module '%s'; did you mean '%s'?", names->v[i], near);
		else if (!builtin)
			return diag_set(d, path, lines[i], "unknown kernel module '%s'; see modules.dep of the kernel package",
					names->v[i]);
	}
	return 0;
}

void kmod_free(struct kmod_db *db)
{
	for (size_t i = 0; i < db->n; i++) {
		free(db->e[i].name);
		free(db->e[i].path);
		strv_free(&db->e[i].deps);
	}
	free(db->e);
	strv_free(&db->builtin);
	strv_free(&db->alias_pattern);
	strv_free(&db->alias_module);
	*db = (struct kmod_db){0};
}
