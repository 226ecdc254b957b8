#include <string.h>

#include "profile.h"
#include "tap.h"

static void test_profile_parses_when_valid(void)
{
	const char *t = "name = hv\nkernel = kernel\ninitramfs = init busybox\nsystem = a\nsystem = b\n"
			"modules = loop squashfs\ncmdline = console=ttyS0 quiet\nsize-max = 32M\n";
	struct profile *p = NULL;
	struct diag d = {{0}, 0};
	int e = profile_parse("x.image", t, strlen(t), &p, &d);

	ok(e == 0, "profile: a valid profile parses (%s)", d.msg);
	if (e)
		return;
	ok(p->initramfs.names.n == 2 && p->system.names.n == 2 && p->system.lines[1] == 5,
	   "profile: package lists with their lines");
	ok(p->size_max == 32ULL << 20, "profile: size-max 32M is 32 MiB");
	ok(strcmp(p->cmdline, "console=ttyS0 quiet") == 0, "profile: cmdline kept whole");
	profile_free(p);
}

static void test_profile_system_drivers(void)
{
	const char *t = "name = hv\nkernel = kernel\ninitramfs = init\nmodules = loop\ndrivers = storage-sata\n"
			"system-modules = kvm tun\nsystem-drivers = net-intel\nsystem-drivers = storage-fc\n";
	struct profile *p = NULL;
	struct diag d = {{0}, 0};
	int e = profile_parse("x.image", t, strlen(t), &p, &d);

	ok(e == 0, "profile: system-modules and system-drivers parse (%s)", d.msg);
	if (e)
		return;
	ok(p->modules.names.n == 1 && p->drivers.names.n == 1, "profile: the initramfs's modules and drivers apart");
	ok(p->system_modules.names.n == 2 && strcmp(p->system_modules.names.v[1], "tun") == 0 &&
	   p->system_drivers.names.n == 2 && p->system_drivers.lines[1] == 8,
	   "profile: the payload's modules and drivers, with their lines");
	profile_free(p);
}

static void test_profile_bootloader(void)
{
	const char *t = "name = hv\nkernel = kernel\nbootloader = grub\ninitramfs = init\n";
	const char *none = "name = hv\nkernel = kernel\ninitramfs = init\n";
	struct profile *p = NULL;
	struct diag d = {{0}, 0};
	int e = profile_parse("x.image", t, strlen(t), &p, &d);

	ok(e == 0 && strcmp(p->bootloader, "grub") == 0 && p->bootloader_line == 3,
	   "profile: bootloader names a recipe, with its line (%s)", d.msg);
	ok(e == 0 && profile_check_bootable(p, &d) == 0, "profile: a profile with a bootloader can make an image");
	profile_free(p);
	p = NULL;
	e = profile_parse("x.image", none, strlen(none), &p, &d);
	ok(e == 0 && !p->bootloader, "profile: bootloader is optional to parse (packages-only profiles)");
	ok(e == 0 && profile_check_bootable(p, &d) < 0 &&
	   strstr(d.msg, "x.image: missing 'bootloader'; name the recipe that provides GRUB"),
	   "profile: but an image needs one (got: %s)", d.msg);
	profile_free(p);
}

static void expect_error(const char *t, const char *want, const char *what)
{
	struct profile *p = NULL;
	struct diag d = {{0}, 0};
	int e = profile_parse("x.image", t, strlen(t), &p, &d);

	ok(e < 0 && strstr(d.msg, want), "profile: %s (got: %s)", what, d.msg);
	profile_free(p);
}

static void test_profile_rejects_bad_input(void)
{
	expect_error("name = a\nkernel = k\ninitramfs = i\nsize-max = 3X\n", "x.image:4: size '3X' is not a size",
		     "bad size");
	expect_error("kernel = k\ninitramfs = i\n", "missing 'name'", "missing name");
	expect_error("name = a\ninitramfs = i\n", "missing 'kernel'", "missing kernel");
	expect_error("name = a\nkernel = k\n", "missing 'initramfs'", "missing initramfs");
	expect_error("name = a/b\nkernel = k\ninitramfs = i\n", "must be a plain file name", "name with a slash");
	expect_error("name = a\nkernel = k\nbootloader = g\nbootloader = h\ninitramfs = i\n",
		     "x.image:4: 'bootloader' given twice; keep one", "bootloader twice");
	expect_error("name = a\nkernel = k\nbootloader =\ninitramfs = i\n", "x.image:3: 'bootloader' needs a one-line value",
		     "empty bootloader");
	expect_error("name = a\nbootloadr = g\n", "x.image:2: unknown key 'bootloadr'; did you mean 'bootloader'?",
		     "misspelt bootloader with a hint");
	expect_error("name = a\nkernal = k\n", "x.image:2: unknown key 'kernal'; did you mean 'kernel'?",
		     "unknown key with a hint");
}

static void test_profile_size_parses_units(void)
{
	unsigned long long v = 0;

	ok(profile_parse_size("512K", &v) == 0 && v == 512 * 1024, "profile: 512K");
	ok(profile_parse_size("1G", &v) == 0 && v == 1ULL << 30, "profile: 1G");
	ok(profile_parse_size("100", &v) == 0 && v == 100, "profile: plain bytes");
	ok(profile_parse_size("-1", &v) < 0 && profile_parse_size("99999999999999999999G", &v) < 0,
	   "profile: negative and overflowing sizes refused");
}

int main(void)
{
	test_profile_parses_when_valid();
	test_profile_system_drivers();
	test_profile_bootloader();
	test_profile_rejects_bad_input();
	test_profile_size_parses_units();
	return tap_done();
}
