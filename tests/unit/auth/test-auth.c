/* Passwords and the lockout (packages/auth/auth.h): a sha512-crypt hash checks, a wrong password
 * counts, 5 in a row lock the account for 900 s whatever is typed, the lock runs out, a good
 * password resets the count, and names that are not users leave no count behind. */
#include <crypt.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "tap.h"

static char dir[] = "/tmp/test-auth.XXXXXX";
static char shadow[300], faillock[300];
static struct auth_paths paths = {shadow, faillock};

static void setup(void)
{
	char salt[64];
	FILE *f;

	if (!mkdtemp(dir))
		exit(1);
	snprintf(shadow, sizeof(shadow), "%s/shadow", dir);
	snprintf(faillock, sizeof(faillock), "%s/faillock", dir);
	crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt));
	f = fopen(shadow, "w");
	fprintf(f, "root:%s:::::::\nops::::::::\nlocked:!:::::::\n", crypt("secret", salt));
	fclose(f);
}

static int entries(void)
{
	DIR *d = opendir(faillock);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.' && !strstr(e->d_name, ".tmp");
	if (d)
		closedir(d);
	return n;
}

static void test_passwords(void)
{
	struct auth_status st;

	ok(auth_check(&paths, "root", "secret", 1000, &st) == AUTH_OK && st.failures == 0, "the right password: in");
	ok(auth_check(&paths, "root", "Secret", 1000, &st) == AUTH_BAD && st.failures == 1,
	   "a wrong one: refused, one failure counted");
	ok(auth_check(&paths, "root", "secret", 1001, &st) == AUTH_OK && st.failures == 0,
	   "the right one after a failure: in, the count reset");
	ok(auth_check(&paths, "ops", "", 1000, &st) == AUTH_NO_PASSWORD, "no password set: in, and it says so");
	ok(auth_check(&paths, "ops", "x", 1000, &st) == AUTH_BAD, "no password set, something typed: refused");
	ok(auth_check(&paths, "locked", "", 1000, &st) == AUTH_BAD, "a locked hash ('!'): refused, even empty");
	char nobody[400];
	snprintf(nobody, sizeof(nobody), "%s/nobody", faillock);
	ok(auth_check(&paths, "nobody", "secret", 1000, &st) == AUTH_BAD && access(nobody, F_OK) != 0 && entries() == 3,
	   "a name that is no user: refused, and no count file for it (%d files: root, ops, locked)", entries());
	ok(auth_check(&paths, "Root", "secret", 1000, &st) == AUTH_BAD && auth_check(&paths, "../x", "", 1000, &st) ==
	   AUTH_BAD, "names outside [a-z_][a-z0-9_-]* are refused before any file is touched");
}

static void test_lockout(void)
{
	struct auth_status st = {0};
	enum auth_result r = AUTH_OK;

	for (int i = 0; i < AUTH_LOCK_FAILURES; i++)
		r = auth_check(&paths, "root", "guess", 2000 + i, &st);
	ok(r == AUTH_BAD && st.failures == AUTH_LOCK_FAILURES && st.locked_until == 2004 + AUTH_UNLOCK_SECONDS,
	   "the 5th failure in a row locks the account for 900 s (until %lld)", (long long)st.locked_until);
	ok(auth_check(&paths, "root", "secret", 2100, &st) == AUTH_LOCKED,
	   "locked: even the right password is refused");
	ok(auth_check(&paths, "root", "secret", 2004 + AUTH_UNLOCK_SECONDS, &st) == AUTH_OK && st.failures == 0,
	   "once the 900 s are over: the right password lets in again");
	for (int i = 0; i < AUTH_LOCK_FAILURES; i++)
		auth_check(&paths, "root", "guess", 5000, &st);
	ok(auth_check(&paths, "root", "guess", 5000 + AUTH_UNLOCK_SECONDS, &st) == AUTH_BAD && st.failures == 1 &&
	   !st.locked_until, "a failure after a lock ran out starts a fresh count, not a new lock");
}

int main(void)
{
	setup();
	test_passwords();
	test_lockout();
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
