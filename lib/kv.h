/* The line format shared by recipes, image profiles and bundle manifests: "key = value", '#' comments,
 * and a trailing backslash continuing a value onto the next line. */
#ifndef KV_H
#define KV_H

#include <stddef.h>

#include "diag.h"

struct kv_lexer {
	const char *path;
	const char *p, *end;
	int line;
};

struct kv {
	char *key;   /* owned by the caller after kv_next() */
	char *value; /* owned; continuation lines joined with "\\\n" kept for the shell */
	int line;    /* where the key stands */
};

/* Start lexing text[0..len) that came from path. */
void kv_init(struct kv_lexer *lx, const char *path, const char *text, size_t len);
/* Next pair: 1 and *ret filled, 0 at the end, -EINVAL with d filled on a malformed line. */
int kv_next(struct kv_lexer *lx, struct kv *ret, struct diag *d);
/* Free a pair's strings. */
void kv_free(struct kv *kv);
/* Check key against the allowed list; -EINVAL with a "did you mean" hint otherwise. */
int kv_check_key(const char *path, const struct kv *kv, const char *const *allowed, struct diag *d);
/* Split a value on blanks into words appended to out. */
struct strv;
void kv_split(const char *value, struct strv *out);

#endif
