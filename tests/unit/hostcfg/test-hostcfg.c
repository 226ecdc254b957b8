/* packages/hostcfg: every key's validation, host.conf's strict parse, users and passwords, the
 * generated files and the state archive's save and restore. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <crypt.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "hostconfig.h"
#include "ks.h"
#include "tap.h"

#define PW "Correct-horse-7"

struct kcase {
	const char *key, *value;
	int good;
};

static const struct kcase cases[] = {
	{"hostname", "esx-01", 1},
	{"hostname", "esx-01.lab.example.com", 1},
	{"hostname", "a", 1},
	{"hostname", "", 0},
	{"hostname", "-esx", 0},
	{"hostname", "esx-", 0},
	{"hostname", "esx_01", 0},
	{"hostname", "esx..lab", 0},
	{"hostname", "esx.", 0},
	{"hostname", "a234567890123456789012345678901234567890123456789012345678901234", 0},
	{"network-mode", "dhcp", 1},
	{"network-mode", "static", 1},
	{"network-mode", "DHCP", 0},
	{"network-address", "192.0.2.10/24", 1},
	{"network-address", "10.1.2.3/8", 1},
	{"network-address", "192.0.2.10/32", 1},
	{"network-address", "", 1},
	{"network-address", "192.0.2.10", 0},
	{"network-address", "192.0.2.10/33", 0},
	{"network-address", "192.0.2.10/0", 0},
	{"network-address", "192.0.2.10/024", 0},
	{"network-address", "192.0.2.0/24", 0},
	{"network-address", "192.0.2.255/24", 0},
	{"network-address", "127.0.0.1/8", 0},
	{"network-address", "224.0.0.1/4", 0},
	{"network-address", "192.0.2.256/24", 0},
	{"network-address", "192.0.02.1/24", 0},
	{"network-gateway", "192.0.2.1", 1},
	{"network-gateway", "", 1},
	{"network-gateway", "192.0.2", 0},
	{"network-gateway", "0.0.0.0", 0},
	{"dns-servers", "192.0.2.53", 1},
	{"dns-servers", "192.0.2.53   2001:db8::53", 1},
	{"dns-servers", "1.1.1.1 8.8.8.8 9.9.9.9", 1},
	{"dns-servers", "1.1.1.1 8.8.8.8 9.9.9.9 1.0.0.1", 0},
	{"dns-servers", "dns.example.com", 0},
	{"dns-servers", "1.1.1.1 1.1.1.1", 0},
	{"dns-search", "lab.example.com example.com", 1},
	{"dns-search", "bad_domain", 0},
	{"ipv6-autoconf", "on", 1},
	{"ipv6-autoconf", "off", 1},
	{"ipv6-autoconf", "yes", 0},
	{"syslog-servers", "udp://log.example.com:514", 1},
	{"syslog-servers", "tcp://192.0.2.5:1514 tls://[2001:db8::1]:6514", 1},
	{"syslog-servers", "http://log:80", 0},
	{"syslog-servers", "udp://log.example.com", 0},
	{"syslog-servers", "udp://log.example.com:0", 0},
	{"syslog-servers", "udp://log.example.com:65536", 0},
	{"syslog-servers", "udp://:514", 0},
	{"syslog-servers", "tls://[zz::1]:6514", 0},
	{"syslog-servers", "udp://2001:db8::1:514", 0},
	{"ntp-servers", "pool.ntp.org 192.0.2.123 2001:db8::123", 1},
	{"ntp-servers", "ntp_server", 0},
	{"ntp-servers", "999.1.1.1", 0},
	{"syslog-servers", "udp://10.0.0.300:514", 0},
	{"dns-search", "lab.123", 0},
	{"nosuchkey", "x", 0},
};

static void test_keys(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hc_config c;
		struct diag d = {0};
		char *before = NULL, *after;
		hc_defaults(&c);
		hc_get(&c, cases[i].key, &before, &d);
		int r = hc_set(&c, cases[i].key, cases[i].value, &d);
		after = hc_format(&c);
		if (cases[i].good) {
			ok(r == 0, "set %s='%s' is accepted (%s)", cases[i].key, cases[i].value, r ? d.msg : "");
		} else {
			char *fmt0;
			struct hc_config c0;
			hc_defaults(&c0);
			fmt0 = hc_format(&c0);
			ok(r < 0 && strstr(d.msg, cases[i].key) && strchr(d.msg, ';') && strcmp(fmt0, after) == 0,
			   "set %s='%.30s' is refused naming the key, nothing changed (%s)", cases[i].key, cases[i].value,
			   d.msg);
			free(fmt0);
			hc_free(&c0);
		}
		free(before);
		free(after);
		hc_free(&c);
	}
}

static void test_check(void)
{
	struct hc_config c;
	struct diag d = {0};

	hc_defaults(&c);
	hc_set(&c, "network-mode", "static", &d);
	ok(hc_check(&c, &d) < 0 && strstr(d.msg, "network-address"), "static without an address is refused (%s)", d.msg);
	hc_set(&c, "network-address", "192.0.2.10/24", &d);
	hc_set(&c, "network-gateway", "198.51.100.1", &d);
	ok(hc_check(&c, &d) < 0 && strstr(d.msg, "network-gateway") && strstr(d.msg, "192.0.2.0/24"),
	   "a gateway outside the subnet is refused, naming the subnet (%s)", d.msg);
	hc_set(&c, "network-gateway", "192.0.2.10", &d);
	ok(hc_check(&c, &d) < 0 && strstr(d.msg, "own address"), "the gateway cannot be the host itself (%s)", d.msg);
	hc_set(&c, "network-gateway", "192.0.2.1", &d);
	ok(hc_check(&c, &d) == 0, "static 192.0.2.10/24 via 192.0.2.1 passes");
	hc_free(&c);
}

static void test_parse(void)
{
	struct hc_config c, back;
	struct diag d = {0};
	char *text, *again;
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"hostname = a\nhostnme = b\n", "t.conf:2: unknown key 'hostnme'; did you mean 'hostname'?"},
		{"hostname = a\nhostname = b\n", "t.conf:2: hostname is given twice"},
		{"hostname = -a\n", "t.conf:1: hostname: '-a' is not a host name"},
		{"network-mode = static\n", "t.conf: network-mode: static needs network-address"},
		{"user = root operator 0 !\n", "t.conf:1: user root: root is an administrator"},
		{"user = bob admin 1000 !\n", "t.conf:1: user bob: unknown role 'admin'"},
		{"user = Bob operator 1000 !\n", "t.conf:1: user: 'Bob' is not a user name"},
		{"user = bob operator 0 !\n", "t.conf:1: user bob: uid '0' is not allowed"},
		{"user = bob operator 1000 !\nuser = eve operator 1000 !\n", "t.conf:2: user eve: its name or uid 1000"},
		{"user = bob operator 1000 plain\n", "t.conf:1: user bob: the password hash is not sha512-crypt"},
		{"user = bob operator 1000\n", "t.conf:1: user: expected 'user = NAME ROLE UID HASH'"},
		{"hostname a\n", "t.conf:1: expected '=' after the key"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hc_defaults(&c);
		hc_set(&c, "hostname", "keep", &d);
		int r = hc_parse("t.conf", bad[i].text, strlen(bad[i].text), &c, &d);
		ok(r < 0 && strncmp(d.msg, bad[i].want, strlen(bad[i].want)) == 0 && strcmp(c.val[HC_HOSTNAME], "keep") == 0,
		   "parse refuses bad host.conf %zu: '%s', the config unchanged", i, d.msg);
		hc_free(&c);
	}
	hc_defaults(&c);
	hc_set(&c, "hostname", "esx-9", &d);
	hc_set(&c, "syslog-servers", "udp://log:514", &d);
	hc_user_add(&c, "ops", "operator", PW, &d);
	hc_user_add(&c, "view", "read-only", PW, &d);
	hc_user_del(&c, "ops", &d);
	text = hc_format(&c);
	hc_defaults(&back);
	ok(hc_parse("t.conf", text, strlen(text), &back, &d) == 0, "host.conf as written parses (%s)", d.msg);
	again = hc_format(&back);
	ok(strcmp(text, again) == 0, "format, parse, format gives the same text");
	ok(hc_user_find(&back, "view") && hc_user_find(&back, "view")->uid == 1001,
	   "a user's uid stays when an earlier user goes (view keeps 1001)");
	free(text), free(again);
	{
		char path[] = "/tmp/test-hostcfg-save.XXXXXX", *saved;
		size_t len;
		int fd = mkstemp(path);
		close(fd);
		ok(hc_save(&back, path, &d) == 0 && util_read_file(path, &saved, &len) == 0 &&
		   hc_parse(path, saved, len, &c, &d) == 0 && strcmp(c.val[HC_HOSTNAME], "esx-9") == 0,
		   "hc_save writes a host.conf that loads back");
		free(saved);
		hc_set(&back, "network-mode", "static", &d);
		hc_set(&back, "network-address", "", &d);
		ok(hc_save(&back, path, &d) < 0 && strstr(d.msg, "network-address"), "hc_save refuses keys that disagree (%s)",
		   d.msg);
		unlink(path);
	}
	hc_free(&c), hc_free(&back);
}

/* Keys a file leaves out come from the base given (an image's defaults); the users are the file's. */
static void test_parse_over(void)
{
	struct hc_config base, c = {0};
	struct diag d = {0};
	static const char text[] = "network-mode = dhcp\nuser = ops operator 1000 !\n";

	hc_defaults(&base);
	hc_set(&base, "hostname", "hypervisor", &d);
	hc_user_add(&base, "extra", "operator", PW, &d);
	ok(hc_parse_over("f.conf", text, strlen(text), &base, &c, &d) == 0 && strcmp(c.val[HC_HOSTNAME], "hypervisor") == 0,
	   "parse over a base: a key left out takes the base's value (%s)", d.msg);
	ok(c.nuser == 2 && strcmp(c.user[0].name, "root") == 0 && hc_user_find(&c, "ops") && !hc_user_find(&c, "extra"),
	   "parse over a base: the users are the file's (and root)");
	hc_free(&c), hc_free(&base);
}

static bool hash_checks(const char *hash, const char *pw)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h = crypt_r(pw, hash, cd);
	bool same = h && strcmp(h, hash) == 0;

	free(cd);
	return same;
}

static void test_users(void)
{
	struct hc_config c;
	struct diag d = {0};
	char *text;
	const char *h1;

	hc_defaults(&c);
	ok(hc_user_add(&c, "alice", "administrator", PW, &d) == 0, "user add alice administrator");
	h1 = hc_user_find(&c, "alice")->hash;
	ok(strncmp(h1, "$6$", 3) == 0 && hash_checks(h1, PW) && !hash_checks(h1, "wrong-password"),
	   "alice's hash is sha512-crypt and crypt() checks the password against it");
	text = hc_format(&c);
	ok(!strstr(text, PW), "host.conf never holds the password text");
	free(text);
	ok(hc_user_add(&c, "alice", "operator", PW, &d) < 0 && strstr(d.msg, "exists"), "a second alice is refused (%s)",
	   d.msg);
	ok(hc_user_add(&c, "bob", "admin", PW, &d) < 0 && strstr(d.msg, "unknown role"), "an unknown role is refused (%s)",
	   d.msg);
	ok(hc_user_add(&c, "bob", "operator", "short", &d) < 0 && strstr(d.msg, "8 to 256") && !strstr(d.msg, "short"),
	   "a short password is refused without being shown (%s)", d.msg);
	ok(hc_user_add(&c, "9bob", "operator", PW, &d) < 0 && strstr(d.msg, "not a user name"), "a bad name is refused (%s)",
	   d.msg);
	ok(hc_user_del(&c, "root", &d) < 0 && strstr(d.msg, "root cannot be removed"), "root cannot be removed (%s)", d.msg);
	ok(hc_user_del(&c, "nobody", &d) < 0, "removing a missing user is refused (%s)", d.msg);
	ok(hc_user_passwd(&c, "root", PW "x", &d) == 0 && hash_checks(hc_user_find(&c, "root")->hash, PW "x"),
	   "passwd root sets root's hash");
	ok(hc_user_set_hash(&c, "root", "$1$abc$def", &d) < 0 && hash_checks(hc_user_find(&c, "root")->hash, PW "x"),
	   "an MD5 hash is refused and root's hash stays (%s)", d.msg);
	ok(hc_user_del(&c, "alice", &d) == 0 && !hc_user_find(&c, "alice") && c.nuser == 1, "user del alice");
	hc_free(&c);
}

/* Whether any file under dir holds needle. */
static bool tree_holds(const char *dir, const char *needle)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	bool found = false;

	while (dp && !found && (e = readdir(dp))) {
		char *p, *text;
		size_t len;
		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			found = tree_holds(p, needle);
		else if (util_read_file(p, &text, &len) == 0)
			found = memmem(text, len, needle, strlen(needle)) != NULL, free(text);
		free(p);
	}
	if (dp)
		closedir(dp);
	return found;
}

static char *file_text(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel), *text = NULL;
	size_t len;

	util_read_file(p, &text, &len);
	free(p);
	return text;
}

static void test_apply(const char *tmp)
{
	struct hc_config c;
	struct diag d = {0};
	unsigned changed = 0;
	char *root = xasprintf("%s/apply", tmp), *t;

	hc_defaults(&c);
	hc_set(&c, "hostname", "esx-7", &d);
	hc_set(&c, "dns-servers", "192.0.2.53", &d);
	hc_set(&c, "ntp-servers", "pool.ntp.org", &d);
	hc_user_add(&c, "ro", "read-only", PW, &d);
	ok(hc_apply(&c, root, false, &changed, &d) == 0 && changed == (HC_AREA_HOSTNAME | HC_AREA_USERS | HC_AREA_DNS |
								       HC_AREA_NETWORK | HC_AREA_SYSLOG | HC_AREA_NTP),
	   "apply writes every file the first time (%s)", d.msg);
	ok((t = file_text(root, "etc/hostname")) && strcmp(t, "esx-7\n") == 0, "etc/hostname");
	free(t);
	ok((t = file_text(root, "etc/passwd")) && strstr(t, "ro:x:1000:992:"), "etc/passwd: ro in the read-only group");
	free(t);
	ok((t = file_text(root, "etc/group")) && strstr(t, "read-only:x:992:ro\n") && strstr(t, "administrator:x:990:root\n"),
	   "etc/group: one group per role");
	free(t);
	ok((t = file_text(root, "etc/resolv.conf")) && strstr(t, "nameserver 192.0.2.53\n"), "etc/resolv.conf");
	free(t);
	ok((t = file_text(root, "etc/ntp.conf")) && strstr(t, "server pool.ntp.org\n"), "etc/ntp.conf");
	free(t);
	ok(!tree_holds(root, PW), "no file under the root holds the password");
	ok(hc_apply(&c, root, false, &changed, &d) == 0 && changed == 0, "a second apply changes nothing");
	hc_set(&c, "hostname", "esx-8", &d);
	ok(hc_apply(&c, root, false, &changed, &d) == 0 && changed == HC_AREA_HOSTNAME, "a new hostname changes only it");
	hc_free(&c);
	free(root);
}

/* The key localadmin: the members of the group localadmin, each a user; a removed user leaves it. */
static void test_localadmin(const char *tmp)
{
	struct hc_config c, back = {0};
	struct diag d = {0};
	unsigned changed;
	char *root = xasprintf("%s/localadmin", tmp), *t;

	hc_defaults(&c);
	hc_user_add(&c, "ops", "read-only", PW, &d);
	hc_user_add(&c, "eve", "operator", PW, &d);
	ok(hc_set(&c, "localadmin", "ops  eve", &d) == 0 && strcmp(c.val[HC_LOCALADMIN], "ops eve") == 0 &&
		   hc_check(&c, &d) == 0,
	   "localadmin = ops eve (blank-separated, canonical with one blank)");
	ok(hc_set(&c, "localadmin", "ops 9x", &d) < 0 && strstr(d.msg, "'9x' is not a user name") &&
		   strcmp(c.val[HC_LOCALADMIN], "ops eve") == 0,
	   "a bad name is refused, the value kept (%s)", d.msg);
	t = hc_format(&c);
	ok(strstr(t, "\nlocaladmin = ops eve\n") && hc_parse("host.conf", t, strlen(t), &back, &d) == 0 &&
		   strcmp(back.val[HC_LOCALADMIN], "ops eve") == 0,
	   "host.conf keeps it and reads it back (%s)", d.msg);
	free(t);
	ok(hc_apply(&c, root, false, &changed, &d) == 0 && (t = file_text(root, "etc/group")) &&
		   strstr(t, "\nlocaladmin:x:993:ops,eve\n"),
	   "etc/group: localadmin:x:993:ops,eve");
	free(t);
	ok(hc_user_del(&c, "ops", &d) == 0 && strcmp(c.val[HC_LOCALADMIN], "eve") == 0 && hc_check(&c, &d) == 0,
	   "user del ops: ops leaves localadmin");
	hc_set(&c, "localadmin", "eve nobody", &d);
	ok(hc_check(&c, &d) < 0 && strstr(d.msg, "localadmin") && strstr(d.msg, "'nobody' is no user"),
	   "a member who is no user is refused by the check (%s)", d.msg);
	hc_free(&back);
	hc_free(&c);
	free(root);
}

/* An archive holding one member named name, into path. */
static void archive_with(const char *path, const char *name)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_add_filter_gzip(a);
	archive_write_set_format_ustar(a);
	archive_write_open_filename(a, path);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 2);
	archive_write_header(a, e);
	archive_write_data(a, "x\n", 2);
	archive_entry_free(e);
	archive_write_free(a);
}

static void test_state(const char *tmp)
{
	char *root = xasprintf("%s/apply", tmp), *bank = xasprintf("%s/bank", tmp), *other = xasprintf("%s/other", tmp);
	char *arch = xasprintf("%s/state.tgz", bank), *a, *b, *data;
	struct diag d = {0};
	bool saved, has_conf;
	size_t len;

	util_mkdir_p(bank, 0755);
	ok(hc_state_save(root, bank, &saved, &d) == 0 && saved, "save writes state.tgz (%s)", d.msg);
	ok(hc_state_save(root, bank, &saved, &d) == 0 && !saved, "a second save of the same configuration writes nothing");
	ok(hc_state_unpack(arch, other, &has_conf, &d) == 0 && has_conf, "restore unpacks it into another root (%s)", d.msg);
	a = file_text(root, HC_CONF), b = file_text(other, HC_CONF);
	ok(a && b && strcmp(a, b) == 0, "the restored host.conf is the saved one");
	free(a), free(b);
	a = file_text(root, "etc/shadow"), b = file_text(other, "etc/shadow");
	ok(a && b && strcmp(a, b) == 0, "the restored shadow is the saved one");
	free(a), free(b);
	util_rm_rf(other);
	util_read_file(arch, &data, &len);
	for (size_t cut = 10; cut < len; cut += len / 7) {
		util_write_file_atomic(arch, data, cut, 0644);
		ok(hc_state_unpack(arch, other, &has_conf, &d) < 0 && access(other, F_OK) < 0,
		   "an archive cut at %zu of %zu bytes is refused and nothing is written (%s)", cut, len, d.msg);
	}
	data[len / 2] ^= 0x40;
	util_write_file_atomic(arch, data, len, 0644);
	ok(hc_state_unpack(arch, other, &has_conf, &d) < 0 && access(other, F_OK) < 0,
	   "an archive with a flipped byte is refused, nothing written (%s)", d.msg);
	free(data);
	archive_with(arch, "etc/profile");
	ok(hc_state_unpack(arch, other, &has_conf, &d) < 0 && strstr(d.msg, "etc/profile") && access(other, F_OK) < 0,
	   "an archive holding a file the configuration does not own is refused (%s)", d.msg);
	archive_with(arch, "etc/hostname");
	ok(hc_state_unpack(arch, other, &has_conf, &d) == 0 && !has_conf, "backup.sh's archive (no host.conf) unpacks");
	free(root), free(bank), free(other), free(arch);
}

/* What the installer writes on bank A from ks.cfg (ks_firstboot_conf) is what hostcfg accepts. */
static void test_kickstart(void)
{
	static const char *const files[] = {
		"vmaccepteula\nrootpw --iscrypted %s\ninstall --firstdisk\nnetwork --bootproto=static --ip=198.51.100.7 "
		"--netmask=255.255.255.0 --gateway=198.51.100.1 --nameserver=198.51.100.53,2001:db8::53 --hostname=ks-host.lab\n",
		"vmaccepteula\nrootpw --iscrypted %s\ninstall --firstdisk\nnetwork --bootproto=dhcp\n",
	};
	struct hc_config c;
	struct ks_config *ks = calloc(1, sizeof(*ks));
	struct diag d = {0};
	char hash[256], text[1024], conf[1024], err[256] = "";

	hc_hash_password(PW, hash, sizeof(hash), &d);
	for (size_t i = 0; i < 2; i++) {
		snprintf(text, sizeof(text), files[i], hash);
		int n = ks_parse(text, strlen(text), ks, err, sizeof(err)) == 0 ? ks_firstboot_conf(ks, hash, conf, sizeof(conf)) : -1;
		hc_defaults(&c);
		ok(n > 0 && (size_t)n < sizeof(conf) && hc_parse("firstboot.conf", conf, (size_t)n, &c, &d) == 0,
		   "ks.cfg %zu: the installer's firstboot.conf parses in hostcfg (%s%s)", i, err, d.msg);
		ok(hash_checks(hc_user_find(&c, "root")->hash, PW), "ks.cfg %zu: root's password is the kickstart's", i);
		if (i == 0)
			ok(strcmp(c.val[HC_NET_ADDRESS], "198.51.100.7/24") == 0 && strcmp(c.val[HC_NET_GATEWAY], "198.51.100.1") == 0 &&
			   strcmp(c.val[HC_DNS_SERVERS], "198.51.100.53 2001:db8::53") == 0 && strcmp(c.val[HC_HOSTNAME], "ks-host.lab") == 0,
			   "ks.cfg 0: --ip and --netmask become 198.51.100.7/24, the gateway, name servers and host name are kept");
		else
			ok(strcmp(c.val[HC_NET_MODE], "dhcp") == 0 && strcmp(c.val[HC_HOSTNAME], "localhost") == 0,
			   "ks.cfg 1: DHCP, the other keys at their defaults");
		hc_free(&c);
	}
	ok(ks_firstboot_conf(ks, hash, conf, 16) >= 16, "ks_firstboot_conf says when the text does not fit");
	free(ks);
}

int main(void)
{
	char tmp[] = "/tmp/test-hostcfg.XXXXXX";

	if (!mkdtemp(tmp))
		return 1;
	test_keys();
	test_check();
	test_parse();
	test_parse_over();
	test_users();
	test_apply(tmp);
	test_localadmin(tmp);
	test_state(tmp);
	test_kickstart();
	util_rm_rf(tmp);
	return tap_done();
}
