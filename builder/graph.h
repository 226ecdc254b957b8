/* The dependency graph of recipes: loading every recipe, and ordering what an image needs. */
#ifndef GRAPH_H
#define GRAPH_H

#include "recipe.h"

struct graph {
	struct recipe **recipes; /* owned */
	size_t n;
};

/* Load every recipes/<name>/<name>.recipe under recipes_dir (sorted by name). -EINVAL and d on error. */
int graph_load(struct graph *g, const char *recipes_dir, const char *repo_root, struct diag *d);
/* Add a parsed recipe; the graph takes ownership. */
void graph_add_take(struct graph *g, struct recipe *r);
/* The recipe called name, or NULL. */
struct recipe *graph_find(const struct graph *g, const char *name);
/*
 * The roots and everything they depend on, dependencies first. roots_path and root_lines name
 * where each root was asked for, for messages. *ret (the array, not the recipes) is owned by the
 * caller. A missing dependency or a cycle: -EINVAL and d.
 */
int graph_order(const struct graph *g, const struct strv *roots, const int *root_lines,
		const char *roots_path, struct recipe ***ret, size_t *ret_n, struct diag *d);
/* Free every recipe and the graph's array. */
void graph_free(struct graph *g);

#endif
