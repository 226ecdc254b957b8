/* The cache of verified passwords (packages/auth/cache.h): a remembered good password is taken
 * without a crypt check while /etc/shadow and the lockout file are unchanged; a new shadow, a
 * failure, a lock and the end of its time all send the next check to auth_check(); a wrong
 * password is never remembered. */
#include <crypt.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "tap.h"

static char dir[] = "/tmp/test-cache.XXXXXX";
static char shadow[300], faillock[300];
static struct auth_paths paths = {shadow, faillock};

/* shadow with root's hash of pw; the file replaced (a new inode), as hostcfg does. */
static void shadow_write(const char *pw)
{
	char salt[64], tmp[320];
	FILE *f;

	crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt));
	snprintf(tmp, sizeof(tmp), "%s.tmp", shadow);
	f = fopen(tmp, "w");
	fprintf(f, "root:%s:::::::\n", crypt(pw, salt));
	fclose(f);
	rename(tmp, shadow);
}

/* The hash overwritten in place with one of the same length, the file's times put back: the
 * file looks unchanged, so only a cache hit can still take the old password. */
static void shadow_swap_in_place(const char *pw)
{
	struct stat st;
	char salt[64], line[512];
	struct timespec t[2];
	int fd;

	stat(shadow, &st);
	t[0] = st.st_atim, t[1] = st.st_mtim;
	crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt));
	snprintf(line, sizeof(line), "root:%s:::::::\n", crypt(pw, salt));
	fd = open(shadow, O_WRONLY);
	if (fd < 0 || pwrite(fd, line, strlen(line), 0) != (ssize_t)strlen(line))
		exit(1);
	close(fd);
	utimensat(AT_FDCWD, shadow, t, 0);
}

int main(void)
{
	struct auth_cache c;
	struct auth_status st;

	if (!mkdtemp(dir))
		return 1;
	snprintf(shadow, sizeof(shadow), "%s/shadow", dir);
	snprintf(faillock, sizeof(faillock), "%s/faillock", dir);
	shadow_write("secret");
	ok(auth_cache_init(&c) == 0, "a key from the kernel");
	ok(auth_check_cached(&c, &paths, "root", "secret", 1000, &st) == AUTH_OK, "a good password: in (checked)");
	shadow_swap_in_place("other1");
	ok(auth_check_cached(&c, &paths, "root", "secret", 1001, &st) == AUTH_OK,
	   "again, the files unchanged: in from the cache (the hash on disk is another's now)");
	ok(auth_check_cached(&c, &paths, "root", "other1", 1001, &st) == AUTH_OK,
	   "the new password: checked by auth_check, in");
	ok(auth_check_cached(&c, &paths, "root", "Secret", 1002, &st) == AUTH_BAD && st.failures == 1,
	   "a wrong password: refused and counted, not taken from the cache");
	ok(auth_check_cached(&c, &paths, "root", "secret", 1003, &st) == AUTH_BAD,
	   "the remembered old password after a failure (the lock file changed): checked, refused");
	ok(auth_check_cached(&c, &paths, "root", "other1", 1004, &st) == AUTH_OK, "the right one: in");
	for (int i = 0; i < AUTH_LOCK_FAILURES; i++)
		auth_check_cached(&c, &paths, "root", "wrong", 1005, &st);
	ok(auth_check_cached(&c, &paths, "root", "other1", 1006, &st) == AUTH_LOCKED,
	   "locked after 5 failures: a remembered password is refused too");
	ok(auth_check_cached(&c, &paths, "root", "other1", 1006 + AUTH_UNLOCK_SECONDS, &st) == AUTH_OK,
	   "after the lock's time: in");
	shadow_write("third3");
	ok(auth_check_cached(&c, &paths, "root", "other1", 2000, &st) == AUTH_BAD,
	   "a new shadow file (password changed): the remembered one refused");
	ok(auth_check_cached(&c, &paths, "root", "third3", 2000, &st) == AUTH_OK, "the new one: in");
	shadow_swap_in_place("fourth");
	ok(auth_check_cached(&c, &paths, "root", "third3", 2000 + AUTH_CACHE_SECONDS, &st) == AUTH_BAD,
	   "after AUTH_CACHE_SECONDS the entry is gone: checked against the file");
	auth_cache_clear(&c);
	ok(auth_check_cached(&c, &paths, "root", "fourth", 3000, &st) == AUTH_OK, "cleared: checked, in");
	ok(auth_check_cached(&c, &paths, "Root;", "x", 3000, &st) == AUTH_BAD, "an invalid name: refused");
	{
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
