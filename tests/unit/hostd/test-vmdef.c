/* A VM's definition (packages/hostd/vmdef.h): defaults, every field's check naming the field, a
 * PATCH onto a definition, the JSON back, vmm's arguments, the cgroup limits, the routes and roles. */
#define _GNU_SOURCE
#include <string.h>

#include "tap.h"
#include "vmdef.h"

static int parse(const char *text, const struct vm_def *base, struct vm_def *d, struct api_error *e)
{
	memset(e, 0, sizeof(*e));
	return vm_def_parse(text, strlen(text), base, d, e);
}

static void test_defaults(void)
{
	struct vm_def d;
	struct api_error e;

	ok(parse("{\"name\": \"web-1\", \"kernel\": \"images/bzImage\"}", NULL, &d, &e) == 0, "vmdef: name and kernel suffice");
	ok(d.memory_mib == 256 && d.cpus == 1 && !strcmp(d.cmdline, "console=ttyS0") && !d.initrd[0] && !d.ndisks &&
		   !d.nics && !d.autostart,
	   "vmdef: the defaults: 256 MiB, 1 CPU, console=ttyS0, no initrd, disks or NICs, no autostart");
}

static void test_full(void)
{
	struct vm_def d;
	struct api_error e;
	json_t *o;
	char *text;

	ok(parse("{\"name\":\"db\",\"memory_mib\":512,\"cpus\":2,\"kernel\":\"k/bz\",\"initrd\":\"k/i\",\"cmdline\":\"quiet\","
		 "\"disks\":[\"db/a.img\",\"db/b.img\"],\"nics\":0,\"autostart\":true}",
		 NULL, &d, &e) == 0,
	   "vmdef: every key");
	ok(d.memory_mib == 512 && d.cpus == 2 && d.ndisks == 2 && !strcmp(d.disks[1], "db/b.img") && d.autostart,
	   "vmdef: every key taken");
	o = vm_def_json(&d);
	text = json_dumps(o, JSON_COMPACT);
	ok(!strcmp(text, "{\"name\":\"db\",\"memory_mib\":512,\"cpus\":2,\"kernel\":\"k/bz\",\"initrd\":\"k/i\",\"cmdline\":"
			 "\"quiet\",\"disks\":[\"db/a.img\",\"db/b.img\"],\"nics\":0,\"macs\":[],\"autostart\":true}"),
	   "vmdef: the JSON back (%s)", text);
	struct vm_def again;
	ok(vm_def_parse(text, strlen(text), NULL, &again, &e) == 0 && !memcmp(&again, &d, sizeof(d)),
	   "vmdef: its JSON parses to the same definition");
	free(text);
	json_decref(o);
}

static void test_refused(void)
{
	static const struct {
		const char *text, *field;
	} cases[] = {
		{"[]", ""},
		{"{\"name\":\"a\",", ""},
		{"{\"kernel\":\"k\"}", "name"},
		{"{\"name\":\"a\"}", "kernel"},
		{"{\"name\":\"-a\",\"kernel\":\"k\"}", "name"},
		{"{\"name\":\"a/b\",\"kernel\":\"k\"}", "name"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"name\":\"b\"}", ""},
		{"{\"name\":\"a\",\"kernel\":\"../k\"}", "kernel"},
		{"{\"name\":\"a\",\"kernel\":\"a//k\"}", "kernel"},
		{"{\"name\":\"a\",\"kernel\":\"a/./k\"}", "kernel"},
		{"{\"name\":\"a\",\"kernel\":\"k/\"}", "kernel"},
		{"{\"name\":\"a\",\"kernel\":\"\"}", "kernel"},
		{"{\"name\":\"a\",\"kernel\":\"k\\u0000x\"}", ""}, /* jansson refuses a NUL */
		{"{\"name\":\"a\",\"kernel\":\"k\",\"initrd\":\"/i\"}", "initrd"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"memory_mib\":15}", "memory_mib"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"memory_mib\":1.5}", "memory_mib"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"cpus\":0}", "cpus"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"cpus\":9}", "cpus"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"cmdline\":\"a\\nb\"}", "cmdline"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"disks\":\"a.img\"}", "disks"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"disks\":[1]}", "disks"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"disks\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}", "disks"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"nics\":9}", "nics"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"nics\":-1}", "nics"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"nics\":\"1\"}", "nics"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"autostart\":\"yes\"}", "autostart"},
		{"{\"name\":\"a\",\"kernel\":\"k\",\"memory\":256}", "memory"},
	};
	struct vm_def d = {.memory_mib = 77};
	struct api_error e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(cases[i].text, NULL, &d, &e);
		ok(r < 0 && e.status == 400 && !strcmp(e.field, cases[i].field) && e.msg[0] && d.memory_mib == 77,
		   "vmdef: %s: 400, field '%s' (%s)", cases[i].text, cases[i].field, e.msg);
	}
}

static void test_patch(void)
{
	struct vm_def base, d;
	struct api_error e;

	parse("{\"name\":\"a\",\"kernel\":\"k\",\"cpus\":2}", NULL, &base, &e);
	ok(parse("{\"autostart\":true}", &base, &d, &e) == 0 && d.autostart && d.cpus == 2 && !strcmp(d.name, "a"),
	   "vmdef: a PATCH changes only its keys");
	ok(parse("{\"name\":\"a\",\"memory_mib\":128}", &base, &d, &e) == 0 && d.memory_mib == 128,
	   "vmdef: a PATCH may repeat the name");
	ok(parse("{\"name\":\"b\"}", &base, &d, &e) < 0 && !strcmp(e.field, "name"), "vmdef: a PATCH cannot rename");
}

static void test_argv_and_limits(void)
{
	struct vm_def d;
	struct api_error e;
	char *argv[VM_ARGV_MAX], joined[1024] = "", cpu[64];

	parse("{\"name\":\"a\",\"kernel\":\"k/bz\",\"initrd\":\"k/i\",\"memory_mib\":64,\"cpus\":3,\"disks\":[\"a/d.img\"]}",
	      NULL, &d, &e);
	vm_argv(&d, "/usr/bin/vmm", "/vmfs/volumes/datastore1", argv);
	for (int i = 0; argv[i]; i++)
		strcat(strcat(joined, i ? " " : ""), argv[i]);
	ok(!strcmp(joined, "/usr/bin/vmm --kernel /vmfs/volumes/datastore1/k/bz --initrd /vmfs/volumes/datastore1/k/i "
			   "--cmdline console=ttyS0 --mem 64M --cpus 3 --disk /vmfs/volumes/datastore1/a/d.img --console stdio"),
	   "vmdef: vmm's arguments (%s)", joined);
	vm_argv_free(argv);
	ok(vm_memory_max(&d) == (64ull + VM_MEM_OVERHEAD_MIB) << 20, "vmdef: memory.max is the RAM plus the overhead");
	vm_cpu_max(&d, cpu, sizeof(cpu));
	ok(!strcmp(cpu, "300000 100000"), "vmdef: cpu.max gives 3 CPUs' time (%s)", cpu);
}

static void test_nics(void)
{
	struct vm_def d;
	struct api_error e;
	char *argv[VM_ARGV_MAX], joined[1024] = "", tap[VM_TAP_SIZE], mac[VM_MAC_SIZE], other[VM_MAC_SIZE], want[512];
	json_t *o;
	char *text;

	ok(parse("{\"name\":\"web1\",\"kernel\":\"k\",\"initrd\":\"i\",\"nics\":8,\"disks\":[\"1\",\"2\",\"3\",\"4\","
		 "\"5\",\"6\",\"7\",\"8\"]}",
		 NULL, &d, &e) == 0 &&
		   d.nics == 8,
	   "vmdef: nics 8 taken");
	vm_argv(&d, "vmm", "/ds", argv);
	int n = 0;
	while (argv[n])
		n++;
	ok(n < VM_ARGV_MAX && !strncmp(argv[n - 3], "vm-web1-7,mac=02:", 17),
	   "vmdef: 8 disks and 8 NICs fit vmm's arguments (%d of %d)", n, VM_ARGV_MAX);
	vm_argv_free(argv);
	ok(parse("{\"name\":\"web1\",\"kernel\":\"k\",\"nics\":2}", NULL, &d, &e) == 0 && d.nics == 2,
	   "vmdef: nics 2 taken");
	vm_tap_name("web1", 1, tap);
	ok(!strcmp(tap, "vm-web1-1"), "vmdef: the tap of a short name: vm-NAME-I (%s)", tap);
	vm_tap_name("abcdefghij", 7, tap);
	ok(!strcmp(tap, "vm-abcdefghij-7") && strlen(tap) < VM_TAP_SIZE, "vmdef: a 10-character name still fits (%s)", tap);
	vm_tap_name("abcdefghijk", 0, tap);
	ok(strlen(tap) == 12 && !strncmp(tap, "vm", 2) && tap[2] != '-' && !strcmp(tap + 10, "-0"),
	   "vmdef: a longer name: vm + 8 hex digits of its hash + -I (%s)", tap);
	vm_tap_name("abcdefghijl", 0, joined);
	ok(strcmp(tap, joined) != 0, "vmdef: two long names with the same start: different taps (%s, %s)", tap, joined);
	vm_nic_mac(&d, 1, mac);
	vm_nic_mac(&d, 1, other);
	ok(strlen(mac) == 17 && !strncmp(mac, "02:", 3) && !strcmp(mac + 15, "01") && !strcmp(mac, other),
	   "vmdef: a definition without kept MACs (saved before): 02, the name's hash, the NIC's index (%s)", mac);
	joined[0] = '\0';
	vm_argv(&d, "vmm", "/ds", argv);
	for (int i = 0; argv[i]; i++)
		strcat(strcat(joined, i ? " " : ""), argv[i]);
	vm_nic_mac(&d, 0, mac);
	vm_nic_mac(&d, 1, other);
	snprintf(want, sizeof(want), "--net vm-web1-0,mac=%s --net vm-web1-1,mac=%s --console stdio", mac, other);
	ok(strstr(joined, want) != NULL, "vmdef: vmm gets --net TAP,mac=MAC per NIC (%s)", joined);
	vm_argv_free(argv);
	o = vm_nics_json(&d);
	text = json_dumps(o, JSON_COMPACT);
	snprintf(want, sizeof(want), "[{\"tap\":\"vm-web1-0\",\"mac\":\"%s\"},{\"tap\":\"vm-web1-1\",\"mac\":\"%s\"}]", mac,
		 other);
	ok(text && !strcmp(text, want), "vmdef: the NICs as JSON (%s)", text);
	free(text);
	json_decref(o);
}

static void test_macs(void)
{
	struct vm_def d, p;
	struct api_error e;
	unsigned char random[6 * VM_NICS_MAX];
	char mac[VM_MAC_SIZE];
	json_t *o;

	for (size_t i = 0; i < sizeof(random); i++)
		random[i] = (unsigned char)(0xa5 + 7 * i);
	ok(parse("{\"name\":\"a\",\"kernel\":\"k\",\"nics\":3,\"macs\":[\"52:54:00:AB:cd:01\"]}", NULL, &d, &e) == 0 &&
		   d.nmacs == 1 && !strcmp(d.macs[0], "52:54:00:ab:cd:01"),
	   "vmdef: a MAC given is kept, in lower case");
	vm_macs_fill(&d, random, sizeof(random));
	vm_nic_mac(&d, 2, mac);
	ok(d.nmacs == 3 && !strcmp(d.macs[0], "52:54:00:ab:cd:01") && (strtol(mac, NULL, 16) & 3) == 2 && strcmp(d.macs[1], mac),
	   "vmdef: the others made from random bytes: locally administered, unicast, each its own (%s)", mac);
	o = vm_def_json(&d);
	ok(json_array_size(json_object_get(o, "macs")) == 3, "vmdef: the MACs are in the saved definition");
	json_decref(o);
	ok(parse("{\"nics\":1}", &d, &p, &e) == 0 && p.nmacs == 1 && !strcmp(p.macs[0], d.macs[0]),
	   "vmdef: PATCH to fewer NICs keeps the first MACs and drops the others");
	ok(parse("{\"name\":\"a\",\"kernel\":\"k\",\"nics\":1,\"macs\":[\"01:00:5e:00:00:01\"]}", NULL, &d, &e) < 0 &&
		   !strcmp(e.field, "macs") &&
		   parse("{\"name\":\"a\",\"kernel\":\"k\",\"nics\":1,\"macs\":[\"02:00:00:00:00:01\",\"02:00:00:00:00:02\"]}",
			 NULL, &d, &e) < 0 &&
		   parse("{\"name\":\"a\",\"kernel\":\"k\",\"nics\":2,\"macs\":[\"02:00:00:00:00:01\",\"02:00:00:00:00:01\"]}",
			 NULL, &d, &e) < 0 &&
		   parse("{\"name\":\"a\",\"kernel\":\"k\",\"nics\":1,\"macs\":[\"02:00:00:00:00:1\"]}", NULL, &d, &e) < 0 &&
		   parse("{\"name\":\"a\",\"kernel\":\"k\",\"nics\":1,\"macs\":[\"02-00-00-00-00-01\"]}", NULL, &d, &e) < 0,
	   "vmdef: a multicast MAC, more MACs than NICs, one given twice, a short or dashed one: 400 macs");
}

int main(void)
{
	test_defaults();
	test_full();
	test_refused();
	test_patch();
	test_argv_and_limits();
	test_nics();
	test_macs();
	return tap_done();
}
