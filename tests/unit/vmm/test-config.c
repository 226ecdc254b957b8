/* The VM configuration file: what parses, and the message for each mistake (FILE:LINE). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char err[CONFIG_ERR_LEN];

static int parse(struct config *c, const char *text)
{
	config_free(c);
	err[0] = 0;
	return config_parse(c, text, strlen(text), "vm.cfg", "/vms", err, sizeof(err));
}

/* text fails to parse with a message containing want. */
static int fails(const char *text, const char *want)
{
	struct config c;
	config_init(&c);
	int r = parse(&c, text);
	config_free(&c);
	if (r == 0 || !strstr(err, want))
		printf("# got: %s\n", err);
	return r != 0 && strstr(err, want);
}

static void test_parse(void)
{
	struct config c;

	config_init(&c);
	ok(parse(&c, "# a VM\nname = web-1\ncpus = 2\nmemory = 512M\nkernel = bz\ninitrd = /boot/i\n"
		     "cmdline = console=ttyS0 root=/dev/vda\ndisk = a.img\ndisk = /d/b.img\nnic = tap0\n"
		     "nic = tap1,mac=52:54:00:aa:bb:cc\nconsole = unix:/run/web-1.sock\n") == 0,
	   "config: a full file parses");
	ok(!strcmp(c.name, "web-1") && c.cpus == 2 && c.mem == 512ull << 20, "config: name, cpus, memory");
	ok(!strcmp(c.kernel, "/vms/bz") && !strcmp(c.initrd, "/boot/i"), "config: relative paths are from the file's folder");
	ok(!strcmp(c.cmdline, "console=ttyS0 root=/dev/vda"), "config: a value keeps its '=' signs");
	ok(c.ndisks == 2 && !strcmp(c.disk[0], "/vms/a.img") && c.disk_line[1] == 9, "config: disks in order, with lines");
	ok(c.nnics == 2 && !c.nic[0].has_mac && c.nic[1].has_mac && c.nic[1].mac[5] == 0xcc, "config: NICs and a MAC");
	config_free(&c);
	ok(parse(&c, "") == 0 && c.cpus == 1 && c.mem == CONFIG_MEM_DEFAULT, "config: defaults: 1 CPU, 256 MiB");
	config_free(&c);
}

static void test_errors(void)
{
	ok(fails("name = a\nmemroy = 1G\n", "vm.cfg:2: unknown key 'memroy'; did you mean 'memory'?"), "config: misspelt key");
	ok(fails("colour = red\n", "vm.cfg:1: unknown key 'colour'; the keys are"), "config: unknown key lists the keys");
	ok(fails("cpus = 0\n", "vm.cfg:1: cpus '0' is not a number from 1 to 8"), "config: 0 CPUs");
	ok(fails("cpus = 2x\n", "not a number"), "config: CPUs not a number");
	ok(fails("cpus = 1\ncpus = 2\n", "vm.cfg:2: 'cpus' given twice"), "config: a key given twice");
	ok(fails("memory = lots\n", "memory 'lots' is not a size"), "config: memory not a size");
	ok(fails("\n\nkernel\n", "vm.cfg:3: expected 'key = value'"), "config: a line without '='");
	ok(fails("kernel =\n", "'kernel' has no value"), "config: a key without value");
	ok(fails("= x\n", "no key"), "config: a value without key");
	ok(fails("nic = tap0,mac=01:00:00:00:00:01\n", "bad NIC option"), "config: a multicast MAC");
	ok(fails("nic = averyveryverylongtapname\n", "bad tap device name"), "config: a tap name too long");
	struct config c;
	config_init(&c);
	ok(config_parse(&c, "name = a\0b\n", 10, "vm.cfg", NULL, err, sizeof(err)) && strstr(err, "NUL"),
	   "config: a NUL byte");
	config_free(&c);
	char many[512] = "";
	for (int i = 0; i <= CONFIG_MAX_DISKS; i++)
		strcat(many, "disk = x\n");
	ok(fails(many, "more than 8 disks"), "config: too many disks");
}

static void test_sizes(void)
{
	uint64_t v;
	ok(config_parse_size("256M", &v) == 0 && v == 256ull << 20, "size: 256M");
	ok(config_parse_size("2GiB", &v) == 0 && v == 2ull << 30, "size: 2GiB");
	ok(config_parse_size("4096", &v) == 0 && v == 4096, "size: plain bytes");
	ok(config_parse_size("-1M", &v) && config_parse_size("1T", &v) && config_parse_size("", &v) &&
	   config_parse_size("99999999999999999999G", &v) && config_parse_size("17179869184G", &v),
	   "size: negative, unknown unit, empty and overflowing sizes are refused");
}

/* validate() on a config with kernel k and memory m. */
static int validate(const char *k, uint64_t m)
{
	struct config c;
	config_init(&c);
	c.kernel = strdup(k);
	c.mem = m;
	int r = config_validate(&c, err, sizeof(err));
	config_free(&c);
	return r;
}

static void test_validate(void)
{
	char k[] = "/tmp/test-config.XXXXXX";
	int fd = mkstemp(k);

	close(fd);
	ok(validate(k, 64ull << 20) == 0, "validate: an existing kernel and 64 MiB pass");
	ok(validate(k, 1 << 20) && strstr(err, "too small; give at least 16 MiB"), "validate: 1 MiB is too small");
	ok(validate(k, 100ull << 30) && strstr(err, "too large"), "validate: 100 GiB is too large");
	ok(validate("/nonexistent/bz", 64ull << 20) && strstr(err, "kernel /nonexistent/bz: No such file"),
	   "validate: a missing kernel is named");
	struct config c;
	config_init(&c);
	ok(parse(&c, "memory = 64M\n\nkernel = /nonexistent\n") == 0 && config_validate(&c, err, sizeof(err)) &&
	   strstr(err, "vm.cfg:3: kernel /nonexistent"), "validate: a file's missing kernel gets its line");
	config_free(&c);
	ok(parse(&c, "memory = 1M\nkernel = /x\n") == 0 && config_validate(&c, err, sizeof(err)) &&
	   strstr(err, "vm.cfg:1: memory"), "validate: a file's memory error gets its line");
	config_free(&c);
	ok(parse(&c, "memory = 64M\n") == 0 && config_validate(&c, err, sizeof(err)) &&
	   strstr(err, "no kernel given; add 'kernel = FILE'"), "validate: no kernel in a file");
	config_free(&c);
	unlink(k);
}

int main(void)
{
	test_parse();
	test_errors();
	test_sizes();
	test_validate();
	return tap_done();
}
