/* Sources: Debian packages fetched with apt into the download cache and checked against the
 * sha256 in apt's metadata; tarballs checked against the recipe's sha256; repository files. */
#ifndef FETCH_H
#define FETCH_H

#include "hash.h"
#include "recipe.h"

/*
 * Make source s of recipe r available, fetching into dl_dir when needed, and verify it.
 * *ret_path (owned by the caller) is where it is; ret_hex its content hash.
 * Errors name the recipe line: -EINVAL with d filled.
 */
int fetch_source(const struct recipe *r, const struct source *s, const char *dl_dir,
		 char **ret_path, char ret_hex[HASH_HEX_LEN], struct diag *d);

/* Parse apt-cache show output for the SHA256 field. 0 and ret_hex filled, or -ENOENT. */
int fetch_parse_apt_sha256(const char *text, char ret_hex[HASH_HEX_LEN]);

#endif
