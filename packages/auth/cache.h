/* A cache of recently verified passwords, for a server that checks HTTP Basic credentials on
 * every request (hostd): a sha512-crypt check costs milliseconds, which would bound the API to
 * a few hundred requests a second. A good check is remembered as an HMAC-SHA256 of the user and
 * password under a key drawn at start (the password itself is never kept), for AUTH_CACHE_SECONDS.
 * An entry is used only while /etc/shadow and the user's lockout file are the very files they
 * were when it was made (device, inode, size, modification time): a password change, a user
 * removed, a failed check from anywhere (the console, another client) or an unlock all drop it.
 * Anything not in the cache goes to auth_check(), lockout included. */
#ifndef AUTH_CACHE_H
#define AUTH_CACHE_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "auth.h"

#define AUTH_CACHE_SLOTS 32
#define AUTH_CACHE_SECONDS 60

/* What a file was: a missing file is all zero but exists = false. */
struct auth_file_id {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct auth_cache_slot {
	unsigned char mac[32];
	char user[33];
	time_t expires; /* 0: empty */
	struct auth_file_id shadow, lock;
};

struct auth_cache {
	unsigned char key[32];
	struct auth_cache_slot slot[AUTH_CACHE_SLOTS];
	unsigned next; /* the slot replaced next when none is free */
};

/* A new key from the kernel's random source; 0, or -1 (errno) when there is none. */
int auth_cache_init(struct auth_cache *c);
/* auth_check() through the cache: AUTH_OK at once for a remembered good password whose files are
 * unchanged; otherwise auth_check(), remembering an AUTH_OK. st is zero on a hit. */
enum auth_result auth_check_cached(struct auth_cache *c, const struct auth_paths *p, const char *user,
				   const char *password, time_t now, struct auth_status *st);
/* Forget every entry (the key stays). */
void auth_cache_clear(struct auth_cache *c);

#endif
