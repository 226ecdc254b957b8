#define _GNU_SOURCE
#include "iso.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "grub.h"
#include "run.h"
#include "sign.h"
#include "util.h"

/* Everything GRUB needs is built into the core images, so the ISO carries no module folders. */
#define GRUB_MODULES "iso9660", "part_gpt", "part_msdos", "fat", "search", "search_fs_uuid", "search_label", "configfile", \
		     "normal", "linux", "serial", "terminal", "echo", "test", GRUB_SIGNING_MODULES

void iso_uuid(long long epoch, char out[32])
{
	time_t t = (time_t)epoch;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d-%H-%M-%S-00", &tm);
}

/* The early config both cores carry: find this ISO by its UUID wherever it was booted from. */
static int write_early_cfg(const char *path, long long epoch)
{
	char uuid[32], *text;
	int r;

	iso_uuid(epoch, uuid);
	text = xasprintf(GRUB_ENFORCE "search --no-floppy --fs-uuid --set=root %s\n"
			 "set prefix=($root)/boot/grub\n"
			 "configfile ($root)/boot/grub/grub.cfg\n", uuid);
	r = util_write_file_atomic(path, text, strlen(text), 0644);
	free(text);
	return r;
}

/* Both cores carry the public key; the EFI one is signed for Secure Boot and, with no shim to
 * verify the kernel, leaves that to the OpenPGP check (--disable-shim-lock; docs/signing.md). */
static int make_cores(const char *work, const char *grub, struct sign_keys *k, long long epoch, const char *log,
		      struct diag *d)
{
	char *cfg = xasprintf("%s/early.cfg", work), *bios = xasprintf("%s/eltorito.img", work);
	char *efi = xasprintf("%s/BOOTX64.EFI", work), *mkimage = xasprintf("%s/" GRUB_MKIMAGE, grub);
	char *pc = xasprintf("%s/" GRUB_PC_DIR, grub), *x64 = xasprintf("%s/" GRUB_EFI_DIR, grub);
	char *bargv[] = {mkimage, "-O", "i386-pc-eltorito", "-d", pc, "-p", "/boot/grub",
			 "-c", cfg, "-k", k->pubkey, "-o", bios, "biosdisk", GRUB_MODULES, NULL};
	char *eargv[] = {mkimage, "-O", "x86_64-efi", "-d", x64, "-p", "/boot/grub",
			 "-c", cfg, "-k", k->pubkey, "--disable-shim-lock", "-o", efi, GRUB_MODULES, NULL};
	int r = run_tool(bargv, log, "making the BIOS GRUB image", d);

	if (r == 0)
		r = run_tool(eargv, log, "making the UEFI GRUB image", d);
	if (r == 0)
		r = sign_efi(k, efi, "efi/EFI/BOOT/BOOTX64.EFI", epoch, log, d);
	free(cfg), free(bios), free(efi), free(mkimage), free(pc), free(x64);
	return r;
}

/* efi.img: a FAT image with \EFI\BOOT\BOOTX64.EFI, its serial and dates fixed by the epoch. */
static int make_efi_img(const char *work, long long epoch, const char *log, struct diag *d)
{
	char *img = xasprintf("%s/efi.img", work), *efi = xasprintf("%s/BOOTX64.EFI", work);
	char *serial = xasprintf("%08llX", epoch & 0xffffffffLL), *kib;
	struct stat st;
	int r = stat(efi, &st) < 0 ? -errno : 0;

	/* The file's clusters, two folders, the FATs and the root folder (16 KiB) fit in 64 KiB more. */
	kib = xasprintf("%lld", ((long long)st.st_size / 1024 + 64 + 31) / 32 * 32);
	/* mcopy -m keeps the file's time; mtools dates the folders from SOURCE_DATE_EPOCH. */
	struct timespec ts[2] = {{.tv_sec = (time_t)epoch}, {.tv_sec = (time_t)epoch}};
	utimensat(AT_FDCWD, efi, ts, 0);
	unlink(img);
	char *mkfs[] = {"mkfs.fat", "-C", "--invariant", "-i", serial, "-n", "EFIBOOT", img, kib, NULL};
	char *mmd[] = {"mmd", "-i", img, "::/EFI", "::/EFI/BOOT", NULL};
	char *mcopy[] = {"mcopy", "-m", "-i", img, efi, "::/EFI/BOOT/BOOTX64.EFI", NULL};
	if (r == 0)
		r = run_tool(mkfs, log, "making the EFI FAT image", d);
	if (r == 0)
		r = run_tool(mmd, log, "making folders in the EFI image", d);
	if (r == 0)
		r = run_tool(mcopy, log, "copying GRUB into the EFI image", d);
	free(img), free(efi), free(serial), free(kib);
	return r;
}

int iso_set_dates(const char *dir, long long epoch, const char *log, struct diag *d)
{
	char *at = xasprintf("@%lld", epoch);
	char *argv[] = {"find", (char *)dir, "-exec", "touch", "-h", "-d", at, "{}", "+", NULL};
	int r = run_tool(argv, log, "dating the ISO tree", d);

	free(at);
	return r;
}

static int run_xorriso(const char *tree, const char *work, const char *grub, const char *out, const char *volid,
		       long long epoch, const char *log, struct diag *d)
{
	char date[32], *graft = xasprintf("boot/grub/i386-pc/eltorito.img=%s/eltorito.img", work);
	char *efi = xasprintf("%s/efi.img", work), *mbr = xasprintf("%s/" GRUB_PC_DIR "/boot_hybrid.img", grub), *moddate;
	time_t t = (time_t)epoch;
	struct tm tm;
	int r;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y%m%d%H%M%S00", &tm);
	moddate = xasprintf("--modification-date=%s", date);
	/* -no-pad: no 300 KiB of zeros after the file system (against read-ahead past a CD's end,
	 * where the appended EFI image lies anyway). */
	char *argv[] = {"xorriso", "-as", "mkisofs", "-o", (char *)out, "-iso-level", "3", "-r", "-V", (char *)volid,
			moddate, "-no-pad", "--grub2-mbr", mbr,
			"-append_partition", "2", "0xef", efi, "-appended_part_as_gpt",
			"-c", "boot/boot.cat", "--boot-catalog-hide",
			"-b", "boot/grub/i386-pc/eltorito.img", "-no-emul-boot", "-boot-load-size", "4",
			"-boot-info-table", "--grub2-boot-info",
			"-eltorito-alt-boot", "-e", "--interval:appended_partition_2:all::", "-no-emul-boot",
			"-graft-points", (char *)tree, graft, NULL};
	r = run_tool(argv, log, "assembling the ISO", d);
	free(graft), free(efi), free(mbr), free(moddate);
	return r;
}

int iso_boot_images(const char *work, const char *grub, long long epoch, struct sign_keys *k, struct diag *d)
{
	char *log = xasprintf("%s/iso.log", work), *cfg = xasprintf("%s/early.cfg", work);
	int r = 0;

	unlink(log);
	if (write_early_cfg(cfg, epoch) < 0)
		r = diag_set(d, cfg, 0, "cannot write: %s", strerror(errno));
	if (r == 0)
		r = make_cores(work, grub, k, epoch, log, d);
	if (r == 0)
		r = make_efi_img(work, epoch, log, d);
	free(log);
	free(cfg);
	return r;
}

int iso_assemble(const char *tree, const char *work, const char *grub, const char *iso, const char *volid,
		 long long epoch, struct diag *d)
{
	char *log = xasprintf("%s/iso.log", work);
	int r = iso_set_dates(tree, epoch, log, d);

	if (r == 0)
		r = iso_set_dates(work, epoch, log, d);
	if (r == 0)
		r = run_xorriso(tree, work, grub, iso, volid, epoch, log, d);
	free(log);
	return r;
}
