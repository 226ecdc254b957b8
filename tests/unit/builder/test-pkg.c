#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "hash.h"
#include "initramfs.h"
#include "pkg.h"
#include "run.h"
#include "tap.h"

static char *make_tree(void)
{
	char *dir = mkdtemp(xstrdup("/tmp/test-pkg.XXXXXX")), *p;

	p = xasprintf("%s/root/bin", dir);
	util_mkdir_p(p, 0755);
	free(p);
	p = xasprintf("%s/root/bin/tool", dir);
	util_write_file_atomic(p, "#!/bin/sh\necho hi\n", 18, 0755);
	chmod(p, 0755);
	free(p);
	p = xasprintf("%s/root/bin/alias", dir);
	if (symlink("tool", p) < 0)
		p[0] = '\0';
	free(p);
	return dir;
}

static int same_files(const char *a, const char *b)
{
	char *argv[] = {"diff", "-r", "--no-dereference", (char *)a, (char *)b, NULL};

	return run_argv(argv, NULL, NULL, NULL, NULL) == 0;
}

static void test_pkg_lists_every_file_with_mode_and_sha256(void)
{
	char *dir = make_tree(), *root = xasprintf("%s/root", dir), *pkg = xasprintf("%s/p.pkg.tar.zst", dir);
	char *info = NULL, hex[HASH_HEX_LEN], *want;
	struct diag d = {{0}, 0};

	hash_buf("#!/bin/sh\necho hi\n", 18, hex);
	want = xasprintf("f 0755 %s /bin/tool\n", hex);
	ok(pkg_create(root, "tool", "1.0", "abc", pkg, &d) == 0, "pkg: package created (%s)", d.msg);
	ok(pkg_read_info(pkg, &info, &d) == 0 && strstr(info, "name = tool\nversion = 1.0\nkey = abc\n"),
	   "pkg: .PKGINFO names the package");
	ok(info && strstr(info, want), "pkg: .PKGINFO lists the file with its mode and sha256");
	ok(info && strstr(info, "l 0777 tool /bin/alias\n") && strstr(info, "d 0755 - /bin\n"),
	   "pkg: .PKGINFO lists the folder and the symlink");
	free(info);
	free(want);
	util_rm_rf(dir);
	free(dir), free(root), free(pkg);
}

static void test_pkg_round_trips_and_is_reproducible(void)
{
	char *dir = make_tree(), *root = xasprintf("%s/root", dir);
	char *p1 = xasprintf("%s/1.pkg", dir), *p2 = xasprintf("%s/2.pkg", dir), *out = xasprintf("%s/out", dir);
	char h1[HASH_HEX_LEN], h2[HASH_HEX_LEN];
	struct diag d = {{0}, 0};

	pkg_create(root, "t", "1", "k", p1, &d);
	sleep(1);
	utimes(root, NULL);
	pkg_create(root, "t", "1", "k", p2, &d);
	hash_file(p1, h1);
	hash_file(p2, h2);
	ok(strcmp(h1, h2) == 0, "pkg: the same tree gives a bit-identical package a second later");
	ok(pkg_extract(p1, out, &d) == 0 && same_files(root, out), "pkg: unpacking gives the same tree (%s)", d.msg);
	util_rm_rf(dir);
	free(dir), free(root), free(p1), free(p2), free(out);
}

static void test_pkg_refuses_a_corrupt_package(void)
{
	char *dir = make_tree(), *bad = xasprintf("%s/bad.pkg", dir), *out = xasprintf("%s/out", dir);
	struct diag d = {{0}, 0};

	util_write_file_atomic(bad, "not a package", 13, 0644);
	ok(pkg_extract(bad, out, &d) < 0 && strstr(d.msg, "delete it to rebuild"), "pkg: a corrupt package is refused (%s)",
	   d.msg);
	util_rm_rf(dir);
	free(dir), free(bad), free(out);
}

static void test_initramfs_is_a_reproducible_newc_cpio(void)
{
	char *dir = make_tree(), *root = xasprintf("%s/root", dir);
	char *a = xasprintf("%s/a.cpio.zst", dir), *b = xasprintf("%s/b.cpio.zst", dir);
	char *cmd = xasprintf("zstd -dc %s | cpio -t --quiet 2>/dev/null | tr '\\n' ' '", a);
	char ha[HASH_HEX_LEN], hb[HASH_HEX_LEN];
	struct diag d = {{0}, 0};
	struct buf list = {0};
	char *argv[] = {"sh", "-c", cmd, NULL};

	ok(initramfs_write(root, a, 1700000000, &d) == 0, "initramfs: written (%s)", d.msg);
	utimes(root, NULL);
	initramfs_write(root, b, 1700000000, &d);
	hash_file(a, ha);
	hash_file(b, hb);
	ok(strcmp(ha, hb) == 0, "initramfs: the same tree and epoch give the same bytes");
	run_argv(argv, NULL, NULL, NULL, &list);
	ok(list.data && strcmp(list.data, "bin bin/alias bin/tool ") == 0, "initramfs: cpio lists the files in order (%s)",
	   list.data ? list.data : "");
	buf_free(&list);
	util_rm_rf(dir);
	free(dir), free(root), free(a), free(b), free(cmd);
}

int main(void)
{
	test_pkg_lists_every_file_with_mode_and_sha256();
	test_pkg_round_trips_and_is_reproducible();
	test_pkg_refuses_a_corrupt_package();
	test_initramfs_is_a_reproducible_newc_cpio();
	return tap_done();
}
