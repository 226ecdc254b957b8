#define _GNU_SOURCE
#include "kv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

void kv_init(struct kv_lexer *lx, const char *path, const char *text, size_t len)
{
	*lx = (struct kv_lexer){.path = path, .p = text, .end = text + len, .line = 0};
}

/* One physical line [*start, *stop) without its newline; advances the lexer. */
static int next_line(struct kv_lexer *lx, const char **start, const char **stop)
{
	const char *nl;

	if (lx->p >= lx->end)
		return 0;
	nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
	*start = lx->p;
	*stop = nl ? nl : lx->end;
	lx->p = nl ? nl + 1 : lx->end;
	lx->line++;
	return 1;
}

static const char *skip_blank(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return s;
}

static const char *trim_end(const char *s, const char *e)
{
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return e;
}

/* Append continuation lines while the value ends in a backslash. */
static void read_value(struct kv_lexer *lx, struct buf *v, const char *s, const char *e)
{
	for (;;) {
		e = trim_end(s, e);
		if (e == s || e[-1] != '\\') {
			buf_add(v, s, (size_t)(e - s));
			return;
		}
		buf_add(v, s, (size_t)(e - s));
		buf_puts(v, "\n");
		if (!next_line(lx, &s, &e))
			return;
		s = skip_blank(s, e);
	}
}

static int is_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

int kv_next(struct kv_lexer *lx, struct kv *ret, struct diag *d)
{
	const char *s, *e, *k;
	struct buf v = {0};

	for (;;) {
		if (!next_line(lx, &s, &e))
			return 0;
		s = skip_blank(s, e);
		if (s < e && *s != '#')
			break;
	}
	if (memchr(s, '\0', (size_t)(e - s)))
		return diag_set(d, lx->path, lx->line, "NUL byte in line; recipes are text files");
	for (k = s; k < e && is_key_char(*k); k++)
		;
	if (k == s)
		return diag_set(d, lx->path, lx->line, "expected 'key = value'; check the line's syntax");
	ret->key = xstrndup(s, (size_t)(k - s));
	ret->line = lx->line;
	k = skip_blank(k, e);
	if (k >= e || *k != '=') {
		free(ret->key);
		return diag_set(d, lx->path, lx->line, "expected '=' after the key; write 'key = value'");
	}
	buf_puts(&v, "");
	read_value(lx, &v, skip_blank(k + 1, e), e);
	ret->value = v.data;
	return 1;
}

void kv_free(struct kv *kv)
{
	free(kv->key);
	free(kv->value);
	kv->key = kv->value = NULL;
}

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
