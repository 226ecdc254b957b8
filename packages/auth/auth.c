#define _GNU_SOURCE
#include "auth.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHADOW_DEFAULT "/etc/shadow"
#define FAILLOCK_DEFAULT "/run/faillock"

bool auth_user_valid(const char *user)
{
	size_t n = strlen(user);

	if (n == 0 || n > 32 || !((user[0] >= 'a' && user[0] <= 'z') || user[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((user[i] >= 'a' && user[i] <= 'z') || (user[i] >= '0' && user[i] <= '9') || user[i] == '_' ||
		      user[i] == '-'))
			return false;
	return true;
}

/* The hash field of user's line in the shadow file, into hash (size bytes). 1 found, 0 not, -1 error. */
static int shadow_hash(const char *path, const char *user, char *hash, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	size_t n = strlen(user);
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon;
		if (strncmp(line, user, n) != 0 || line[n] != ':')
			continue;
		colon = strchr(line + n + 1, ':');
		if (colon)
			*colon = '\0';
		snprintf(hash, size, "%s", line + n + 1);
		found = 1;
	}
	fclose(f);
	return found;
}

/* The counts file: "FAILURES LOCKED_UNTIL\n". Missing: none. */
static void counts_read(const char *path, struct auth_status *st)
{
	FILE *f = fopen(path, "re");
	long long until = 0;

	*st = (struct auth_status){0};
	if (f && fscanf(f, "%d %lld", &st->failures, &until) == 2 && st->failures >= 0)
		st->locked_until = (time_t)until;
	else
		*st = (struct auth_status){0};
	if (f)
		fclose(f);
}

static int counts_write(const char *dir, const char *path, const struct auth_status *st)
{
	char *tmp = NULL;
	FILE *f;
	int r = -1;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -1;
	f = fopen(tmp, "we");
	if (f) {
		fprintf(f, "%d %lld\n", st->failures, (long long)st->locked_until);
		r = fclose(f) == 0 && rename(tmp, path) == 0 ? 0 : -1;
	}
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

/* Constant-time comparison of two NUL-terminated strings of which a is secret-derived. */
static bool same(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char d = na != nb;

	for (size_t i = 0; i < na && i < nb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static enum auth_result verify(const char *hash, const char *password)
{
	struct crypt_data *cd;
	enum auth_result r = AUTH_BAD;
	const char *out;

	if (hash[0] == '\0')
		return password[0] == '\0' ? AUTH_NO_PASSWORD : AUTH_BAD;
	if (hash[0] == '!' || hash[0] == '*')
		return AUTH_BAD; /* locked by the administrator, or no login */
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return AUTH_ERROR;
	out = crypt_r(password, hash, cd);
	if (out && out[0] != '*' && same(out, hash))
		r = AUTH_OK;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

enum auth_result auth_check(const struct auth_paths *p, const char *user, const char *password, time_t now,
			    struct auth_status *ret)
{
	const char *dir = p && p->faillock ? p->faillock : FAILLOCK_DEFAULT;
	char hash[512] = "", *counts = NULL;
	struct auth_status st;
	enum auth_result r;
	int found;

	if (!auth_user_valid(user))
		return AUTH_BAD;
	if (asprintf(&counts, "%s/%s", dir, user) < 0)
		return AUTH_ERROR;
	counts_read(counts, &st);
	if (st.locked_until && st.locked_until <= now)
		st = (struct auth_status){0}; /* the lock has run out: a fresh count */
	if (st.locked_until > now) {
		r = AUTH_LOCKED;
	} else {
		found = shadow_hash(p && p->shadow ? p->shadow : SHADOW_DEFAULT, user, hash, sizeof(hash));
		r = found < 0 ? AUTH_ERROR : found == 0 ? AUTH_BAD : verify(hash, password);
		explicit_bzero(hash, sizeof(hash));
		if (found == 0) {
			free(counts); /* no count for names that are not users: nothing to fill /run with */
			if (ret)
				*ret = (struct auth_status){0};
			return AUTH_BAD;
		}
		if (r == AUTH_OK || r == AUTH_NO_PASSWORD)
			st = (struct auth_status){0};
		else if (r == AUTH_BAD && ++st.failures >= AUTH_LOCK_FAILURES)
			st.locked_until = now + AUTH_UNLOCK_SECONDS;
		else if (r == AUTH_BAD)
			st.locked_until = 0;
		if (r != AUTH_ERROR && counts_write(dir, counts, &st) < 0)
			r = AUTH_ERROR;
	}
	free(counts);
	if (ret)
		*ret = st;
	return r;
}

bool auth_locked(const struct auth_paths *p, const char *user, time_t now)
{
	const char *dir = p && p->faillock ? p->faillock : FAILLOCK_DEFAULT;
	char *counts = NULL;
	struct auth_status st;

	if (!auth_user_valid(user) || asprintf(&counts, "%s/%s", dir, user) < 0)
		return false;
	counts_read(counts, &st);
	free(counts);
	return st.locked_until > now;
}

int auth_unlock(const struct auth_paths *p, const char *user)
{
	const char *dir = p && p->faillock ? p->faillock : FAILLOCK_DEFAULT;
	char *counts = NULL;
	int r;

	if (!auth_user_valid(user))
		return -EINVAL;
	if (asprintf(&counts, "%s/%s", dir, user) < 0)
		return -ENOMEM;
	r = unlink(counts) == 0 || errno == ENOENT ? 0 : -errno;
	free(counts);
	return r;
}
