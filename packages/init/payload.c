/* Step 3: attach /system.sqfs to a read-only loop device and mount it at /system. */
#define _GNU_SOURCE
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_alg.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "medium.h"

#define PAYLOAD_FILE "/system.sqfs"
/* Written by imgbuild into the initramfs, which GRUB verified: the payload's sha256. */
#define PAYLOAD_SUM "/etc/system.sqfs.sha256"
#define SHA256_HEX 64

/* AF_ALG's hash socket: the sha256 of bytes sent to it (with MSG_MORE), read back as 32 bytes. */
static int alg_sha256_open(void)
{
	struct sockaddr_alg sa = {.salg_family = AF_ALG, .salg_type = "hash", .salg_name = "sha256"};
	int tfm = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), op = -1;

	if (tfm >= 0 && bind(tfm, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		op = accept4(tfm, NULL, NULL, SOCK_CLOEXEC);
	if (tfm >= 0)
		close(tfm);
	return op;
}

/* Send the n bytes at p to the hash socket; the digest is taken by reading it afterwards. */
static int alg_send_all(int op, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(op, p, n > (1 << 20) ? (1 << 20) : n, MSG_MORE);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* path mapped whole, read-only (the mapping outlives the descriptor); NULL with the error logged. */
static void *map_file(const char *path, size_t *ret_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *map = MAP_FAILED;
	const char *why = NULL;

	if (fd < 0 || fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (st.st_size == 0)
		why = "empty file";
	else if ((map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		why = strerror(errno);
	if (fd >= 0)
		close(fd);
	if (why) {
		log_error("cannot read %s: %s", path, why);
		return NULL;
	}
	*ret_size = (size_t)st.st_size;
	return map;
}

/* The digest of what was sent to op, as hex. 0, or -1. */
static int alg_digest_hex(int op, char hex[SHA256_HEX + 1])
{
	unsigned char md[32];

	if (read(op, md, sizeof(md)) != (ssize_t)sizeof(md))
		return -1;
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static void alg_missing(const char *path)
{
	log_error("cannot hash %s: the kernel's sha256 (AF_ALG) is not there: %s; build the kernel with "
		  "CONFIG_CRYPTO_USER_API_HASH and CONFIG_CRYPTO_SHA256", path, strerror(errno));
}

/* The sha256 of path into hex, by the kernel's crypto API (AF_ALG, CONFIG_CRYPTO_USER_API_HASH):
 * the initramfs needs no sha256sum, and init no hash of its own. 0, or -1 with the error logged. */
static int sha256_file(const char *path, char hex[SHA256_HEX + 1])
{
	int op = alg_sha256_open(), r = -1;
	size_t size = 0;
	void *map = NULL;

	if (op < 0)
		alg_missing(path);
	else if ((map = map_file(path, &size)) && (alg_send_all(op, map, size) < 0 || alg_digest_hex(op, hex) < 0))
		log_error("hashing %s with the kernel's sha256 failed: %s", path, strerror(errno));
	else if (map)
		r = 0;
	if (map)
		munmap(map, size);
	if (op >= 0)
		close(op);
	return r;
}

/* The payload must be the one this initramfs was built with: GRUB checked the initramfs (and the
 * payload's own signature), this ties the two together before anything of the payload is used.
 * got: the payload's sha256, hashed as it was copied from the boot medium; "" to hash it here. */
static const char *payload_verify(const char *got)
{
	char want[SHA256_HEX + 16], hashed[SHA256_HEX + 1];
	ssize_t n = sysfile_read(PAYLOAD_SUM, want, sizeof(want));

	if (n < SHA256_HEX) {
		log_error("cannot read %s: %s; the image builder writes the payload's sha256 there: rebuild the image",
			  PAYLOAD_SUM, n < 0 ? strerror((int)-n) : "too short");
		return "payload-tampered";
	}
	if (!got[0] && sha256_file(PAYLOAD_FILE, hashed) < 0)
		return "payload-tampered";
	if (!got[0])
		got = hashed;
	if (memcmp(want, got, SHA256_HEX) != 0) {
		log_error("%s has sha256 %s, but this image's is %.64s; the payload was altered or belongs to "
			  "another image: boot the other bank or reinstall this one", PAYLOAD_FILE, got, want);
		return "payload-tampered";
	}
	return NULL;
}

static int loop_get_free(void)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int nr;

	if (ctl < 0)
		return -errno;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	nr = nr < 0 ? -errno : nr;
	close(ctl);
	return nr;
}

/*
 * AUTOCLEAR detaches the device when its last user goes, so a failed mount leaves nothing behind
 * and an unmount needs no losetup -d.
 */
static int loop_configure(int loop_fd, int file_fd)
{
	struct loop_config cfg = { .fd = (unsigned int)file_fd };
	struct loop_info64 *info = &cfg.info;

	info->lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
	snprintf((char *)info->lo_file_name, sizeof(info->lo_file_name), "%s", PAYLOAD_FILE);
	if (ioctl(loop_fd, LOOP_CONFIGURE, &cfg) == 0)
		return 0;
	/* Kernels before 5.8 lack LOOP_CONFIGURE: the older two-call form does the same. */
	if (errno != EINVAL && errno != ENOTTY)
		return -errno;
	if (ioctl(loop_fd, LOOP_SET_FD, file_fd) < 0)
		return -errno;
	if (ioctl(loop_fd, LOOP_SET_STATUS64, info) < 0) {
		int err = -errno;

		ioctl(loop_fd, LOOP_CLR_FD, 0);
		return err;
	}
	return 0;
}

/* Attach file_fd to a free loop device, whose path goes to dev; the open loop fd or -errno. */
static int loop_attach(int file_fd, char *dev, size_t size)
{
	int err = -EBUSY;

	/* Another process may grab the free device between GET_FREE and the attach: retry then. */
	for (int tries = 0; tries < 3 && err == -EBUSY; tries++) {
		int nr = loop_get_free(), loop_fd;

		if (nr < 0)
			return nr;
		snprintf(dev, size, "/dev/loop%d", nr);
		loop_fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (loop_fd < 0)
			return -errno;
		err = loop_configure(loop_fd, file_fd);
		if (err == 0)
			return loop_fd;
		close(loop_fd);
	}
	return err;
}

static const char *payload_mount_on(const char *dev)
{
	int err;

	if (mkdir(SYSTEM_ROOT, 0755) < 0 && errno != EEXIST) {
		log_error("cannot create %s: %s; the initramfs root must be writable", SYSTEM_ROOT,
			  strerror(errno));
		return "payload-mount-failed";
	}
	if (mount(dev, SYSTEM_ROOT, "squashfs", MS_RDONLY, NULL) == 0)
		return NULL;
	err = errno;
	log_error("cannot mount %s (%s) on %s: %s; %s", PAYLOAD_FILE, dev, SYSTEM_ROOT, strerror(err),
		  err == ENODEV ? "list kernel/fs/squashfs/squashfs.ko in /etc/modules.load"
				: "check that it is a squashfs image in a compression the kernel reads");
	return "payload-mount-failed";
}

/* The payload's /etc files that the initramfs's /etc lacks (/etc/services, state.list, ...)
 * appear there as links; the initramfs's own, and what the configuration writes later, win. */
static void etc_link(void)
{
	DIR *dp = opendir(SYSTEM_ROOT "/etc");
	struct dirent *e;

	while (dp && (e = readdir(dp))) {
		char from[300], to[300];
		if (e->d_name[0] == '.')
			continue;
		snprintf(from, sizeof(from), "%s/etc/%s", SYSTEM_ROOT, e->d_name);
		snprintf(to, sizeof(to), "/etc/%s", e->d_name);
		if (symlink(from, to) < 0 && errno != EEXIST)
			log_error("cannot link %s to %s: %s, ignoring", to, from, strerror(errno));
	}
	if (dp)
		closedir(dp);
}

/* The payload's /usr, /lib64 (glibc's loader, for the dynamically linked programs) and /bin (busybox
 * and its applets, the shell of scripts and consoles) appear at their usual paths; the initramfs
 * has none of them. */
static void payload_link(void)
{
	static const char *const dirs[] = {"usr", "lib64", "bin"};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char from[32], to[32];
		snprintf(from, sizeof(from), "%s/%s", SYSTEM_ROOT, dirs[i]);
		snprintf(to, sizeof(to), "/%s", dirs[i]);
		if (access(from, F_OK) == 0 && symlink(from, to) < 0 && errno != EEXIST)
			log_error("cannot link %s to %s: %s, ignoring", to, from, strerror(errno));
	}
	etc_link();
}

/* Copy size bytes of in at off to out, each piece also sent to the hash socket op: the medium's
 * reads (the kernel reads ahead) overlap the hashing. 0, or -1 with errno. */
static int copy_hashing(int in, uint64_t off, uint64_t size, int out, int op)
{
	static char buf[1 << 20];

	while (size > 0) {
		ssize_t n = pread(in, buf, size < sizeof(buf) ? (size_t)size : sizeof(buf), (off_t)off);
		if (n <= 0)
			return n == 0 ? (errno = EIO, -1) : -1;
		if (sysfile_write_all(out, buf, (size_t)n) < 0 || alg_send_all(op, (unsigned char *)buf, (size_t)n) < 0)
			return -1;
		off += (uint64_t)n;
		size -= (uint64_t)n;
	}
	return 0;
}

/* Copy the squashfs out of the payload cpio at path into PAYLOAD_FILE, hashing it on the way
 * (its sha256 into got); NULL or a reason. */
static const char *payload_copy(const char *path, const char *dev, char got[SHA256_HEX + 1])
{
	int in = open(path, O_RDONLY | O_CLOEXEC), out = -1, op = -1, r = -1;
	unsigned char head[512];
	uint64_t off = 0, size = 0;
	ssize_t n = in < 0 ? -1 : pread(in, head, sizeof(head), 0);

	if (n < 0 || medium_cpio_member(head, (size_t)n, MEDIUM_PAYLOAD_MEMBER, &off, &size) < 0) {
		log_error("%s on the boot medium %s is %s; boot from the medium this image was written to, or "
			  "write the ISO again", path, dev, n < 0 ? strerror(errno) : "not a cpio holding " MEDIUM_PAYLOAD_MEMBER);
		if (in >= 0)
			close(in);
		return "payload-missing";
	}
	if ((op = alg_sha256_open()) < 0) {
		alg_missing(PAYLOAD_FILE);
		close(in);
		return "payload-tampered";
	}
	out = open(PAYLOAD_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (out >= 0)
		r = copy_hashing(in, off, size, out, op) < 0 || alg_digest_hex(op, got) < 0 ? -1 : 0;
	if (r < 0)
		log_error("cannot copy the payload from %s on %s into %s: %s; the medium may be damaged, or RAM "
			  "short", path, dev, PAYLOAD_FILE, strerror(errno));
	close(in);
	close(op);
	if (out >= 0)
		close(out);
	if (r < 0 && out >= 0)
		unlink(PAYLOAD_FILE);
	return r < 0 ? "payload-missing" : NULL;
}

/* The ISO's GRUB leaves the payload on the medium (MEDIUM_PAYLOAD_ARG): GRUB reads it over the
 * firmware's disk calls, far slower than the kernel's driver. Copied into RAM, so the host does
 * not need the medium once booted; hashed as it is copied, payload_verify() compares that hash. */
static const char *payload_fetch(char got[SHA256_HEX + 1])
{
	char dev[300];
	const char *reason;
	int err = medium_mount(dev, sizeof(dev));

	if (err == -ENODEV) {
		log_error("cannot find the boot medium (the ISO 9660 volume " MEDIUM_VOLUME ") that holds the "
			  "payload; the profile's drivers must include the medium's (storage-disk for a CD, "
			  "storage-usb for a stick)");
		return "no-boot-medium";
	}
	if (err < 0) {
		log_error("cannot mount the boot medium %s at %s: %s; /run must be writable and the image "
			  "profile's modules must hold isofs", dev, MEDIUM_MOUNT, strerror(-err));
		return "medium-mount-failed";
	}
	reason = payload_copy(MEDIUM_MOUNT "/" MEDIUM_PAYLOAD, dev, got);
	if (umount(MEDIUM_MOUNT) < 0)
		log_error("cannot unmount the boot medium %s: %s, ignoring", dev, strerror(errno));
	if (!reason)
		log_info("payload read from the boot medium %s", dev);
	return reason;
}

/* Whether the kernel command line says the payload is on the boot medium. */
static bool payload_on_medium(void)
{
	char text[4096];

	return sysfile_read("/proc/cmdline", text, sizeof(text)) > 0 && sysfile_cmdline_flag(text, MEDIUM_PAYLOAD_ARG);
}

const char *payload_mount(struct boot_state *st)
{
	int file_fd, loop_fd;
	const char *reason;
	char dev[32], got[SHA256_HEX + 1] = "";

	(void)st;
	if (access(PAYLOAD_FILE, F_OK) < 0 && payload_on_medium() && (reason = payload_fetch(got)))
		return reason;
	file_fd = open(PAYLOAD_FILE, O_RDONLY | O_CLOEXEC);
	if (file_fd < 0) {
		log_error("cannot open %s: %s; the bootloader must load the bank's system.sqfs as a "
			  "second initrd", PAYLOAD_FILE, strerror(errno));
		return "payload-missing";
	}
	if ((reason = payload_verify(got))) {
		close(file_fd);
		return reason;
	}
	loop_fd = loop_attach(file_fd, dev, sizeof(dev));
	close(file_fd); /* the loop device holds its own reference to the file */
	if (loop_fd < 0) {
		log_error("cannot attach %s to a loop device: %s; list kernel/drivers/block/loop.ko in "
			  "/etc/modules.load or build the kernel with BLK_DEV_LOOP", PAYLOAD_FILE,
			  strerror(-loop_fd));
		return "loop-failed";
	}
	reason = payload_mount_on(dev);
	/* Only now: with AUTOCLEAR, closing the last opener before mount(2) would detach the device. */
	close(loop_fd);
	if (!reason)
		payload_link();
	return reason;
}
