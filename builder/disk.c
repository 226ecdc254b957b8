#define _GNU_SOURCE
#include "disk.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bank.h"
#include "fat.h"
#include "grub.h"
#include "hash.h"
#include "run.h"
#include "sign.h"
#include "util.h"

#define ESP_START (DISK_BIOS_START + DISK_BIOS_SIZE)
#define A_START (ESP_START + DISK_ESP_SIZE)
#define B_START (A_START + DISK_BANK_SIZE)
#define P_START (B_START + DISK_BANK_SIZE)

#define GRUB_DISK_MODULES "part_gpt", "part_msdos", "fat", "normal", "configfile", "linux", "echo", "test", \
	"true", "serial", "terminal", "loadenv", "search", "search_fs_uuid", "search_label", "regexp", "probe", \
	"halt", "reboot", "minicmd", "sleep", "cat", "ls", GRUB_SIGNING_MODULES

struct part {
	const char *name, *type, *label;
	unsigned long long start, size;
};

static const struct part parts[] = {
	{"bios-boot", "21686148-6449-6E6F-744E-656564454649", NULL, DISK_BIOS_START, DISK_BIOS_SIZE},
	{"esp", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "ESP", ESP_START, DISK_ESP_SIZE},
	{"bank-a", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "BOOTBANK", A_START, DISK_BANK_SIZE},
	{"bank-b", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "BOOTBANK", B_START, DISK_BANK_SIZE},
	{"persist", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "PERSIST", P_START, DISK_PERSIST_SIZE},
};

/* A version-4-shaped UUID from sha256(seed/name), so that tools accept it and builds repeat. */
int disk_part_uuid(const char *seed, const char *name, char out[37], struct diag *d)
{
	char *in = xasprintf("%s/part/%s", seed, name), h[HASH_HEX_LEN];
	static const char hexd[] = "0123456789ABCDEF";
	int r = hash_buf(in, strlen(in), h);

	free(in);
	out[0] = '\0';
	if (r < 0)
		return diag_set_errno(d, -r, seed, 0, "cannot derive the UUID of partition %s (SHA-256); free some "
				      "memory and build again", name);
	for (int i = 0; i < 32; i++)
		h[i] = (char)toupper((unsigned char)h[i]);
	h[12] = '4';
	h[16] = hexd[(strchr(hexd, h[16]) - hexd) % 4 + 8];
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
	return 0;
}

void disk_fat_serial(const char *part_uuid, char out[9])
{
	snprintf(out, 9, "%.8s", part_uuid);
}

void disk_fs_uuid(const char *part_uuid, char out[10])
{
	/* Upper case, as GRUB's probe --fs-uuid prints it: grub.cfg compares the two as strings. */
	snprintf(out, 10, "%.4s-%.4s", part_uuid, part_uuid + 4);
}

static int write_file(const char *path, const char *data, size_t len, long long epoch, struct diag *d)
{
	struct timespec ts[2] = {{.tv_sec = (time_t)epoch}, {.tv_sec = (time_t)epoch}};
	int r = util_write_file_atomic(path, data, len, 0644);

	if (r < 0)
		return diag_set(d, path, 0, "cannot write: %s", strerror(-r));
	utimensat(AT_FDCWD, path, ts, 0);
	return 0;
}

static int partition(const struct disk_opts *o, const char *img, const char *log, struct diag *d)
{
	struct buf s = {0};
	char u[37], *path = xasprintf("%s/layout.sfdisk", o->work);
	int r;

	r = disk_part_uuid(o->seed, "disk", u, d);
	buf_printf(&s, "label: gpt\nlabel-id: %s\nunit: sectors\nfirst-lba: 2048\nsector-size: 512\n\n", u);
	for (size_t i = 0; i < ARRAY_SIZE(parts) && r == 0; i++) {
		r = disk_part_uuid(o->seed, parts[i].name, u, d);
		buf_printf(&s, "start=%llu, size=%llu, type=%s, uuid=%s, name=\"%s\"\n", parts[i].start, parts[i].size,
			   parts[i].type, u, parts[i].name);
	}
	if (r == 0)
		r = write_file(path, s.data, s.len, o->epoch, d);
	buf_free(&s);
	if (r == 0) {
		char *sh = xasprintf("truncate -s %dM '%s' && sfdisk --quiet --no-reread --no-tell-kernel '%s' < '%s'",
				     DISK_SIZE_MIB, img, img, path);
		char *argv[] = {"sh", "-c", sh, NULL};
		r = run_tool(argv, log, "partitioning the disk image", d);
		free(sh);
	}
	free(path);
	return r;
}

static int mkfat(const struct disk_opts *o, const struct part *p, const char *log, struct diag *d)
{
	char u[37], serial[9], *img = xasprintf("%s/%s.img", o->work, p->name);
	char *kib = xasprintf("%llu", p->size / 2);
	int r;

	r = disk_part_uuid(o->seed, p->name, u, d);
	disk_fat_serial(u, serial);
	unlink(img);
	char *argv[] = {"mkfs.fat", "-C", "--invariant", "-i", serial, "-n", (char *)p->label, "-S", "512", img, kib, NULL};
	if (r == 0)
		r = run_tool(argv, log, "making a FAT file system", d);
	free(img);
	free(kib);
	return r;
}

/* mcopy into a partition image; dirs first ("::/boot" made by mmd). */
static int fat_put(const struct disk_opts *o, const char *part, const char *from, const char *to, const char *log,
		   struct diag *d)
{
	char *img = xasprintf("%s/%s.img", o->work, part);
	char *argv[] = {"mcopy", "-m", "-i", img, (char *)from, (char *)to, NULL};
	int r = run_tool(argv, log, "copying into a FAT image", d);

	free(img);
	return r;
}

static int fat_mkdir(const struct disk_opts *o, const char *part, const char *dir, const char *log, struct diag *d)
{
	char *img = xasprintf("%s/%s.img", o->work, part);
	char *argv[] = {"mmd", "-i", img, (char *)dir, NULL};
	int r = run_tool(argv, log, "making a folder in a FAT image", d);

	free(img);
	return r;
}

/* The files of one bank, as `bankctl stage` writes them: with the signatures GRUB checks. */
static const char *const bank_files[] = {BANK_FILES};

static int fill_bank(const struct disk_opts *o, const char *part, const char *log, struct diag *d)
{
	int r = fat_mkdir(o, part, "::/boot", log, d);

	if (r == 0)
		r = fat_mkdir(o, part, "::/keys", log, d);
	for (size_t i = 0; i < ARRAY_SIZE(bank_files) && r == 0; i++) {
		char *from = xasprintf("%s/%s", o->tree, bank_files[i]), *to = xasprintf("::/%s", bank_files[i]);
		r = fat_put(o, part, from, to, log, d);
		free(from);
		free(to);
	}
	return r;
}

static int grub_cores(const struct disk_opts *o, const char *log, struct diag *d)
{
	char u[37], fsu[10], *cfg = xasprintf("%s/early.cfg", o->work), *text;
	char *core = xasprintf("%s/core.img", o->work), *efi = xasprintf("%s/BOOTX64.EFI", o->work);
	char *mkimage = xasprintf("%s/" GRUB_MKIMAGE, o->grub);
	char *pcdir = xasprintf("%s/" GRUB_PC_DIR, o->grub), *efidir = xasprintf("%s/" GRUB_EFI_DIR, o->grub);
	int r;

	r = disk_part_uuid(o->seed, "esp", u, d);
	disk_fs_uuid(u, fsu);
	/* GRUB's rescue parser runs this: plain commands. The prefix (,gpt2) names the boot disk's
	 * ESP, which --hint makes the search try first. Enforcement first: grub.cfg must be signed. */
	text = xasprintf(GRUB_ENFORCE "serial --unit=0 --speed=115200\nterminal_input serial console\n"
			 "terminal_output serial console\nsearch --no-floppy --fs-uuid --set=root --hint=$root %s\n"
			 "set prefix=($root)/grub\nconfigfile ($root)/grub/grub.cfg\n", fsu);
	if (r == 0)
		r = write_file(cfg, text, strlen(text), o->epoch, d);
	char *pc[] = {mkimage, "-O", "i386-pc", "-d", pcdir, "-p", "(,gpt2)/grub", "-c", cfg,
		      "-k", o->keys->pubkey, "-o", core, "biosdisk", GRUB_DISK_MODULES, NULL};
	char *ef[] = {mkimage, "-O", "x86_64-efi", "-d", efidir, "-p", "(,gpt2)/grub", "-c", cfg,
		      "-k", o->keys->pubkey, "--disable-shim-lock", "-o", efi, GRUB_DISK_MODULES, "efi_gop", NULL};
	if (r == 0)
		r = run_tool(pc, log, "making the BIOS GRUB core", d);
	if (r == 0)
		r = run_tool(ef, log, "making the UEFI GRUB image", d);
	if (r == 0)
		r = sign_efi(o->keys, efi, "esp/EFI/BOOT/BOOTX64.EFI", o->epoch, log, d);
	free(text), free(cfg), free(core), free(efi), free(mkimage), free(pcdir), free(efidir);
	return r;
}

static char *replace_all(const char *text, const char *from, const char *to)
{
	struct buf b = {0};
	const char *p = text, *hit;

	buf_puts(&b, "");
	while ((hit = strstr(p, from))) {
		buf_add(&b, p, (size_t)(hit - p));
		buf_puts(&b, to);
		p = hit + strlen(from);
	}
	buf_puts(&b, p);
	return b.data;
}

static int grub_cfg(const struct disk_opts *o, const char *path, const char *log, struct diag *d)
{
	char ua[37] = "", ub[37] = "", fa[10], fb[10], *tmpl, *t1, *t2, *t3;
	int r = util_read_file(o->grub_cfg, &tmpl, NULL);

	if (r < 0)
		return diag_set(d, o->grub_cfg, 0, "cannot read the GRUB template: %s", strerror(-r));
	if ((r = disk_part_uuid(o->seed, "bank-a", ua, d)) == 0)
		r = disk_part_uuid(o->seed, "bank-b", ub, d);
	disk_fs_uuid(ua, fa);
	disk_fs_uuid(ub, fb);
	t1 = replace_all(tmpl, "@UUID_A@", fa);
	t2 = replace_all(t1, "@UUID_B@", fb);
	t3 = replace_all(t2, "@TIMEOUT@", "1");
	if (r == 0)
		r = write_file(path, t3, strlen(t3), o->epoch, d);
	if (r == 0)
		r = sign_gpg(o->keys, path, "esp/grub/grub.cfg", o->epoch, log, d);
	free(tmpl), free(t1), free(t2), free(t3);
	return r;
}

/* The first boot state: bank A good, generation 1; B empty. envA is current (seq 1). */
static int boot_state(const struct disk_opts *o, struct diag *d)
{
	struct bank_env e = {.seq = 1, .bank = {{BANK_GOOD, 0, 1}, {BANK_EMPTY, 0, 0}}};
	char block[BANK_ENV_SIZE], *a = xasprintf("%s/envA", o->work), *b = xasprintf("%s/envB", o->work);
	int r;

	bank_env_format(&e, block);
	r = write_file(a, block, sizeof(block), o->epoch, d);
	e.seq = 0;
	bank_env_format(&e, block);
	if (r == 0)
		r = write_file(b, block, sizeof(block), o->epoch, d);
	free(a);
	free(b);
	return r;
}

static int fill_esp(const struct disk_opts *o, const char *log, struct diag *d)
{
	char *efi = xasprintf("%s/BOOTX64.EFI", o->work), *cfg = xasprintf("%s/grub.cfg", o->work);
	char *ea = xasprintf("%s/envA", o->work), *eb = xasprintf("%s/envB", o->work);
	struct timespec ts[2] = {{.tv_sec = (time_t)o->epoch}, {.tv_sec = (time_t)o->epoch}};
	char *sig = xasprintf("%s.sig", cfg);
	int r = grub_cfg(o, cfg, log, d);

	utimensat(AT_FDCWD, efi, ts, 0);
	if (r == 0)
		r = boot_state(o, d);
	if (r == 0)
		r = fat_mkdir(o, "esp", "::/EFI", log, d);
	if (r == 0)
		r = fat_mkdir(o, "esp", "::/EFI/BOOT", log, d);
	if (r == 0)
		r = fat_mkdir(o, "esp", "::/grub", log, d);
	/* Each copy of the boot state in a folder of its own: a file's directory entry (which Linux's
	 * vfat rewrites on every write: mtime) then shares its sector with neither the other copy's
	 * nor grub.cfg's (docs/disk-layout.md). */
	if (r == 0)
		r = fat_mkdir(o, "esp", "::" BANK_ENV_DIR_A, log, d);
	if (r == 0)
		r = fat_mkdir(o, "esp", "::" BANK_ENV_DIR_B, log, d);
	if (r == 0)
		r = fat_put(o, "esp", efi, "::/EFI/BOOT/BOOTX64.EFI", log, d);
	if (r == 0)
		r = fat_put(o, "esp", cfg, "::/grub/grub.cfg", log, d);
	if (r == 0)
		r = fat_put(o, "esp", sig, "::/grub/grub.cfg.sig", log, d);
	if (r == 0)
		r = fat_put(o, "esp", ea, "::" BANK_ENV_PATH_A, log, d);
	if (r == 0)
		r = fat_put(o, "esp", eb, "::" BANK_ENV_PATH_B, log, d);
	free(efi), free(cfg), free(sig), free(ea), free(eb);
	return r;
}

int disk_patch_bios(unsigned char boot[512], unsigned char *core, size_t core_len, unsigned long long core_lba)
{
	unsigned long long nsec = core_len / 512;
	unsigned len = core[0x1fc] | core[0x1fd] << 8, seg = core[0x1fe] | core[0x1ff] << 8;

	/* diskboot.S: the first sector of core.img ends with the blocklist of the rest:
	 * start (8 bytes LE) at 0x1f4, length in sectors at 0x1fc, load segment at 0x1fe. */
	if (core_len % 512 || nsec < 2 || len != nsec - 1 || seg != 0x820)
		return -EINVAL;
	for (int i = 0; i < 8; i++) {
		core[0x1f4 + i] = (unsigned char)((core_lba + 1) >> (8 * i));
		boot[0x5c + i] = (unsigned char)(core_lba >> (8 * i)); /* boot.S: kernel_sector */
	}
	boot[0x64] = 0xff;                 /* boot.S: boot_drive: use the drive the BIOS gives in %dl */
	boot[0x66] = boot[0x67] = 0x90;    /* boot.S: drive check, NOPed as grub-bios-setup does for disks */
	return 0;
}

static int install_bios(const struct disk_opts *o, const char *img, struct diag *d)
{
	char *core_path = xasprintf("%s/core.img", o->work), *core, *boot;
	char *boot_path = xasprintf("%s/" GRUB_PC_DIR "/boot.img", o->grub);
	size_t core_len, boot_len;
	unsigned char mbr[512];
	int fd = -1, r = util_read_file(core_path, &core, &core_len);

	if (r == 0 && (r = util_read_file(boot_path, &boot, &boot_len)) < 0)
		free(core);
	if (r < 0) {
		r = diag_set(d, boot_path, 0, "cannot read GRUB's BIOS images; check that the bootloader recipe "
			     "installs " GRUB_PC_DIR);
		free(core_path), free(boot_path);
		return r;
	}
	core = xrealloc(core, (core_len + 511) / 512 * 512);
	memset(core + core_len, 0, (core_len + 511) / 512 * 512 - core_len);
	core_len = (core_len + 511) / 512 * 512;
	if (boot_len != 512 || core_len / 512 > DISK_BIOS_SIZE ||
	    disk_patch_bios((unsigned char *)boot, (unsigned char *)core, core_len, DISK_BIOS_START) < 0)
		r = diag_set(d, core_path, 0, "not a GRUB i386-pc core image that fits the BIOS boot partition");
	if (r == 0 && ((fd = open(img, O_RDWR | O_CLOEXEC)) < 0 || pread(fd, mbr, 512, 0) != 512))
		r = diag_set(d, img, 0, "cannot read the MBR: %s", strerror(errno));
	memcpy(mbr, boot, 440); /* keep the disk signature and the protective MBR from 440 on */
	if (r == 0 && (pwrite(fd, mbr, 512, 0) != 512 ||
		       pwrite(fd, core, core_len, DISK_BIOS_START * 512LL) != (ssize_t)core_len))
		r = diag_set(d, img, 0, "cannot write GRUB's BIOS boot code: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	free(core), free(boot), free(core_path), free(boot_path);
	return r;
}

static int place(const struct disk_opts *o, const char *img, const struct part *p, const char *log, struct diag *d)
{
	char *from = xasprintf("if=%s/%s.img", o->work, p->name), *to = xasprintf("of=%s", img);
	char *seek = xasprintf("seek=%llu", p->start);
	char *argv[] = {"dd", from, to, "bs=512", seek, "conv=notrunc,sparse", "status=none", NULL};
	int r = run_tool(argv, log, "writing a partition into the disk image", d);

	free(from), free(to), free(seek);
	return r;
}

static int build(const struct disk_opts *o, const char *img, const char *log, struct diag *d)
{
	int r = partition(o, img, log, d);

	for (size_t i = 1; i < ARRAY_SIZE(parts) && r == 0; i++)
		r = mkfat(o, &parts[i], log, d);
	if (r == 0)
		r = fill_bank(o, "bank-a", log, d);
	if (r == 0)
		r = fat_mkdir(o, "persist", "::/log", log, d);
	if (r == 0)
		r = fat_mkdir(o, "persist", "::/state", log, d);
	if (r == 0)
		r = grub_cores(o, log, d);
	if (r == 0)
		r = fill_esp(o, log, d);
	for (size_t i = 1; i < ARRAY_SIZE(parts) && r == 0; i++)
		r = place(o, img, &parts[i], log, d);
	if (r == 0)
		r = install_bios(o, img, d);
	return r;
}

/* The partition image's FAT read in-process (bootbank/fat.h, the one reader of the format). */
int disk_file_offset(const char *work, const char *part, const char *path, unsigned long long *ret_offset)
{
	char *img = xasprintf("%s/%s.img", work, part), *src = xasprintf("/%s", path);
	unsigned long long first = 0, contiguous = 0, size = 0;
	const struct part *p = NULL;
	struct fat *f = NULL;
	struct stat st;
	int fd = open(img, O_RDONLY | O_CLOEXEC), r = -ENOENT;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (strcmp(parts[i].name, part) == 0)
			p = &parts[i];
	if (p && fd >= 0 && fstat(fd, &st) == 0 && fat_open(fd, 0, (unsigned long long)st.st_size, &f) == 0 &&
	    fat_extent(f, src, &first, &contiguous, &size) == 0 && size > 0 && contiguous >= size)
		r = 0;
	if (r == 0)
		*ret_offset = p->start * 512 + first;
	fat_close(f);
	if (fd >= 0)
		close(fd);
	free(img), free(src);
	return r;
}

int disk_make(const struct disk_opts *o, struct diag *d)
{
	char *img = xasprintf("%s.tmp.%ld", o->out, (long)getpid()), *log = xasprintf("%s/disk.log", o->work);
	int r;

	util_mkdir_p(o->work, 0755);
	unlink(img);
	r = build(o, img, log, d);
	if (r == 0 && rename(img, o->out) < 0)
		r = diag_set(d, o->out, 0, "cannot move the disk image into place: %s", strerror(errno));
	if (r < 0)
		unlink(img);
	free(img);
	free(log);
	return r;
}
