/* A tiny boot disk for the unit tests of bootdisk, staging and trust, made in the test's temp
 * folder with sfdisk, mkfs.fat and mtools (docs/disk-layout.md's GPT, small):
 *
 *   esp      1 MiB + 4 MiB    FAT: /grub/a/envA (seq 1: A good gen 1), /grub/b/envB (seq 0)
 *                             (old_env_paths: /grub/envA, /grub/envB, the layout before the folders)
 *   bank-a   5 MiB + 8 MiB    FAT: /boot.cfg (hypervisor 1.0.0), /keys/trusted.pem, /keys/revoked
 *   bank-b  13 MiB + 8 MiB    zeros (or an empty FAT)
 *   persist 21 MiB + 2 MiB    an empty FAT
 *
 * and keys: openssl makes self-signed certificates (RSA-2048 to be quick). Header-only, static. */
#ifndef DISK_FIXTURE_H
#define DISK_FIXTURE_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bank.h"
#include "util.h"

#define FIX_MIB (1ULL << 20)
#define FIX_DISK_SIZE (24 * FIX_MIB)
#define FIX_ESP_AT (1 * FIX_MIB)
#define FIX_BANK_A_AT (5 * FIX_MIB)
#define FIX_BANK_B_AT (13 * FIX_MIB)
#define FIX_PERSIST_AT (21 * FIX_MIB)
#define FIX_BANK_SIZE (8 * FIX_MIB)

struct disk_opts {
	bool no_persist;         /* leave the persist partition out of the GPT */
	bool no_env_b;           /* no envB on the ESP */
	bool old_env_paths;      /* the copies at /grub/envA and /grub/envB (disks made before /grub/a, /grub/b) */
	bool format_bank_b;      /* an empty FAT in bank-b instead of zeros */
	const char *trusted;     /* a PEM file for bank-a's /keys/trusted.pem (NULL: none) */
	const char *revoked;     /* text of bank-a's /keys/revoked (NULL: none) */
};

/* Whether the tools are there; *why says which one is not. */
static inline bool fix_have_tools(const char **why)
{
	static const char *const tools[] = {"sfdisk", "mkfs.fat", "mcopy", "mmd", "mtype", "mshowfat", "openssl"};

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char *cmd = xasprintf("command -v %s >/dev/null 2>&1 || test -x /usr/sbin/%s || test -x /sbin/%s",
				      tools[i], tools[i], tools[i]);
		int st = system(cmd);
		free(cmd);
		if (st != 0) {
			*why = tools[i];
			return false;
		}
	}
	return true;
}

/* Run a shell script in dir with output into dir/fixture.log; shows the log when it fails. */
static inline int fix_sh(const char *dir, const char *script)
{
	char *cmd = xasprintf("cd '%s' && PATH=$PATH:/usr/sbin:/sbin && { set -e; %s\n} >>fixture.log 2>&1", dir, script);
	int st = system(cmd);

	free(cmd);
	if (st != 0) {
		cmd = xasprintf("sed 's/^/#   /' '%s/fixture.log'", dir);
		printf("# fixture script failed:\n");
		fflush(stdout);
		if (system(cmd) != 0)
			printf("# (no log)\n");
		free(cmd);
		return -1;
	}
	return 0;
}

/* A self-signed CA certificate and its key: dir/name.key, dir/name.crt. */
static inline int fix_key(const char *dir, const char *name)
{
	char *s = xasprintf("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s.key -out %s.crt -days 3650 "
			    "-subj '/CN=test %s' -addext basicConstraints=critical,CA:TRUE", name, name, name);
	int r = fix_sh(dir, s);

	free(s);
	return r;
}

static inline void fix_env(const char *path, unsigned seq)
{
	struct bank_env e;
	char block[BANK_ENV_SIZE];

	memset(&e, 0, sizeof(e));
	e.seq = seq;
	e.bank[0] = (struct bank){BANK_GOOD, 0, 1};
	bank_env_format(&e, block);
	if (util_write_file_atomic(path, block, sizeof(block), 0644) < 0)
		printf("# cannot write %s\n", path);
}

/* Make dir/disk.img; its path in *ret_path (owned by the caller). 0 or -1. */
static inline int fix_disk(const char *dir, const struct disk_opts *o, char **ret_path)
{
	char *p, *s;
	int r;

	p = xasprintf("%s/envA", dir), fix_env(p, 1), free(p);
	p = xasprintf("%s/envB", dir), fix_env(p, 0), free(p);
	p = xasprintf("%s/boot.cfg", dir);
	util_write_file_atomic(p, "product=\"hypervisor\"\nversion=\"1.0.0\"\nbuild=\"abc\"\n", 49, 0644);
	free(p);
	if (o->revoked) {
		p = xasprintf("%s/revoked", dir);
		util_write_file_atomic(p, o->revoked, strlen(o->revoked), 0644);
		free(p);
	}
	s = xasprintf(
		"rm -f disk.img esp.fat bank-a.fat bank-b.fat persist.fat\n"
		"truncate -s %llu disk.img\n"
		"printf 'label: gpt\\nstart=2048, size=8192, name=esp, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\\n"
		"start=10240, size=16384, name=bank-a\\nstart=26624, size=16384, name=bank-b\\n%s' | sfdisk -q disk.img\n"
		"mkfs.fat -C esp.fat 4096 >/dev/null\n"
		"mmd -i esp.fat ::/grub ::/grub/a ::/grub/b\n"
		"mcopy -i esp.fat envA ::%s\n"
		"%s%s\n"
		"dd if=esp.fat of=disk.img bs=512 seek=2048 conv=notrunc status=none\n"
		"mkfs.fat -C bank-a.fat 8192 >/dev/null\n"
		"mcopy -i bank-a.fat boot.cfg ::/boot.cfg\n"
		"mmd -i bank-a.fat ::/keys\n"
		"%s%s%s\n"
		"%s\n"
		"dd if=bank-a.fat of=disk.img bs=512 seek=10240 conv=notrunc status=none\n"
		"%s\n"
		"mkfs.fat -C persist.fat 2048 >/dev/null\n"
		"dd if=persist.fat of=disk.img bs=512 seek=43008 conv=notrunc status=none\n"
		"rm -f esp.fat bank-a.fat bank-b.fat persist.fat\n",
		FIX_DISK_SIZE, o->no_persist ? "" : "start=43008, size=4096, name=persist\\n",
		o->old_env_paths ? BANK_ENV_OLD_PATH_A : BANK_ENV_PATH_A, o->no_env_b ? "" : "mcopy -i esp.fat envB ::",
		o->no_env_b ? "" : o->old_env_paths ? BANK_ENV_OLD_PATH_B : BANK_ENV_PATH_B,
		o->trusted ? "mcopy -i bank-a.fat '" : "", o->trusted ? o->trusted : "",
		o->trusted ? "' ::/keys/trusted.pem" : "", o->revoked ? "mcopy -i bank-a.fat revoked ::/keys/revoked" : "",
		o->format_bank_b ? "mkfs.fat -C bank-b.fat 8192 >/dev/null; "
				   "dd if=bank-b.fat of=disk.img bs=512 seek=26624 conv=notrunc status=none" : "");
	r = fix_sh(dir, s);
	free(s);
	*ret_path = xasprintf("%s/disk.img", dir);
	return r;
}

/* A whole file (owned by the caller, NULL when it cannot be read); its length in *len. */
static inline char *fix_read(const char *path, size_t *len)
{
	char *data = NULL;

	if (util_read_file(path, &data, len) < 0) {
		free(data);
		return NULL;
	}
	return data;
}

#endif
