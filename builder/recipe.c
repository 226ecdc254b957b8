#define _GNU_SOURCE
#include "recipe.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

static const char *const recipe_keys[] = {
	"description", "version", "license", "source", "depends", "build", "install", "modules", "firmware", NULL,
};

char *recipe_name_from_path(const char *path)
{
	char *copy = xstrdup(path), *dir = dirname(copy);
	char *name = xstrdup(basename(dir));

	free(copy);
	return name;
}

static char *dir_of(const char *path)
{
	char *copy = xstrdup(path), *dir = xstrdup(dirname(copy));

	free(copy);
	return dir;
}

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || strchr("-_+.", *s)))
			return 0;
	return 1;
}

static int is_hex64(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == 64 && s[n] == '\0';
}

static int set_once(char **field, const struct kv *kv, const char *path, struct diag *d)
{
	if (*field)
		return diag_set(d, path, kv->line, "'%s' given twice; keep one", kv->key);
	if (!*kv->value || strpbrk(kv->value, "\n"))
		return diag_set(d, path, kv->line, "'%s' needs a one-line value", kv->key);
	*field = xstrdup(kv->value);
	return 0;
}

/* "deb:busybox-static=1:1.35.0-4" */
static int parse_deb(struct source *s, const char *spec, const char *path, int line, struct diag *d)
{
	const char *eq = strchr(spec, '=');

	if (!eq || eq == spec || !eq[1] || strpbrk(spec, " \t"))
		return diag_set(d, path, line, "Debian source '%s' needs a pinned version; write 'deb:NAME=VERSION' "
			"(apt-cache policy NAME lists them)", spec);
	s->ref = xstrndup(spec, (size_t)(eq - spec));
	s->version = xstrdup(eq + 1);
	return 0;
}

/* "tar:dl/zlib-1.3.tar.xz sha256=<64 hex>" */
static int parse_tar(struct source *s, const char *spec, const char *dir, const char *path, int line,
		     struct diag *d)
{
	struct strv w = {0};
	int r = 0;

	kv_split(spec, &w);
	if (w.n != 2 || strncmp(w.v[1], "sha256=", 7) != 0 || !is_hex64(w.v[1] + 7))
		r = diag_set(d, path, line, "tarball source needs its hash; write 'tar:PATH-OR-URL sha256=<64 hex digits>'");
	else if (strstr(w.v[0], "://"))
		s->ref = xstrdup(w.v[0]);
	else
		s->ref = xasprintf("%s/%s", dir, w.v[0]);
	if (r == 0)
		s->sha256 = xstrdup(w.v[1] + 7);
	strv_free(&w);
	return r;
}

static char *resolve_file(const char *rel, const char *dir, const char *root)
{
	if (strncmp(rel, "//", 2) == 0)
		return xasprintf("%s/%s", root, rel + 2);
	return xasprintf("%s/%s", dir, rel);
}

static int add_source(struct recipe *r, const struct kv *kv, const char *dir, const char *root, struct diag *d)
{
	struct source s = {.line = kv->line};
	const char *v = kv->value;
	int ret = 0;

	if (strncmp(v, "file:", 5) == 0 && v[5] && !strpbrk(v, " \t\n")) {
		s.kind = SOURCE_FILE;
		s.ref = resolve_file(v + 5, dir, root);
		if (strncmp(v + 5, "//", 2) == 0)
			s.place = xstrdup(v + 7 + strspn(v + 7, "/"));
	} else if (strncmp(v, "deb:", 4) == 0) {
		s.kind = SOURCE_DEB;
		ret = parse_deb(&s, v + 4, r->path, kv->line, d);
	} else if (strncmp(v, "tar:", 4) == 0) {
		s.kind = SOURCE_TAR;
		ret = parse_tar(&s, v + 4, dir, r->path, kv->line, d);
	} else {
		return diag_set(d, r->path, kv->line, "unknown source '%s'; use file:PATH, deb:NAME=VERSION "
			"or tar:PATH-OR-URL sha256=HEX", v);
	}
	if (ret < 0)
		return ret;
	r->sources = xrealloc(r->sources, (r->nsources + 1) * sizeof(*r->sources));
	r->sources[r->nsources++] = s;
	return 0;
}

static int add_deps(struct recipe *r, const struct kv *kv, struct diag *d)
{
	struct strv w = {0};

	kv_split(kv->value, &w);
	for (size_t i = 0; i < w.n; i++) {
		if (!valid_name(w.v[i])) {
			diag_set(d, r->path, kv->line, "'%s' is not a recipe name; use lower-case letters, digits and -_+.", w.v[i]);
			strv_free(&w);
			return -EINVAL;
		}
		r->dep_lines = xrealloc(r->dep_lines, (r->deps.n + 1) * sizeof(int));
		r->dep_lines[r->deps.n] = kv->line;
		strv_push(&r->deps, w.v[i]);
	}
	strv_free(&w);
	return 0;
}

static int add_step(struct recipe *r, const struct kv *kv, struct diag *d)
{
	if (!*kv->value)
		return diag_set(d, r->path, kv->line, "empty build step; remove the line or give a command");
	r->steps = xrealloc(r->steps, (r->nsteps + 1) * sizeof(*r->steps));
	r->steps[r->nsteps++] = (struct step){.cmd = xstrdup(kv->value), .line = kv->line};
	return 0;
}

/* modules = e1000 e1000e; firmware = tigon/tg3.bin: plain names and relative paths. */
static int add_words(struct strv *l, int **lines, const struct kv *kv, const char *path, struct diag *d)
{
	struct strv w = {0};
	int r = 0;

	kv_split(kv->value, &w);
	if (w.n == 0)
		r = diag_set(d, path, kv->line, "'%s' needs at least one name", kv->key);
	for (size_t i = 0; i < w.n && r == 0; i++) {
		if (strcmp(kv->key, "modules") == 0 && strpbrk(w.v[i], "/.")) {
			r = diag_set(d, path, kv->line, "'%s' is not a module name; write it as modinfo names it, e.g. "
				     "'e1000e' (without .ko or a folder)", w.v[i]);
			break;
		}
		if (w.v[i][0] == '/' || strstr(w.v[i], "..")) {
			r = diag_set(d, path, kv->line, "'%s' must be relative to /lib/firmware, without '..'", w.v[i]);
			break;
		}
		*lines = xrealloc(*lines, (l->n + 1) * sizeof(int));
		(*lines)[l->n] = kv->line;
		strv_push(l, w.v[i]);
	}
	strv_free(&w);
	return r;
}

static int check_install(const char *path, int line, struct strv *w, struct diag *d)
{
	if (w->n < 2 || w->n > 3)
		return diag_set(d, path, line, "install needs 'FROM TO [MODE]'; e.g. 'install = bin/init /init 0755'");
	if (w->v[0][0] == '/' || strstr(w->v[0], ".."))
		return diag_set(d, path, line, "install source '%s' must be relative to the work dir, without '..'", w->v[0]);
	if (w->v[1][0] != '/' || strstr(w->v[1], ".."))
		return diag_set(d, path, line, "install target '%s' must be an absolute image path, without '..'", w->v[1]);
	if (w->n == 3 && (strspn(w->v[2], "01234567") != strlen(w->v[2]) || strlen(w->v[2]) > 4))
		return diag_set(d, path, line, "mode '%s' is not octal; write e.g. 0755", w->v[2]);
	return 0;
}

static int add_install(struct recipe *r, const struct kv *kv, struct diag *d)
{
	struct strv w = {0};
	struct install in = {.line = kv->line, .mode = -1};
	int ret;

	kv_split(kv->value, &w);
	ret = check_install(r->path, kv->line, &w, d);
	if (ret == 0) {
		in.from = xstrdup(w.v[0]);
		in.to = xstrdup(w.v[1]);
		if (w.n == 3)
			in.mode = (int)strtol(w.v[2], NULL, 8);
		r->installs = xrealloc(r->installs, (r->ninstalls + 1) * sizeof(*r->installs));
		r->installs[r->ninstalls++] = in;
	}
	strv_free(&w);
	return ret;
}

static int apply_kv(struct recipe *r, const struct kv *kv, const char *dir, const char *root, struct diag *d)
{
	int ret = kv_check_key(r->path, kv, recipe_keys, d);

	if (ret < 0)
		return ret;
	if (strcmp(kv->key, "version") == 0)
		return set_once(&r->version, kv, r->path, d);
	if (strcmp(kv->key, "description") == 0)
		return set_once(&r->description, kv, r->path, d);
	if (strcmp(kv->key, "license") == 0)
		return set_once(&r->license, kv, r->path, d);
	if (strcmp(kv->key, "source") == 0)
		return add_source(r, kv, dir, root, d);
	if (strcmp(kv->key, "depends") == 0)
		return add_deps(r, kv, d);
	if (strcmp(kv->key, "build") == 0)
		return add_step(r, kv, d);
	if (strcmp(kv->key, "modules") == 0)
		return add_words(&r->modules, &r->module_lines, kv, r->path, d);
	if (strcmp(kv->key, "firmware") == 0)
		return add_words(&r->firmware, &r->firmware_lines, kv, r->path, d);
	return add_install(r, kv, d);
}

static int check_name(struct recipe *r, struct diag *d)
{
	char *base = xstrdup(r->path), *file = basename(base);
	char *want = xasprintf("%s.recipe", r->name);
	int ok = strcmp(file, want) == 0;

	free(want);
	free(base);
	if (!valid_name(r->name))
		return diag_set(d, r->path, 0, "recipe folder name '%s' is not a valid name; use lower-case "
			"letters, digits and -_+.", r->name);
	if (!ok)
		return diag_set(d, r->path, 0, "a recipe file is named after its folder; rename it to %s.recipe", r->name);
	return 0;
}

static int parse_lines(struct recipe *r, const char *root, const char *text, size_t len, struct diag *d)
{
	struct kv_lexer lx;
	struct kv kv;
	char *dir = dir_of(r->path);
	int ret;

	kv_init(&lx, r->path, text, len);
	while ((ret = kv_next(&lx, &kv, d)) > 0) {
		ret = apply_kv(r, &kv, dir, root, d);
		kv_free(&kv);
		if (ret < 0)
			break;
	}
	free(dir);
	if (ret == 0 && !r->version)
		ret = diag_set(d, r->path, 0, "missing 'version'; add a line 'version = ...'");
	return ret;
}

int recipe_parse(const char *path, const char *repo_root, const char *text, size_t len,
		 struct recipe **ret, struct diag *d)
{
	struct recipe *r = xcalloc(1, sizeof(*r));
	int err;

	r->path = xstrdup(path);
	r->name = recipe_name_from_path(path);
	r->text = xstrndup(text, len);
	r->text_len = len;
	err = check_name(r, d);
	if (err == 0)
		err = parse_lines(r, repo_root, text, len, d);
	if (err < 0) {
		recipe_free(r);
		return err;
	}
	*ret = r;
	return 0;
}

int recipe_load(const char *path, const char *repo_root, struct recipe **ret, struct diag *d)
{
	char *text;
	size_t len;
	int err = util_read_file(path, &text, &len);

	if (err < 0)
		return diag_set(d, path, 0, "cannot read the recipe: %s", strerror(-err));
	err = recipe_parse(path, repo_root, text, len, ret, d);
	free(text);
	return err;
}

void recipe_free(struct recipe *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nsources; i++) {
		free(r->sources[i].ref);
		free(r->sources[i].place);
		free(r->sources[i].version);
		free(r->sources[i].sha256);
	}
	for (size_t i = 0; i < r->nsteps; i++)
		free(r->steps[i].cmd);
	for (size_t i = 0; i < r->ninstalls; i++) {
		free(r->installs[i].from);
		free(r->installs[i].to);
	}
	free(r->sources);
	free(r->steps);
	free(r->installs);
	free(r->dep_lines);
	strv_free(&r->deps);
	strv_free(&r->modules);
	strv_free(&r->firmware);
	free(r->module_lines);
	free(r->firmware_lines);
	free(r->name);
	free(r->path);
	free(r->text);
	free(r->version);
	free(r->description);
	free(r->license);
	free(r);
}
