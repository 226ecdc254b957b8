#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"
#include "hash.h"
#include "tap.h"

static char *tmpdir(void)
{
	char *t = xstrdup("/tmp/test-hash.XXXXXX");

	return mkdtemp(t);
}

static void put(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);

	util_write_file_atomic(p, text, strlen(text), 0644);
	free(p);
}

static void test_hash_matches_sha256_test_vector(void)
{
	char hex[HASH_HEX_LEN];

	hash_buf("abc", 3, hex);
	ok(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	   "hash: sha256(\"abc\") is the FIPS 180-2 vector");
}

/* A copy goes on from where its source was; the two end independently. */
static void test_hasher_copy_goes_on_alone(void)
{
	struct hasher a, b;
	char abc[HASH_HEX_LEN], abd[HASH_HEX_LEN], want[HASH_HEX_LEN];

	hasher_init(&a);
	hasher_add(&a, "ab", 2);
	ok(hasher_copy(&b, &a) == 0, "hasher_copy: succeeds");
	hasher_add(&b, "c", 1);
	hasher_add(&a, "d", 1);
	ok(hasher_end(&b, abc) == 0 && strcmp(abc, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	   "hasher_copy: the copy of \"ab\" given \"c\" ends as sha256(\"abc\")");
	hash_buf("abd", 3, want);
	ok(hasher_end(&a, abd) == 0 && strcmp(abd, want) == 0, "hasher_copy: the source, given \"d\", ends as sha256(\"abd\")");
}

static void test_hash_tree_changes_when_content_or_mode_changes(void)
{
	char *dir = tmpdir(), a[HASH_HEX_LEN], b[HASH_HEX_LEN], c[HASH_HEX_LEN], e[HASH_HEX_LEN];
	char *f = xasprintf("%s/x", dir);

	put(dir, "x", "one");
	hash_tree(dir, a);
	hash_tree(dir, b);
	ok(strcmp(a, b) == 0, "hash: the same tree hashes the same");
	chmod(f, 0755);
	hash_tree(dir, c);
	ok(strcmp(a, c) != 0, "hash: a mode change changes the tree hash");
	put(dir, "x", "two");
	chmod(f, 0644);
	hash_tree(dir, e);
	ok(strcmp(a, e) != 0, "hash: a content change changes the tree hash");
	util_rm_rf(dir);
	free(f);
	free(dir);
}

static void test_hash_cache_is_used_and_invalidated(void)
{
	char *dir = tmpdir(), *cache = xasprintf("%s/cache", dir), *f = xasprintf("%s/f", dir), *text = NULL;
	char a[HASH_HEX_LEN], b[HASH_HEX_LEN];

	put(dir, "f", "data");
	hash_cache_open(cache);
	hash_file(f, a);
	hash_cache_close();
	ok(util_read_file(cache, &text, NULL) == 0 && strstr(text, a), "hash: the cache file records the hash");
	free(text);
	put(dir, "f", "other data");
	hash_cache_open(cache);
	hash_file(f, b);
	hash_cache_close();
	ok(strcmp(a, b) != 0, "hash: a changed file is hashed again, not served stale");
	util_rm_rf(dir);
	free(cache);
	free(f);
	free(dir);
}

static void test_fetch_reads_sha256_from_apt_metadata(void)
{
	char hex[HASH_HEX_LEN];
	const char *good = "Package: x\nSHA256: 7b5597492a0a65aee61985a492e6bcc3f2cde830072a0e3b3d8c7e1b90279bd3\nSize: 1\n";

	ok(fetch_parse_apt_sha256(good, hex) == 0 && strncmp(hex, "7b5597", 6) == 0, "fetch: SHA256 field read");
	ok(fetch_parse_apt_sha256("Package: x\nMD5sum: 00\n", hex) < 0, "fetch: no SHA256 field is an error");
	ok(fetch_parse_apt_sha256("SHA256: 12ab\n", hex) < 0, "fetch: a short SHA256 is refused");
	ok(fetch_parse_apt_sha256("XSHA256: 7b5597492a0a65aee61985a492e6bcc3f2cde830072a0e3b3d8c7e1b90279bd3\n", hex) < 0,
	   "fetch: the field must start the line");
}

int main(void)
{
	test_hash_matches_sha256_test_vector();
	test_hasher_copy_goes_on_alone();
	test_hash_tree_changes_when_content_or_mode_changes();
	test_hash_cache_is_used_and_invalidated();
	test_fetch_reads_sha256_from_apt_metadata();
	return tap_done();
}
