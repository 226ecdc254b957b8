/* builder/drivers.c: a driver family's modules, dependencies and firmware go where the profile
 * puts them (the initramfs, or the system payload with the initramfs as its base), each once, with
 * the tables init reads. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers.h"
#include "tap.h"

#define KVER "6.1.0-test"

static const char dep[] =
	"kernel/drivers/virtio/virtio.ko:\n"
	"kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko\n"
	"kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
	"kernel/drivers/net/virtio_net.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n";
static const char alias[] = "alias virtio:d00000002v* virtio_blk\nalias virtio:d00000001v* virtio_net\n";

static void put(const char *dir, const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", dir, rel), *parent = xstrdup(path);

	*strrchr(parent, '/') = '\0';
	util_mkdir_p(parent, 0755);
	util_write_file_atomic(path, text, strlen(text), 0644);
	free(parent);
	free(path);
}

static int exists(const char *dir, const char *rel)
{
	char *path = xasprintf("%s/%s", dir, rel);
	int r = access(path, F_OK) == 0;

	free(path);
	return r;
}

static char *slurp(const char *dir, const char *rel)
{
	char *path = xasprintf("%s/%s", dir, rel), *text = NULL;
	size_t len;

	if (util_read_file(path, &text, &len) < 0)
		text = xstrdup("");
	free(path);
	return text;
}

/* A kernel package's lib/modules/<kver> with four modules of 10, 20, 30 and 40 bytes. */
static void make_kernel(const char *kdir)
{
	put(kdir, "modules.dep", dep);
	put(kdir, "modules.alias", alias);
	put(kdir, "modules.builtin", "");
	put(kdir, "kernel/drivers/virtio/virtio.ko", "0123456789");
	put(kdir, "kernel/drivers/virtio/virtio_ring.ko", "01234567890123456789");
	put(kdir, "kernel/drivers/block/virtio_blk.ko", "012345678901234567890123456789");
	put(kdir, "kernel/drivers/net/virtio_net.ko", "0123456789012345678901234567890123456789");
}

static void family(struct recipe *r, struct driver_family *f, const char *pkg, const char *module, const char *fw)
{
	static int lines[2] = {3, 4};

	memset(r, 0, sizeof(*r));
	r->path = "recipes/x/x.recipe";
	strv_push(&r->modules, module);
	r->module_lines = lines;
	if (fw) {
		strv_push(&r->firmware, fw);
		strv_push(&r->firmware, "missing.bin");
		r->firmware_lines = lines;
	}
	*f = (struct driver_family){.r = r, .pkg = pkg};
}

static void test_drivers_split_between_initramfs_and_payload(void)
{
	char *top = mkdtemp(xstrdup("/tmp/test-drivers.XXXXXX"));
	char *kdir = xasprintf("%s/k/lib/modules/" KVER, top), *pkg = xasprintf("%s/pkg", top);
	char *initramfs = xasprintf("%s/initramfs", top), *system = xasprintf("%s/system", top);
	struct recipe early_r, late_r;
	struct driver_family early, late;
	struct diag d = {{0}, 0};
	int r;

	make_kernel(kdir);
	put(pkg, "lib/firmware/net.bin", "firmware");
	family(&early_r, &early, pkg, "virtio_blk", NULL);
	family(&late_r, &late, pkg, "virtio_net", "net.bin");
	r = drivers_add(kdir, KVER, initramfs, NULL, &early, 1, &d);
	ok(r == 0, "drivers: the initramfs's family is added (%s)", d.msg);
	ok(exists(initramfs, "lib/modules/" KVER "/kernel/drivers/block/virtio_blk.ko") &&
	   exists(initramfs, "lib/modules/" KVER "/kernel/drivers/virtio/virtio.ko") && early.nmodules == 3 &&
	   early.bytes == 60, "drivers: its module and both dependencies in the initramfs (%zu files, %lld bytes)",
	   early.nmodules, early.bytes);
	r = drivers_add(kdir, KVER, system, initramfs, &late, 1, &d);
	ok(r == 0, "drivers: the payload's family is added (%s)", d.msg);
	ok(exists(system, "lib/modules/" KVER "/kernel/drivers/net/virtio_net.ko") &&
	   !exists(system, "lib/modules/" KVER "/kernel/drivers/virtio/virtio.ko") &&
	   !exists(system, "lib/modules/" KVER "/kernel/drivers/virtio/virtio_ring.ko"),
	   "drivers: the payload gets its module, not the dependencies the initramfs has");
	ok(late.nmodules == 1 && late.bytes == 40 + 8, "drivers: its share is its module and firmware (%lld bytes)",
	   late.bytes);
	ok(exists(system, "lib/firmware/net.bin") && !exists(initramfs, "lib/firmware/net.bin"),
	   "drivers: its firmware goes into the payload's /lib/firmware");
	ok(late.missing.n == 1 && strcmp(late.missing.v[0], "missing.bin") == 0,
	   "drivers: a firmware file its package lacks is listed as missing");

	char *ialias = slurp(initramfs, "etc/modules.alias"), *salias = slurp(system, "etc/modules.alias");
	char *sdep = slurp(system, "etc/modules.dep");
	ok(strcmp(ialias, "alias virtio:d00000002v* virtio_blk\n") == 0 &&
	   strcmp(salias, "alias virtio:d00000001v* virtio_net\n") == 0,
	   "drivers: each place's modules.alias has its own families' aliases");
	ok(strstr(sdep, "kernel/drivers/net/virtio_net.ko: kernel/drivers/virtio/virtio_ring.ko "
			"kernel/drivers/virtio/virtio.ko\n") && strstr(sdep, "kernel/drivers/virtio/virtio.ko:\n"),
	   "drivers: the payload's modules.dep names every module its families need, wherever it lies");
	free(ialias), free(salias), free(sdep);

	drivers_free(&early, 1);
	drivers_free(&late, 1);
	strv_free(&early_r.modules);
	strv_free(&late_r.modules);
	strv_free(&late_r.firmware);
	util_rm_rf(top);
	free(top), free(kdir), free(pkg), free(initramfs), free(system);
}

static void test_drivers_names_an_unknown_module(void)
{
	char *top = mkdtemp(xstrdup("/tmp/test-drivers.XXXXXX"));
	char *kdir = xasprintf("%s/k", top), *root = xasprintf("%s/root", top);
	struct recipe rr;
	struct driver_family f;
	struct diag d = {{0}, 0};
	int r;

	make_kernel(kdir);
	family(&rr, &f, top, "virtio_nett", NULL);
	r = drivers_add(kdir, KVER, root, NULL, &f, 1, &d);
	ok(r < 0 && strstr(d.msg, "virtio_nett"), "drivers: an unknown module is an error naming it (%s)", d.msg);
	ok(!exists(root, "etc/modules.alias"), "drivers: and no table is written");
	drivers_free(&f, 1);
	strv_free(&rr.modules);
	util_rm_rf(top);
	free(top), free(kdir), free(root);
}

int main(void)
{
	test_drivers_split_between_initramfs_and_payload();
	test_drivers_names_an_unknown_module();
	return tap_done();
}
