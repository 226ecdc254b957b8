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
			 "\"quiet\",\"disks\":[\"db/a.img\",\"db/b.img\"],\"nics\":0,\"autostart\":true}"),
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
		{"{\"name\":\"a\",\"kernel\":\"k\",\"nics\":1}", "nics"},
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

int main(void)
{
	test_defaults();
	test_full();
	test_refused();
	test_patch();
	test_argv_and_limits();
	return tap_done();
}
