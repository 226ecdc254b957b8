#define _GNU_SOURCE
#include "drivers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmod.h"

/* What drivers_add writes, gathered over the families. */
struct tables {
	struct strv closure; /* every module path the families need, dependencies first */
	struct buf alias;    /* /etc/modules.alias */
};

static int write_file(const char *root, const char *rel, const char *text, size_t len, struct diag *d)
{
	char *path = xasprintf("%s/%s", root, rel), *dir = xstrdup(path);
	int r;

	*strrchr(dir, '/') = '\0';
	util_mkdir_p(dir, 0755);
	r = util_write_file_atomic(path, text, len, 0644);
	if (r < 0)
		diag_set(d, path, 0, "cannot write: %s; check the free space of the output folder", strerror(-r));
	free(path);
	free(dir);
	return r;
}

/* Copy from into root/rel unless it is there already, or in base/rel; the bytes added (0 when it
 * was). */
static long long copy_new(const char *from, const char *root, const char *base, const char *rel, struct diag *d)
{
	char *to = xasprintf("%s/%s", root, rel), *have = base ? xasprintf("%s/%s", base, rel) : NULL, *data;
	size_t len;
	long long r = 0;

	if (access(to, F_OK) < 0 && (!have || access(have, F_OK) < 0)) {
		int e = util_read_file(from, &data, &len);
		if (e < 0)
			r = diag_set(d, from, 0, "cannot read: %s; rebuild the package that holds it", strerror(-e));
		else {
			r = write_file(root, rel, data, len, d);
			r = r < 0 ? r : (long long)len;
			free(data);
		}
	}
	free(to);
	free(have);
	return r;
}

int drivers_copy_modules(const char *kdir, const char *kver, const char *root, const char *base,
			 const struct strv *paths, long long *bytes, size_t *files, struct diag *d)
{
	for (size_t i = 0; i < paths->n; i++) {
		char *from = xasprintf("%s/%s", kdir, paths->v[i]), *rel = xasprintf("lib/modules/%s/%s", kver, paths->v[i]);
		long long r = copy_new(from, root, base, rel, d);
		free(from);
		free(rel);
		if (r < 0)
			return (int)r;
		*bytes += r;
		*files += r > 0;
	}
	return 0;
}

static int add_firmware(const char *root, const char *base, struct driver_family *f, struct diag *d)
{
	for (size_t i = 0; i < f->r->firmware.n; i++) {
		const char *fw = f->r->firmware.v[i];
		char *from = xasprintf("%s/lib/firmware/%s", f->pkg, fw), *rel = xasprintf("lib/firmware/%s", fw);
		long long r = access(from, R_OK) == 0 ? copy_new(from, root, base, rel, d) : 0;
		if (access(from, R_OK) < 0)
			strv_push(&f->missing, fw);
		free(from);
		free(rel);
		if (r < 0)
			return (int)r;
		f->bytes += r;
	}
	return 0;
}

/* The alias lines of the family's modules (built-in ones bind by themselves and have none here). */
static void add_aliases(const struct kmod_db *db, const struct recipe *r, struct buf *out)
{
	for (size_t i = 0; i < r->modules.n; i++) {
		const struct kmod_entry *m = kmod_find(db, r->modules.v[i]);
		for (size_t a = 0; m && a < db->alias_module.n; a++)
			if (strcmp(db->alias_module.v[a], m->name) == 0)
				buf_printf(out, "alias %s %s\n", db->alias_pattern.v[a], m->name);
	}
}

static int add_family(const struct kmod_db *db, const char *kdir, const char *kver, const char *root,
		      const char *base, struct driver_family *f, struct tables *t, struct diag *d)
{
	struct strv paths = {0};
	int r = kmod_resolve(db, &f->r->modules, f->r->module_lines, f->r->path, &paths, d);

	if (r == 0)
		r = drivers_copy_modules(kdir, kver, root, base, &paths, &f->bytes, &f->nmodules, d);
	if (r == 0)
		r = add_firmware(root, base, f, d);
	for (size_t i = 0; i < paths.n && r == 0; i++)
		if (!strv_contains(&t->closure, paths.v[i]))
			strv_push(&t->closure, paths.v[i]);
	if (r == 0)
		add_aliases(db, f->r, &t->alias);
	strv_free(&paths);
	return r;
}

/* modules.dep lines of the closure, as the kernel package has them. */
static void dep_lines(const struct kmod_db *db, const struct strv *closure, struct buf *out)
{
	for (size_t i = 0; i < closure->n; i++) {
		const struct kmod_entry *m = kmod_find_path(db, closure->v[i]);
		buf_printf(out, "%s:", closure->v[i]);
		for (size_t j = 0; m && j < m->deps.n; j++)
			buf_printf(out, " %s", m->deps.v[j]);
		buf_puts(out, "\n");
	}
}

static int write_tables(const struct kmod_db *db, const char *root, struct tables *t, struct diag *d)
{
	struct buf dep = {0};
	int r;

	buf_puts(&t->alias, "");
	buf_puts(&dep, "");
	dep_lines(db, &t->closure, &dep);
	r = write_file(root, "etc/modules.alias", t->alias.data, t->alias.len, d);
	if (r == 0)
		r = write_file(root, "etc/modules.dep", dep.data, dep.len, d);
	buf_free(&dep);
	return r;
}

int drivers_add(const char *kdir, const char *kver, const char *root, const char *base, struct driver_family *f,
		size_t n, struct diag *d)
{
	struct kmod_db db = {0};
	struct tables t = {0};
	int r = kmod_load(&db, kdir, d);

	if (r == 0)
		r = kmod_load_alias(&db, kdir, d);
	for (size_t i = 0; i < n && r == 0; i++)
		r = add_family(&db, kdir, kver, root, base, &f[i], &t, d);
	if (r == 0)
		r = write_tables(&db, root, &t, d);
	strv_free(&t.closure);
	buf_free(&t.alias);
	kmod_free(&db);
	return r;
}

void drivers_free(struct driver_family *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strv_free(&f[i].missing);
}
