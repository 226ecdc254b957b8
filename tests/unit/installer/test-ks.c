#include <string.h>

#include "ks.h"
#include "tap.h"

static int parse(const char *t, struct ks_config *c, char *err)
{
	return ks_parse(t, strlen(t), c, err, 256);
}

static void test_ks_reads_esxi_answer_files(void)
{
	struct ks_config c;
	char err[256] = "";
	int r = parse("# ESXi-style answer file\nvmaccepteula\nrootpw --iscrypted $6$x$y\n"
		      "install --disk=/dev/sdb --overwritevmfs\n"
		      "network --bootproto=static --ip=192.0.2.10 --netmask=255.255.255.0 --gateway=192.0.2.1 "
		      "--hostname=esx1\nreboot\n", &c, err);

	ok(r == 0, "ks: a full ESXi answer file parses (%s)", err);
	ok(r == 0 && c.eula && c.rootpw_crypted && strcmp(c.rootpw, "$6$x$y") == 0, "ks: rootpw --iscrypted kept as given");
	ok(r == 0 && c.disk == KS_DISK_NAMED && strcmp(c.disk_name, "/dev/sdb") == 0, "ks: install --disk=NAME");
	ok(r == 0 && !c.dhcp && strcmp(c.ip, "192.0.2.10") == 0 && strcmp(c.hostname, "esx1") == 0, "ks: static network");
	ok(r == 0 && c.end == KS_END_REBOOT, "ks: reboot");
	r = parse("vmaccepteula\nrootpw pw\ninstall --firstdisk\npoweroff\n", &c, err);
	ok(r == 0 && c.disk == KS_DISK_FIRST && c.dhcp && c.end == KS_END_POWEROFF, "ks: --firstdisk, dhcp by default, poweroff");
}

static void expect(const char *t, const char *want, const char *what)
{
	struct ks_config c;
	char err[256] = "";

	ok(parse(t, &c, err) < 0 && strstr(err, want), "ks: %s (%s)", what, err);
}

static void test_ks_rejects_bad_files(void)
{
	expect("vmaccepteula\nrootpw x\ninstall --firstdisk\nclearpart --all\n",
	       "ks.cfg:4: unknown command 'clearpart'", "an unknown command is an error, not a skip");
	expect("rootpw x\ninstall --firstdisk\n", "missing vmaccepteula", "the license must be accepted");
	expect("vmaccepteula\ninstall --firstdisk\n", "missing rootpw", "a password is required");
	expect("vmaccepteula\nrootpw x\n", "missing install", "an install line is required");
	expect("vmaccepteula\nrootpw x\ninstall\n", "ks.cfg:3: install needs --firstdisk or --disk=NAME", "install without a disk");
	expect("vmaccepteula\nrootpw x\ninstall --firstdisk\nnetwork --bootproto=static\n",
	       "ks.cfg:4: network --bootproto=static needs --ip= and --netmask=", "static network without an address");
	expect("vmaccepteula\nrootpw x\ninstall --firstdisk\nnetwork --bootproto=bootp\n", "ks.cfg:4: network: bad option",
	       "an unknown boot protocol");
	expect("vmaccepteula\nrootpw\n", "ks.cfg:2: rootpw needs one password", "rootpw without a password");
}

int main(void)
{
	test_ks_reads_esxi_answer_files();
	test_ks_rejects_bad_files();
	return tap_done();
}
