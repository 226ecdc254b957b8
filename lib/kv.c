/* The kv line lexer (kv.h). libc only, no exit on out-of-memory: linked by the host tools and by
 * init (musl), which reads its service files with it. kvcheck.c has the host tools' helpers. */
#define _GNU_SOURCE
#include "kv.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* A value being built: malloc'd, NUL-terminated; data NULL after an allocation failed. */
struct text {
	char *data;
	size_t len;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	char *grown;

	if (!t->data)
		return;
	grown = realloc(t->data, t->len + n + 1);
	if (!grown) {
		free(t->data);
		t->data = NULL;
		return;
	}
	t->data = grown;
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

/* Append continuation lines while the value ends in a backslash. */
static void read_value(struct kv_lexer *lx, struct text *v, const char *s, const char *e)
{
	for (;;) {
		e = trim_end(s, e);
		text_add(v, s, (size_t)(e - s));
		if (e == s || e[-1] != '\\')
			return;
		text_add(v, "\n", 1);
		if (!next_line(lx, &s, &e))
			return;
		s = skip_blank(s, e);
	}
}

static int is_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* The key and value of the line [s, e) that starts a pair; 1, or -errno with d filled. */
static int read_pair(struct kv_lexer *lx, const char *s, const char *e, struct kv *ret, struct diag *d)
{
	const char *kend, *k;
	struct text v = {calloc(1, 1), 0};

	for (kend = s; kend < e && is_key_char(*kend); kend++)
		;
	k = skip_blank(kend, e);
	if (k >= e || *k != '=') {
		free(v.data);
		return diag_set(d, lx->path, lx->line, "expected '=' after the key; write 'key = value'");
	}
	ret->key = strndup(s, (size_t)(kend - s));
	ret->line = lx->line;
	read_value(lx, &v, skip_blank(k + 1, e), e);
	ret->value = v.data;
	if (ret->key && ret->value)
		return 1;
	kv_free(ret);
	return diag_set_errno(d, ENOMEM, lx->path, lx->line, "cannot read the line; free some memory");
}

int kv_next(struct kv_lexer *lx, struct kv *ret, struct diag *d)
{
	const char *s, *e;

	for (;;) {
		if (!next_line(lx, &s, &e))
			return 0;
		s = skip_blank(s, e);
		if (s < e && *s != '#')
			break;
	}
	if (memchr(s, '\0', (size_t)(e - s)))
		return diag_set(d, lx->path, lx->line, "NUL byte in line; recipes are text files");
	if (!is_key_char(*s))
		return diag_set(d, lx->path, lx->line, "expected 'key = value'; check the line's syntax");
	return read_pair(lx, s, e, ret, d);
}

void kv_free(struct kv *kv)
{
	free(kv->key);
	free(kv->value);
	kv->key = kv->value = NULL;
}
