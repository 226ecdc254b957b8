/* SHA-256 of buffers, files and trees (OpenSSL), with a stat-keyed cache so that a no-op build
 * does not re-read large inputs. */
#ifndef HASH_H
#define HASH_H

#include <stddef.h>

#define HASH_HEX_LEN 65 /* 64 hex digits and a NUL */

struct hasher {
	void *md; /* EVP_MD_CTX */
	int err;  /* the first error (-ENOMEM, -EIO), kept until hasher_end() */
};

/* 0, or -ENOMEM / -EIO when OpenSSL cannot set up SHA-256. A failed hasher takes hasher_add()
 * calls and ignores them, and hasher_end() returns the error: checking hasher_end() is enough. */
int hasher_init(struct hasher *h);
void hasher_add(struct hasher *h, const void *p, size_t n);
/* dst, a new hasher that goes on from where src is (src is unchanged); released by hasher_end()
 * as any other. 0, or -ENOMEM / -EIO (kept in dst, as hasher_init's). */
int hasher_copy(struct hasher *dst, const struct hasher *src);
/* Add a string and its terminating NUL, so that "ab","c" and "a","bc" differ. */
void hasher_add_str(struct hasher *h, const char *s);
/* Finish into out (hex) and release the context. 0, or the hasher's error with out "". */
int hasher_end(struct hasher *h, char out[HASH_HEX_LEN]);

/* SHA-256 of a buffer, hex. 0, or -ENOMEM / -EIO with out "". */
int hash_buf(const void *p, size_t n, char out[HASH_HEX_LEN]);
/* SHA-256 of a file's bytes, hex; served from the cache when its size, mtime and inode match. 0 or -errno. */
int hash_file(const char *path, char out[HASH_HEX_LEN]);
/* A hash of a file or a folder tree: names, types, modes, link targets and contents. 0 or -errno. */
int hash_tree(const char *path, char out[HASH_HEX_LEN]);

/* Use the cache file at path (created if missing) for hash_file(). */
void hash_cache_open(const char *path);
/* Save the cache if it changed, and forget it. 0, or -errno when it could not be saved (the cache
 * is only an optimisation: the program may say so and go on). */
int hash_cache_close(void);

#endif
