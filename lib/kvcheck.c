/* The host tools' part of the kv format (kv.h): key checks with "did you mean" hints, and value
 * splitting into a strv (lib/util.c). The lexer itself, libc only, is kv.c. */
#define _GNU_SOURCE
#include "kv.h"

#include <ctype.h>
#include <string.h>

#include "util.h"

int kv_check_key(const char *path, const struct kv *kv, const char *const *allowed, struct diag *d)
{
	const char *best = NULL;
	size_t best_dist = 3;

	for (size_t i = 0; allowed[i]; i++) {
		size_t dist;
		if (strcmp(kv->key, allowed[i]) == 0)
			return 0;
		dist = util_edit_distance(kv->key, allowed[i]);
		if (dist < best_dist) {
			best_dist = dist;
			best = allowed[i];
		}
	}
	if (best)
		return diag_set(d, path, kv->line, "unknown key '%s'; did you mean '%s'?", kv->key, best);
	return diag_set(d, path, kv->line, "unknown key '%s'; see docs/recipes.md for the keys", kv->key);
}

void kv_split(const char *value, struct strv *out)
{
	const char *p = value;

	for (;;) {
		size_t n;
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			return;
		for (n = 0; p[n] && !isspace((unsigned char)p[n]); n++)
			;
		/* A lone backslash is a line continuation, not a word. */
		if (!(n == 1 && *p == '\\'))
			strv_push_take(out, xstrndup(p, n));
		p += n;
	}
}
