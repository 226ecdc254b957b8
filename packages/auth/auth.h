/* Local users' passwords on the host, for every way in (the console's login, hostd's API, the
 * DCUI): the hash in /etc/shadow (written by hostcfg, docs/configuration.md) checked with
 * libxcrypt, and the lockout of an account after repeated failures, as ESXi does it
 * (Security.AccountLockFailures = 5, Security.AccountUnlockTime = 900 s): 5 failed checks in a
 * row lock the account for 900 s; a good password resets the count; a check while locked fails
 * without looking at the password. The counts live in /run/faillock/<user> (RAM: a reboot
 * clears them), each replaced atomically. Passwords are never stored, logged or returned. */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <time.h>

#define AUTH_LOCK_FAILURES 5
#define AUTH_UNLOCK_SECONDS 900

enum auth_result {
	AUTH_OK,          /* the password is the user's */
	AUTH_NO_PASSWORD, /* the user has none set (an empty hash): let in, and say to set one */
	AUTH_BAD,         /* wrong password, unknown user, or a locked ("!", "*") hash */
	AUTH_LOCKED,      /* too many failures: locked until a time */
	AUTH_ERROR,       /* /etc/shadow or the failure counts cannot be read or written */
};

struct auth_paths {
	const char *shadow;   /* default /etc/shadow */
	const char *faillock; /* default /run/faillock */
};

struct auth_status {
	int failures;         /* failures in a row, after this check */
	time_t locked_until;  /* 0 when not locked */
};

/* Check user's password at time now; *st says the count and the lock after it (may be NULL). */
enum auth_result auth_check(const struct auth_paths *p, const char *user, const char *password, time_t now,
			    struct auth_status *st);
/* Whether user is locked out at time now (an administrator's "!" hash aside). */
bool auth_locked(const struct auth_paths *p, const char *user, time_t now);
/* Clear user's failure count and lock (the administrator's unlock). 0 or -errno. */
int auth_unlock(const struct auth_paths *p, const char *user);
/* Whether user is a name auth_check() would look up: [a-z_][a-z0-9_-]{0,31}. */
bool auth_user_valid(const char *user);

#endif
