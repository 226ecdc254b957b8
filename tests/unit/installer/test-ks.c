#include <string.h>

#include "ks.h"

#define HASH "$6$TA3HWPDc9YlrLL0A$bZCMbBZxCOSDBfeZIKD4.Az/u7tfV24HaJ3DuypTlmL35dhJ91bTu55iNtrertaPmr3I7VmIatgT42PT/iiBL1"
#include "tap.h"

static int parse(const char *t, struct ks_config *c, char *err)
{
	return ks_parse(t, strlen(t), c, err, 256);
}

static void test_ks_reads_esxi_answer_files(void)
{
	struct ks_config c;
	char err[256] = "";
	int r = parse("# ESXi-style answer file\nvmaccepteula\nrootpw --iscrypted " HASH "\n"
		      "install --disk=/dev/sdb --overwritevmfs\n"
		      "network --bootproto=static --ip=192.0.2.10 --netmask=255.255.255.0 --gateway=192.0.2.1 "
		      "--hostname=esx1\nreboot\n", &c, err);

	ok(r == 0, "ks: a full ESXi answer file parses (%s)", err);
	ok(r == 0 && c.eula && c.rootpw_crypted && strcmp(c.rootpw, HASH) == 0, "ks: rootpw --iscrypted kept as given");
	ok(r == 0 && c.disk == KS_DISK_NAMED && strcmp(c.disk_name, "/dev/sdb") == 0, "ks: install --disk=NAME");
	ok(r == 0 && c.overwrite_datastore, "ks: --overwritevmfs: the datastore is formatted again");
	ok(r == 0 && !c.dhcp && strcmp(c.ip, "192.0.2.10") == 0 && strcmp(c.hostname, "esx1") == 0, "ks: static network");
	ok(r == 0 && c.end == KS_END_REBOOT, "ks: reboot");
	ok(r == 0 && c.prefix == 24 && c.firstboot[0] == '\0', "ks: --netmask=255.255.255.0 is /24; no %%firstboot");
	r = parse("vmaccepteula\nrootpw pw\ninstall --firstdisk\nnetwork --bootproto=dhcp --nameserver=192.0.2.53,2001:db8::53\n"
		  "%firstboot --interpreter=busybox\necho one  two >/tmp/x\n# kept\n%end\nreboot\n", &c, err);
	ok(r == 0 && strcmp(c.firstboot, "echo one  two >/tmp/x\n# kept\n") == 0 && c.end == KS_END_REBOOT,
	   "ks: %%firstboot's lines are kept as written, up to %%end (%s)", err);
	r = parse("vmaccepteula\nrootpw pw\ninstall --firstdisk\npoweroff\n", &c, err);
	ok(r == 0 && c.disk == KS_DISK_FIRST && c.dhcp && c.end == KS_END_POWEROFF, "ks: --firstdisk, dhcp by default, poweroff");
	ok(r == 0 && !c.overwrite_datastore, "ks: without --overwritevmfs an existing datastore is kept");
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
	expect("vmaccepteula\nrootpw --iscrypted $1$ab$cd\n", "ks.cfg:2: rootpw --iscrypted needs a sha512-crypt hash",
	       "an MD5 crypted password (the host accepts sha512-crypt only)");
	expect("network --bootproto=static --ip=192.0.2.10 --netmask=255.0.255.0\n", "ks.cfg:1: network: --netmask=255.0.255.0 is not a netmask",
	       "a netmask with a hole");
	expect("network --bootproto=static --ip=192.0.2.300 --netmask=255.255.255.0\n", "--ip=192.0.2.300 is not an IPv4 address",
	       "a bad address");
	expect("network --bootproto=static --ip=192.0.2.10 --netmask=255.255.255.0 --gateway=10.0.0.1\n",
	       "--gateway=10.0.0.1 is not a router in 192.0.2.10/24", "a gateway outside the subnet");
	expect("network --hostname=-bad\n", "--hostname=-bad is not a host name", "a host name the host would refuse");
	expect("network --nameserver=dns.example.com\n", "--nameserver=dns.example.com is not a list of addresses",
	       "a name server given by name");
	expect("%pre\necho hi\n", "ks.cfg:1: section '%pre' is not supported", "a %pre section");
	expect("%firstboot --interpreter=python\n", "option '--interpreter=python' is not supported", "a python %firstboot");
}

int main(void)
{
	test_ks_reads_esxi_answer_files();
	test_ks_rejects_bad_files();
	return tap_done();
}
