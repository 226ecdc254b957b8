/* init's driver tables (packages/init/modalias.h): what the builder writes parses, devices match
 * the drivers modprobe would pick, and malformed tables are refused with their line; the set of
 * devices a scan has looked at. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "modalias.h"
#include "tap.h"

static struct modtable t;

static const char aliases[] =
	"# the kernel's modules.alias lines of the image's drivers\n"
	"alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000\n"
	"alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n"
	"alias virtio:d00000008v* virtio_scsi\n"
	"alias scsi:t-0x00* sd_mod\n"
	"alias pci:v*d*sv*sd*bc01sc08i02* nvme\n"
	"alias usb:v054Cp0010d0[1-5]*dc*dsc*dp*ic*isc*ip*in* usb_storage\n"
	"alias cpu:type:x86,ven*fam*mod*:feature:*0085* kvm_intel\n"
	"alias cpu:type:x86,ven*fam*mod*:feature:*00C2* kvm_amd\n"
	"\n";

static const char deps[] =
	"kernel/drivers/nvme/host/nvme.ko: kernel/drivers/nvme/host/nvme-core.ko kernel/block/t10-pi.ko\n"
	"kernel/drivers/nvme/host/nvme-core.ko: kernel/block/t10-pi.ko\n"
	"kernel/block/t10-pi.ko:\n"
	"kernel/drivers/net/ethernet/intel/e1000/e1000.ko:\n";

static void load(void)
{
	static char a[sizeof(aliases)], d[sizeof(deps)];
	int line;

	memcpy(a, aliases, sizeof(a));
	memcpy(d, deps, sizeof(d));
	memset(&t, 0, sizeof(t));
	ok(modalias_parse(&t, a, &line) == 0 && t.nalias == 8, "modalias: eight alias lines, comments and blanks skipped");
	ok(moddep_parse(&t, d, &line) == 0 && t.ndep == 4, "modalias: four modules.dep lines");
}

/* The modules matching a device, space separated. */
static const char *matches(const char *modalias)
{
	static char out[256];
	const struct modalias_entry *a;
	size_t next = 0;

	out[0] = '\0';
	while ((a = modalias_match(&t, modalias, &next))) {
		strcat(out, out[0] ? " " : "");
		strcat(out, a->module);
	}
	return out;
}

static void test_devices_match_their_drivers(void)
{
	ok(strcmp(matches("pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00"), "e1000") == 0,
	   "modalias: QEMU's e1000 matches e1000 (got '%s')", matches("pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00"));
	ok(strcmp(matches("pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02"), "nvme") == 0,
	   "modalias: an NVMe controller matches nvme by its class");
	ok(strcmp(matches("pci:v00001AF4d00001004sv00001AF4sd00000008bc01sc00i00"), "virtio_pci") == 0,
	   "modalias: a virtio-scsi PCI function matches virtio_pci");
	ok(strcmp(matches("virtio:d00000008v00001AF4"), "virtio_scsi") == 0, "modalias: virtio device 8 matches virtio_scsi");
	ok(strcmp(matches("scsi:t-0x00"), "sd_mod") == 0 && matches("scsi:t-0x05")[0] == '\0',
	   "modalias: a SCSI disk matches sd_mod, a CD-ROM nothing here");
	ok(strcmp(matches("usb:v054Cp0010d0300dc00dsc00dp00ic08isc06ip50in00"), "usb_storage") == 0 &&
	   matches("usb:v054Cp0010d0600dc00dsc00dp00ic08isc06ip50in00")[0] == '\0',
	   "modalias: [1-5] ranges match as modprobe's do");
	ok(matches("pci:v000010ECd00008139sv00001AF4sd00001100bc02sc00i00")[0] == '\0',
	   "modalias: an rtl8139 matches no driver in the table");
}

/* A CPU's modalias (its uevent's MODALIAS=) lists its features; KVM's modules match theirs. */
static void test_cpus_match_their_kvm_module(void)
{
	static const char amd[] = "cpu:type:x86,ven0002fam0019mod0001:feature:,0000,0001,0002,0084,00C0,00C2,00C3,0100";
	static const char intel[] = "cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0001,0080,0085,0086,0094";
	static const char neither[] = "cpu:type:x86,ven0002fam000Fmod006B:feature:,0000,0001,0002,00C0,00C3";

	ok(strcmp(matches(amd), "kvm_amd") == 0, "modalias: a CPU with svm (00C2) matches kvm_amd only (got '%s')", matches(amd));
	ok(strcmp(matches(intel), "kvm_intel") == 0, "modalias: a CPU with vmx (0085) matches kvm_intel only (got '%s')",
	   matches(intel));
	ok(matches(neither)[0] == '\0', "modalias: a CPU with neither matches no KVM module");
}

static void test_dependencies_are_found(void)
{
	const struct moddep_entry *e = moddep_find(&t, "nvme", false);
	const struct moddep_entry *c = moddep_find(&t, "nvme-core", false);

	ok(e && e->ndeps == 2 && strcmp(e->deps[0], "kernel/drivers/nvme/host/nvme-core.ko") == 0,
	   "modalias: nvme needs nvme-core and t10-pi");
	ok(c && strcmp(c->name, "nvme_core") == 0 && c == moddep_find(&t, "kernel/drivers/nvme/host/nvme-core.ko", true),
	   "modalias: nvme-core is found by name ('-' as '_') and by path");
	ok(!moddep_find(&t, "tg3", false), "modalias: a module not in the table is not found");
}

static void test_bad_tables_name_the_line(void)
{
	char a1[] = "alias pci:v* e1000\nalias only-two\n", a2[] = "alias a b c\n", d1[] = "kernel/a.ko kernel/b.ko\n";
	char d2[] = "kernel/a.ko: x\nkernel/b.ko kernel/c.ko: y\n";
	int line = 0;

	memset(&t, 0, sizeof(t));
	ok(modalias_parse(&t, a1, &line) == -EINVAL && line == 2, "modalias: 'alias only-two' refused at line 2");
	ok(modalias_parse(&t, a2, &line) == -EINVAL && line == 1, "modalias: four words refused at line 1");
	ok(moddep_parse(&t, d1, &line) == -EINVAL && line == 1, "modalias: a dep line without ':' refused");
	ok(moddep_parse(&t, d2, &line) == -EINVAL && line == 2, "modalias: two paths before ':' refused at line 2");
}

static void test_full_tables_are_refused(void)
{
	static char big[MODALIAS_MAX * 12 + 64];
	size_t len = 0;
	int line;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i <= MODALIAS_MAX; i++)
		len += (size_t)sprintf(big + len, "alias x%d m\n", i % 10);
	ok(modalias_parse(&t, big, &line) == -E2BIG && line == MODALIAS_MAX + 1,
	   "modalias: line %d of a table too big for init is refused (E2BIG), not overflowed", MODALIAS_MAX + 1);
}

/* A big host's memory blocks (thousands) fill the device set, and a CPU scanned after them is
 * still looked at: not remembered, but never skipped. */
static void test_device_set(void)
{
	static struct devset s;
	char name[32];
	size_t kept = 0;
	bool cpu_new;

	ok(devset_get(&s, "cpu", "cpu0") == DEV_NEW, "devset: an unknown device is new");
	ok(devset_set(&s, "cpu", "cpu0", DEV_UNMATCHED) && devset_get(&s, "cpu", "cpu0") == DEV_UNMATCHED,
	   "devset: a device's state is remembered");
	devset_set(&s, "cpu", "cpu0", DEV_MATCHED);
	ok(devset_get(&s, "cpu", "cpu0") == DEV_MATCHED && s.n == 1, "devset: a state changes in place");
	ok(devset_get(&s, "node", "cpu0") == DEV_NEW && devset_get(&s, "cpu", "cpu1") == DEV_NEW,
	   "devset: another bus's device of the same name, another device: new");
	for (int i = 0; i < DEVSET_SLOTS; i++) {
		snprintf(name, sizeof(name), "memory%d", i);
		kept += devset_set(&s, "memory", name, DEV_DONE);
	}
	ok(kept == DEVSET_SLOTS / 4 * 3 - 1, "devset: %zu of %d memory blocks remembered, then it is full", kept,
	   DEVSET_SLOTS);
	cpu_new = !devset_set(&s, "cpu", "cpu1", DEV_MATCHED) && devset_get(&s, "cpu", "cpu1") == DEV_NEW;
	ok(cpu_new, "devset: full, a CPU is not remembered and stays new (scanned in every round)");
	ok(devset_get(&s, "cpu", "cpu0") == DEV_MATCHED && devset_get(&s, "memory", "memory0") == DEV_DONE,
	   "devset: full, what it holds is still found");
	ok(devset_set(&s, "cpu", "cpu0", DEV_DONE) && devset_get(&s, "cpu", "cpu0") == DEV_DONE,
	   "devset: full, a device it holds still changes state");
}

int main(void)
{
	char name[8];

	load();
	test_devices_match_their_drivers();
	test_cpus_match_their_kvm_module();
	test_dependencies_are_found();
	modname_of("kernel/drivers/scsi/sd_mod.ko.xz", name, sizeof(name));
	ok(strcmp(name, "sd_mod") == 0, "modalias: a compressed module's name");
	modname_of("a/very-long-name.ko", name, sizeof(name));
	ok(strcmp(name, "very_lo") == 0, "modalias: a name is cut to fit, never overflowed");
	test_bad_tables_name_the_line();
	test_full_tables_are_refused();
	test_device_set();
	return tap_done();
}
