#include <string.h>

#include "kmod.h"
#include "tap.h"

static const char dep[] =
	"kernel/fs/squashfs/squashfs.ko:\n"
	"kernel/drivers/block/loop.ko:\n"
	"kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
	"kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko\n"
	"kernel/drivers/virtio/virtio.ko:\n"
	"kernel/net/sched/sch-fq.ko:\n";

static void resolve(const char *names, struct strv *out, struct diag *d, int *ret)
{
	struct kmod_db db = {0};
	struct strv want = {0};
	int lines[8] = {3, 3, 3, 3, 3, 3, 3, 3};

	kv_split(names, &want);
	*ret = kmod_parse_dep(&db, "modules.dep", dep, sizeof(dep) - 1, d);
	strv_push(&db.builtin, "crc32c_intel");
	if (*ret == 0)
		*ret = kmod_resolve(&db, &want, lines, "p.image", out, d);
	strv_free(&want);
	kmod_free(&db);
}

static void test_kmod_loads_dependencies_first(void)
{
	struct strv out = {0};
	struct diag d = {{0}, 0};
	int e;

	resolve("virtio_blk loop virtio", &out, &d, &e);
	ok(e == 0 && out.n == 4, "kmod: three wanted modules and one dependency (%s)", d.msg);
	ok(out.n == 4 && strcmp(out.v[0], "kernel/drivers/virtio/virtio.ko") == 0 &&
	   strcmp(out.v[1], "kernel/drivers/virtio/virtio_ring.ko") == 0 &&
	   strcmp(out.v[2], "kernel/drivers/block/virtio_blk.ko") == 0, "kmod: dependencies come first, each once");
	strv_free(&out);
}

static void test_kmod_folds_dashes_and_skips_builtins(void)
{
	struct strv out = {0};
	struct diag d = {{0}, 0};
	int e;

	resolve("sch_fq crc32c-intel", &out, &d, &e);
	ok(e == 0 && out.n == 1 && strstr(out.v[0], "sch-fq.ko"), "kmod: '-' and '_' are the same; built-ins skipped");
	strv_free(&out);
}

static void test_kmod_names_an_unknown_module(void)
{
	struct strv out = {0};
	struct diag d = {{0}, 0};
	int e;

	resolve("squashf", &out, &d, &e);
	ok(e < 0 && strstr(d.msg, "p.image:3: unknown kernel module 'squashf'; did you mean 'squashfs'?"),
	   "kmod: unknown module named at the profile line with a hint (%s)", d.msg);
	strv_free(&out);
}

static void test_kmod_reads_aliases(void)
{
	static const char alias[] = "# Aliases extracted from modules themselves.\n"
				    "alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000\nalias virtio:d00000002v* virtio-blk\n";
	struct kmod_db db = {0};
	struct diag d = {{0}, 0};
	int e = kmod_parse_alias(&db, "modules.alias", alias, sizeof(alias) - 1, &d);

	ok(e == 0 && db.alias_pattern.n == 2 && strcmp(db.alias_module.v[1], "virtio_blk") == 0 &&
	   strcmp(db.alias_pattern.v[0], "pci:v00008086d0000100Esv*sd*bc*sc*i*") == 0,
	   "kmod: modules.alias lines, the module name with '_' (%s)", d.msg);
	e = kmod_parse_alias(&db, "modules.alias", "alias x\n", 8, &d);
	ok(e < 0 && strstr(d.msg, "modules.alias:1: expected 'alias PATTERN MODULE'"), "kmod: a bad alias line names its line (%s)",
	   d.msg);
	kmod_free(&db);
}

int main(void)
{
	test_kmod_reads_aliases();
	test_kmod_loads_dependencies_first();
	test_kmod_folds_dashes_and_skips_builtins();
	test_kmod_names_an_unknown_module();
	return tap_done();
}
