#include <string.h>

#include "graph.h"
#include "tap.h"

static void add(struct graph *g, const char *name, const char *deps)
{
	char *path = xasprintf("recipes/%s/%s.recipe", name, name);
	char *text = xasprintf("version = 1\ndepends = %s\n", deps);
	struct recipe *r;
	struct diag d;

	if (recipe_parse(path, ".", text, strlen(text), &r, &d) == 0)
		graph_add_take(g, r);
	free(path);
	free(text);
}

static int order(struct graph *g, const char *root, struct buf *out, struct diag *d)
{
	struct strv roots = {0};
	int lines[1] = {7};
	struct recipe **o;
	size_t n;
	int e;

	strv_push(&roots, root);
	e = graph_order(g, &roots, lines, "x.image", &o, &n, d);
	for (size_t i = 0; e == 0 && i < n; i++)
		buf_printf(out, "%s ", o[i]->name);
	if (e == 0)
		free(o);
	strv_free(&roots);
	return e;
}

static void test_graph_orders_dependencies_first(void)
{
	struct graph g = {0};
	struct buf b = {0};
	struct diag d = {{0}, 0};

	add(&g, "app", "lib zlib");
	add(&g, "lib", "zlib");
	add(&g, "zlib", "");
	add(&g, "unused", "");
	ok(order(&g, "app", &b, &d) == 0 && strcmp(b.data, "zlib lib app ") == 0,
	   "graph: dependencies first, each once, unused left out (%s)", b.data ? b.data : d.msg);
	buf_free(&b);
	graph_free(&g);
}

static void test_graph_names_the_cycle_when_there_is_one(void)
{
	struct graph g = {0};
	struct buf b = {0};
	struct diag d = {{0}, 0};

	add(&g, "a", "b");
	add(&g, "b", "c");
	add(&g, "c", "a");
	ok(order(&g, "a", &b, &d) < 0 && strstr(d.msg, "recipes/c/c.recipe:2: dependency cycle: a -> b -> c -> a"),
	   "graph: a cycle is named with the line that closes it (%s)", d.msg);
	buf_free(&b);
	graph_free(&g);
}

static void test_graph_names_the_missing_dependency(void)
{
	struct graph g = {0};
	struct buf b = {0};
	struct diag d = {{0}, 0};

	add(&g, "a", "zlb");
	add(&g, "zlib", "");
	ok(order(&g, "a", &b, &d) < 0 && strstr(d.msg, "recipes/a/a.recipe:2: unknown recipe 'zlb'; did you mean 'zlib'?"),
	   "graph: a missing dependency is named with a hint (%s)", d.msg);
	ok(order(&g, "nothing-like-it", &b, &d) < 0 && strstr(d.msg, "x.image:7: unknown recipe 'nothing-like-it'"),
	   "graph: a missing root is named at the profile's line (%s)", d.msg);
	buf_free(&b);
	graph_free(&g);
}

int main(void)
{
	test_graph_orders_dependencies_first();
	test_graph_names_the_cycle_when_there_is_one();
	test_graph_names_the_missing_dependency();
	return tap_done();
}
