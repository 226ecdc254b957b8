/* The cache of verified passwords (cache.h). */
#define _GNU_SOURCE
#include "cache.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#define FAILLOCK_DEFAULT "/run/faillock"
#define SHADOW_DEFAULT "/etc/shadow"

int auth_cache_init(struct auth_cache *c)
{
	memset(c, 0, sizeof(*c));
	return getrandom(c->key, sizeof(c->key), 0) == (ssize_t)sizeof(c->key) ? 0 : -1;
}

void auth_cache_clear(struct auth_cache *c)
{
	explicit_bzero(c->slot, sizeof(c->slot));
	c->next = 0;
}

static void file_id(const char *path, struct auth_file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) < 0)
		return;
	*id = (struct auth_file_id){true, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

static bool same_file(const struct auth_file_id *a, const struct auth_file_id *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* HMAC-SHA256(key, user NUL password); -1 when OpenSSL fails. */
static int mac_of(const struct auth_cache *c, const char *user, const char *password, unsigned char mac[32])
{
	size_t nu = strlen(user), np = strlen(password);
	unsigned char *msg = malloc(nu + 1 + np);
	unsigned int len = 0;
	int r;

	if (!msg)
		return -1;
	memcpy(msg, user, nu + 1);
	memcpy(msg + nu + 1, password, np);
	r = HMAC(EVP_sha256(), c->key, sizeof(c->key), msg, nu + 1 + np, mac, &len) && len == 32 ? 0 : -1;
	explicit_bzero(msg, nu + 1 + np);
	free(msg);
	return r;
}

/* The files an entry depends on, as they are now. */
static void files_now(const struct auth_paths *p, const char *user, struct auth_file_id *shadow,
		      struct auth_file_id *lock)
{
	char path[4096];

	file_id(p->shadow ? p->shadow : SHADOW_DEFAULT, shadow);
	snprintf(path, sizeof(path), "%s/%s", p->faillock ? p->faillock : FAILLOCK_DEFAULT, user);
	file_id(path, lock);
}

static struct auth_cache_slot *find(struct auth_cache *c, const char *user, const unsigned char mac[32], time_t now)
{
	for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++) {
		struct auth_cache_slot *s = &c->slot[i];
		if (s->expires > now && strcmp(s->user, user) == 0 && CRYPTO_memcmp(s->mac, mac, 32) == 0)
			return s;
	}
	return NULL;
}

static void remember(struct auth_cache *c, const char *user, const unsigned char mac[32], time_t now,
		     const struct auth_file_id *shadow, const struct auth_file_id *lock)
{
	struct auth_cache_slot *s = NULL;

	for (size_t i = 0; i < AUTH_CACHE_SLOTS && !s; i++)
		if (c->slot[i].expires <= now || strcmp(c->slot[i].user, user) == 0)
			s = &c->slot[i];
	if (!s) {
		s = &c->slot[c->next];
		c->next = (c->next + 1) % AUTH_CACHE_SLOTS;
	}
	memcpy(s->mac, mac, 32);
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->expires = now + AUTH_CACHE_SECONDS;
	s->shadow = *shadow;
	s->lock = *lock;
}

enum auth_result auth_check_cached(struct auth_cache *c, const struct auth_paths *p, const char *user,
				   const char *password, time_t now, struct auth_status *st)
{
	unsigned char mac[32];
	struct auth_file_id shadow, lock;
	struct auth_cache_slot *s;
	enum auth_result r;

	if (!auth_user_valid(user) || mac_of(c, user, password, mac) < 0)
		return auth_check(p, user, password, now, st);
	files_now(p, user, &shadow, &lock);
	s = find(c, user, mac, now);
	if (s && same_file(&s->shadow, &shadow) && same_file(&s->lock, &lock)) {
		if (st)
			*st = (struct auth_status){0};
		return AUTH_OK;
	}
	if (s)
		explicit_bzero(s, sizeof(*s));
	r = auth_check(p, user, password, now, st);
	if (r == AUTH_OK) {
		files_now(p, user, &shadow, &lock); /* the check may have rewritten the count */
		remember(c, user, mac, now, &shadow, &lock);
	}
	explicit_bzero(mac, sizeof(mac));
	return r;
}
