#define _GNU_SOURCE
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static int walk(const char *root, const char *rel, struct strv *out)
{
	char *dir = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), r = 0;

	free(dir);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (r == 0 && strcmp(nm, ".") && strcmp(nm, "..")) {
			char *sub = *rel ? xasprintf("%s/%s", rel, nm) : xstrdup(nm);
			strv_push(out, sub);
			if (ents[i]->d_type == DT_DIR)
				r = walk(root, sub, out);
			free(sub);
		}
		free(ents[i]);
	}
	free(ents);
	return r;
}

int tree_list(const char *root, struct strv *out)
{
	return walk(root, "", out);
}

int tree_merge(const char *from, const char *to)
{
	char *src = xasprintf("%s/.", from);
	char *argv[] = {"cp", "-a", "--", src, (char *)to, NULL};
	int r;

	util_mkdir_p(to, 0755);
	r = run_argv(argv, NULL, NULL, NULL, NULL);
	free(src);
	return r == 0 ? 0 : -EIO;
}
