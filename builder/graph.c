#define _GNU_SOURCE
#include "graph.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void graph_add_take(struct graph *g, struct recipe *r)
{
	g->recipes = xrealloc(g->recipes, (g->n + 1) * sizeof(*g->recipes));
	g->recipes[g->n++] = r;
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int load_one(struct graph *g, const char *dir, const char *name, const char *root, struct diag *d)
{
	char *path = xasprintf("%s/%s/%s.recipe", dir, name, name);
	struct recipe *r;
	struct stat st;
	int err = 0;

	if (stat(path, &st) < 0)
		err = diag_set(d, path, 0, "missing; every folder of recipes/ holds <folder>.recipe "
			"(image profiles live in recipes/images/)");
	else if ((err = recipe_load(path, root, &r, d)) == 0)
		graph_add_take(g, r);
	free(path);
	return err;
}

int graph_load(struct graph *g, const char *recipes_dir, const char *repo_root, struct diag *d)
{
	struct dirent **ents;
	int n = scandir(recipes_dir, &ents, NULL, cmp_names), err = 0;

	if (n < 0)
		return diag_set(d, recipes_dir, 0, "cannot list recipes: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		if (err == 0 && name[0] != '.' && strcmp(name, "images") != 0 && ents[i]->d_type == DT_DIR)
			err = load_one(g, recipes_dir, name, repo_root, d);
		free(ents[i]);
	}
	free(ents);
	return err;
}

struct recipe *graph_find(const struct graph *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->recipes[i]->name, name) == 0)
			return g->recipes[i];
	return NULL;
}

static const char *closest_name(const struct graph *g, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < g->n; i++) {
		size_t dist = util_edit_distance(name, g->recipes[i]->name);
		if (dist < best_d) {
			best_d = dist;
			best = g->recipes[i]->name;
		}
	}
	return best;
}

static int missing(const struct graph *g, const char *path, int line, const char *name, struct diag *d)
{
	const char *near = closest_name(g, name);

	if (near)
		return diag_set(d, path, line, "unknown recipe '%s'; did you mean '%s'?", name, near);
	return diag_set(d, path, line, "unknown recipe '%s'; add recipes/%s/%s.recipe or remove it", name, name, name);
}

/* Depth-first walk; colour 1 marks recipes on the current path, 2 finished ones. */
struct walk {
	const struct graph *g;
	unsigned char *colour;
	struct recipe **stack, **out;
	size_t depth, nout;
	struct diag *d;
};

static size_t index_of(const struct graph *g, const struct recipe *r)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->recipes[i] == r)
			return i;
	return 0;
}

static int cycle(struct walk *w, const struct recipe *from, int line, const struct recipe *to)
{
	struct buf b = {0};
	size_t start = 0;
	int err;

	while (w->stack[start] != to)
		start++;
	for (size_t i = start; i < w->depth; i++)
		buf_printf(&b, "%s -> ", w->stack[i]->name);
	buf_puts(&b, to->name);
	err = diag_set(w->d, from->path, line, "dependency cycle: %s; remove one of these dependencies", b.data);
	buf_free(&b);
	return err;
}

static int visit(struct walk *w, struct recipe *r)
{
	size_t i = index_of(w->g, r);
	int err = 0;

	if (w->colour[i] == 2)
		return 0;
	w->colour[i] = 1;
	w->stack[w->depth++] = r;
	for (size_t k = 0; k < r->deps.n && err == 0; k++) {
		struct recipe *dep = graph_find(w->g, r->deps.v[k]);
		if (!dep)
			err = missing(w->g, r->path, r->dep_lines[k], r->deps.v[k], w->d);
		else if (w->colour[index_of(w->g, dep)] == 1)
			err = cycle(w, r, r->dep_lines[k], dep);
		else
			err = visit(w, dep);
	}
	w->depth--;
	w->colour[i] = 2;
	if (err == 0)
		w->out[w->nout++] = r;
	return err;
}

int graph_order(const struct graph *g, const struct strv *roots, const int *root_lines,
		const char *roots_path, struct recipe ***ret, size_t *ret_n, struct diag *d)
{
	struct walk w = {.g = g, .d = d};
	int err = 0;

	w.colour = xcalloc(g->n + 1, 1);
	w.stack = xcalloc(g->n + 1, sizeof(*w.stack));
	w.out = xcalloc(g->n + 1, sizeof(*w.out));
	for (size_t i = 0; i < roots->n && err == 0; i++) {
		struct recipe *r = graph_find(g, roots->v[i]);
		err = r ? visit(&w, r) : missing(g, roots_path, root_lines[i], roots->v[i], d);
	}
	free(w.colour);
	free(w.stack);
	if (err < 0) {
		free(w.out);
		return err;
	}
	*ret = w.out;
	*ret_n = w.nout;
	return 0;
}

void graph_free(struct graph *g)
{
	for (size_t i = 0; i < g->n; i++)
		recipe_free(g->recipes[i]);
	free(g->recipes);
	*g = (struct graph){0};
}
