/* installer: writes the disk layout of docs/disk-layout.md (bank A holding this build) to a local
 * disk, as ESXi's installer does, a program apart from the boot: init starts it after BOOT-OK when
 * the kernel command line says `installer` (the ISO's "Install to local disk" entry, which also
 * loads /install.img, image/hvimg.h, as an extra initrd). With an answer file ks.cfg on a FAT
 * volume labelled KS it asks nothing. Static with musl, like init. */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

#include "bootstate.h"
#include "extents.h"
#include "gpt.h"
#include "hvimg.h"
#include "ks.h"
#include "medium.h"
#include "sysfile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define IMAGE "/install.img"
#define SHA256SUM "/bin/sha256sum"
#define MAX_DISKS 16
#define PART_WAIT_MS 5000 /* for the kernel to read the table just written */

struct disk {
	char name[32], model[64];
	unsigned long long bytes;
};

/* "installer: <what is wrong>; <what to do>" on the console, as one write. */
static void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_error(const char *fmt, ...)
{
	char line[512] = "installer: ";
	size_t len = strlen(line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	va_end(ap);
	len = strlen(line);
	line[len++] = '\n';
	sysfile_write_all(STDERR_FILENO, line, len);
}

/* Lines for tests and people on ttyS0, like BOOT-OK. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int fd = sysfile_tty_open("/dev/ttyS0", O_WRONLY), n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	sysfile_write_all(fd >= 0 ? fd : STDOUT_FILENO, line, (size_t)n);
	if (fd >= 0)
		close(fd);
}

/* A FAT boot sector whose volume label is "KS". */
static bool is_ks_volume(const char *dev)
{
	unsigned char b[512];

	if (!sysfile_read_at(dev, 0, b, sizeof(b)) || b[510] != 0x55 || b[511] != 0xaa)
		return false;
	return memcmp(b + 0x2b, "KS         ", 11) == 0 || memcmp(b + 0x47, "KS         ", 11) == 0;
}

static void sys_text(const char *path, char *out, size_t size)
{
	ssize_t n = sysfile_read(path, out, size);

	out[n > 0 ? n : 0] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

/* The whole disk a block device belongs to ("vdb" for "vdb1"). */
static void disk_of(const char *blk, char *out, size_t size)
{
	char link[300], target[4096];

	snprintf(link, sizeof(link), "/sys/class/block/%.200s/partition", blk);
	snprintf(out, size, "%.31s", blk);
	if (access(link, F_OK) != 0)
		return;
	snprintf(link, sizeof(link), "/sys/class/block/%.200s/..", blk);
	if (realpath(link, target) && strrchr(target, '/'))
		snprintf(out, size, "%.31s", strrchr(target, '/') + 1);
}

/* Find the KS volume, read its ks.cfg into text; ks_disk names the disk holding it. */
static bool ks_find(char *text, size_t size, char *ks_disk, size_t ds)
{
	DIR *dp = opendir("/sys/class/block");
	struct dirent *e;
	char dev[300], path[320];
	bool found = false;

	while (dp && !found && (e = readdir(dp))) {
		snprintf(dev, sizeof(dev), "/dev/%.200s", e->d_name);
		if (e->d_name[0] == '.' || !is_ks_volume(dev))
			continue;
		mkdir("/run/ks", 0700);
		if (mount(dev, "/run/ks", "vfat", MS_RDONLY, "") < 0) {
			log_error("cannot mount the KS volume %s: %s", dev, strerror(errno));
			continue;
		}
		snprintf(path, sizeof(path), "/run/ks/ks.cfg");
		found = sysfile_read(path, text, size) >= 0;
		if (!found)
			log_error("the KS volume %s has no ks.cfg; put the answer file at its root", dev);
		umount("/run/ks");
		disk_of(e->d_name, ks_disk, ds);
	}
	if (dp)
		closedir(dp);
	return found;
}

static bool candidate(const char *name, const char *ks_disk)
{
	static const char *const skip[] = {"loop", "ram", "sr", "zram", "dm-", "md", "fd"};
	char dev[64];

	for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
		if (strncmp(name, skip[i], strlen(skip[i])) == 0)
			return false;
	snprintf(dev, sizeof(dev), "/dev/%.50s", name);
	return strcmp(name, ks_disk) != 0 && !medium_is_boot(dev);
}

/* The disks one may install to: not the boot medium, not the KS volume's disk. */
static int disks_list(struct disk *out, const char *ks_disk)
{
	DIR *dp = opendir("/sys/block");
	struct dirent *e;
	char path[300], text[64];
	int n = 0;

	while (dp && n < MAX_DISKS && (e = readdir(dp))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(out[n].name) || !candidate(e->d_name, ks_disk))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/size", e->d_name);
		sys_text(path, text, sizeof(text));
		out[n].bytes = strtoull(text, NULL, 10) * 512;
		snprintf(path, sizeof(path), "/sys/block/%s/device/model", e->d_name);
		sys_text(path, out[n].model, sizeof(out[n].model));
		if (out[n].bytes == 0)
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%.31s", e->d_name);
		n++;
	}
	if (dp)
		closedir(dp);
	/* /sys order is creation order; sort by name so that --firstdisk is stable (sda before sdb). */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(out[j - 1].name, out[j].name) > 0; j--) {
			struct disk t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

static int ask_disk(const struct disk *d, int n)
{
	char line[32];

	say("Disks you can install to:");
	for (int i = 0; i < n; i++)
		say("  %d) %-8s %8.1f GiB  %s", i + 1, d[i].name, d[i].bytes / 1073741824.0, d[i].model[0] ? d[i].model : "");
	say("Install on which disk? [1-%d]", n);
	if (!fgets(line, sizeof(line), stdin) || atoi(line) < 1 || atoi(line) > n)
		return -1;
	say("This erases everything on %s. Type YES to continue:", d[atoi(line) - 1].name);
	int pick = atoi(line) - 1;
	if (!fgets(line, sizeof(line), stdin) || strncmp(line, "YES", 3) != 0)
		return -1;
	return pick;
}

static int pick_disk(const struct ks_config *ks, const struct disk *d, int n)
{
	if (!ks)
		return ask_disk(d, n);
	if (ks->disk == KS_DISK_FIRST)
		return n > 0 ? 0 : -1;
	for (int i = 0; i < n; i++) {
		const char *want = strncmp(ks->disk_name, "/dev/", 5) == 0 ? ks->disk_name + 5 : ks->disk_name;
		if (strcmp(d[i].name, want) == 0 || (d[i].model[0] && strcmp(d[i].model, want) == 0))
			return i;
	}
	return -1;
}

/* Run argv with input on its stdin; what it prints (up to size - 1 bytes) into out, NUL-terminated.
 * Whether it ran and exited 0. */
static bool pipe_through(char *const argv[], const void *input, size_t len, char *out, size_t size)
{
	int in[2] = {-1, -1}, res[2] = {-1, -1}, status = 0;
	pid_t pid = pipe(in) == 0 && pipe(res) == 0 ? fork() : -1;
	size_t got = 0;
	ssize_t n;

	if (pid == 0) {
		dup2(in[0], 0), dup2(res[1], 1);
		close(in[0]), close(in[1]), close(res[0]), close(res[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 2; i++)
		if ((i ? res[1] : in[0]) >= 0)
			close(i ? res[1] : in[0]);
	if (pid > 0)
		sysfile_write_all(in[1], input, len); /* SIGPIPE is ignored: a child that stops early fails below */
	if (in[1] >= 0)
		close(in[1]);
	while (pid > 0 && got + 1 < size && ((n = read(res[0], out + got, size - 1 - got)) > 0 || (n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	if (res[0] >= 0)
		close(res[0]);
	out[got] = '\0';
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct image {
	unsigned char *data;   /* the whole of /install.img, in RAM already as part of the initramfs */
	size_t len;
	struct hvimg2 h;       /* its header */
	size_t pos;            /* the next literal byte of data to hand out */
	size_t cur;            /* the extent the last read fell in */
	char **file;           /* file[i]: the boot medium's h.file[i], read whole and checked */
};

static const char *image_open(struct image *im)
{
	int fd = open(IMAGE, O_RDONLY | O_CLOEXEC);
	off_t len = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	const char *why = NULL;

	if (len < HVIMG2_HEADER || !(im->data = malloc((size_t)len)) || pread(fd, im->data, (size_t)len, 0) != len) {
		log_error("cannot read %s; boot the ISO's \"Install to local disk\" entry, which loads it", IMAGE);
		if (fd >= 0)
			close(fd);
		return "no-install-image";
	}
	close(fd);
	im->len = (size_t)len;
	if (hvimg2_parse(im->data, im->len, &im->h, &why) < 0 || im->h.img.header_len + im->h.img.data_bytes > im->len) {
		log_error("%s is not an installer image (%s); rebuild the ISO", IMAGE, why ? why : "its data is cut short");
		return "bad-install-image";
	}
	im->pos = im->h.img.header_len;
	return NULL;
}

static void image_close(struct image *im)
{
	for (size_t i = 0; im->file && i < im->h.nfiles; i++)
		free(im->file[i]);
	free(im->file);
	hvimg2_free(&im->h);
	free(im->data);
}

/* The next bytes of the extent holding off: literal bytes of the image, or a file's range. */
static int image_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct image *im = ctx;
	const struct hvimg_extent *e;
	const struct hvimg2_source *s;

	while (im->cur < im->h.img.n && off >= im->h.img.ext[im->cur].offset + im->h.img.ext[im->cur].length)
		im->cur++;
	if (im->cur == im->h.img.n)
		return -EIO;
	e = &im->h.img.ext[im->cur];
	s = &im->h.src[im->cur];
	if (off < e->offset || n > e->offset + e->length - off)
		return -EIO;
	if (s->file != HVIMG2_LITERAL) {
		memcpy(buf, im->file[s->file] + s->file_offset + (off - e->offset), n);
		return 0;
	}
	if (n > im->len - im->pos)
		return -EIO;
	memcpy(buf, im->data + im->pos, n);
	im->pos += n;
	return 0;
}

static int image_rewind(void *ctx)
{
	struct image *im = ctx;

	im->pos = im->h.img.header_len;
	im->cur = 0;
	return 0;
}

/* Whether data's sha256 (busybox's sha256sum, as init checks the payload) is want: 1 or 0; -1
 * when it cannot be computed. */
static int sha256_check(const void *data, size_t len, const unsigned char want[32])
{
	char *argv[] = {SHA256SUM, NULL}, got[80], hex[65];

	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", want[i]);
	if (!pipe_through(argv, data, len, got, sizeof(got)) || strlen(got) < 64)
		return -1;
	return strncmp(got, hex, 64) == 0;
}

/* File i of the image, read whole from the mounted medium and checked against its size and sha256. */
static const char *medium_file(struct image *im, size_t i, const char *dev)
{
	const struct hvimg2_file *f = &im->h.file[i];
	char path[HVIMG2_PATH + 16];
	struct stat st;
	int fd, ok;

	snprintf(path, sizeof(path), MEDIUM_MOUNT "/%s", f->path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ok = fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size == f->size &&
	     (im->file[i] = malloc(f->size ? f->size : 1)) && pread(fd, im->file[i], f->size, 0) == (ssize_t)f->size;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		log_error("/%s on the boot medium %s is missing, unreadable or not %llu bytes; boot the installer "
			  "from the medium it came on", f->path, dev, (unsigned long long)f->size);
		return "wrong-medium";
	}
	if ((ok = sha256_check(im->file[i], f->size, f->sha256)) < 0) {
		log_error("cannot run %s to check /%s; the initramfs needs busybox's sha256sum", SHA256SUM, f->path);
		return "hash-failed";
	}
	if (!ok) {
		log_error("/%s on the boot medium %s is not the file this installer was built with (its sha256 "
			  "differs); boot the installer from the medium it came on", f->path, dev);
		return "wrong-medium";
	}
	return NULL;
}

/* The files the image names, from the boot medium mounted read-only, before anything is written. */
static const char *medium_load(struct image *im)
{
	const char *reason = NULL;
	char dev[300];
	int err;

	if (im->h.nfiles == 0)
		return NULL;
	if ((err = medium_mount(dev, sizeof(dev))) == -ENODEV) {
		log_error("cannot find the boot medium (the ISO 9660 volume " MEDIUM_VOLUME "), which holds the files "
			  "the install writes; boot the installer from the ISO, as a CD or written to a USB stick");
		return "no-boot-medium";
	}
	if (err < 0) {
		log_error("cannot mount the boot medium %s: %s; the image profile's modules must hold isofs "
			  "(and sr_mod for a CD)", dev, strerror(-err));
		return "medium-mount-failed";
	}
	if (!(im->file = calloc(im->h.nfiles, sizeof(*im->file))))
		reason = "out-of-memory";
	for (size_t i = 0; i < im->h.nfiles && !reason; i++)
		reason = medium_file(im, i, dev);
	umount(MEDIUM_MOUNT);
	return reason;
}

/* Every extent written, flushed, read back and compared (image/extents.h). */
static const char *image_write(struct image *im, int fd)
{
	struct extents_source src = {.read = image_read, .rewind = image_rewind, .ctx = im};
	enum extents_step step = 0;
	int r;

	image_rewind(im);
	r = extents_write(fd, /* base= */ 0, im->h.img.ext, im->h.img.n, &src, /* progress= */ NULL, &step);
	if (r == 0)
		return NULL;
	log_error("%s the disk failed: %s; the disk may be failing, try another",
		  step == EXTENTS_WRITE ? "writing" : step == EXTENTS_FLUSH ? "flushing" : "reading back",
		  step == EXTENTS_MISMATCH ? "it did not read back as written" : strerror(-r));
	return step == EXTENTS_WRITE ? "write-failed" : step == EXTENTS_FLUSH ? "flush-failed" : "verify-failed";
}

static void salt(char *out, size_t n)
{
	static const char abc[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char r[16] = {0};

	if (!sysfile_read_at("/dev/urandom", 0, r, sizeof(r)))
		r[0] = (unsigned char)time(NULL);
	for (size_t i = 0; i + 1 < n && i < sizeof(r); i++)
		out[i] = abc[r[i] % 64];
	out[n - 1 < sizeof(r) ? n - 1 : sizeof(r)] = '\0';
}

/* SHA-512 crypt through busybox's mkpasswd (musl as Debian builds it has no crypt()); the
 * password goes through a pipe, never the command line. */
static bool hash_password(const char *pw, char *out, size_t size)
{
	char s[17], *argv[] = {"/bin/mkpasswd", "-m", "sha512", "-S", s, NULL};

	salt(s, sizeof(s));
	if (!pipe_through(argv, pw, strlen(pw), out, size))
		return false;
	out[strcspn(out, "\n")] = '\0';
	return strncmp(out, "$6$", 3) == 0;
}

/* What ks.cfg set that the system applies later: /state/install.conf on the persist partition. */
static const char *config_write(const char *disk, const struct ks_config *ks, const char *hash)
{
	char dev[64], text[1024];
	int fd, n;

	if (!gpt_part_wait(disk, "persist", dev, sizeof(dev), PART_WAIT_MS) || (mkdir("/run/persist", 0700), 0) ||
	    mount(dev, "/run/persist", "vfat", 0, "") < 0) {
		log_error("cannot mount the new persist partition of %s: %s", disk, strerror(errno));
		return "persist-mount-failed";
	}
	n = snprintf(text, sizeof(text), "# Written by the installer from ks.cfg; applied by the management daemon.\n"
		     "rootpw=%s\nnetwork=%s\nip=%s\nnetmask=%s\ngateway=%s\nnameserver=%s\nhostname=%s\n",
		     hash, ks->dhcp ? "dhcp" : "static", ks->ip, ks->netmask, ks->gateway, ks->nameserver,
		     ks->hostname);
	fd = open("/run/persist/state/install.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && sysfile_write_all(fd, text, (size_t)n) == 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	umount("/run/persist");
	return ok ? NULL : "config-write-failed";
}

static bool file_put(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && sysfile_write_all(fd, text, len) == 0 && fsync(fd) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* The first-boot files on the new bank A: firstboot.conf (ks.cfg's settings, the password as its
 * sha512-crypt hash only) and firstboot.sh (the %firstboot section), which hostcfg restore applies
 * and runs once (packages/hostcfg). */
static const char *firstboot_write(const char *disk, const struct ks_config *ks, const char *hash)
{
	char dev[64], text[1024];
	int n = ks_firstboot_conf(ks, hash, text, sizeof(text));
	bool ok;

	mkdir("/run/bank-a", 0700);
	if (!gpt_part_wait(disk, "bank-a", dev, sizeof(dev), PART_WAIT_MS) || mount(dev, "/run/bank-a", "vfat", 0, "") < 0) {
		log_error("cannot mount the new bank A of %s: %s; install again", disk, strerror(errno));
		return "bank-mount-failed";
	}
	ok = n > 0 && (size_t)n < sizeof(text) && file_put("/run/bank-a/firstboot.conf", text, (size_t)n) &&
	     (!ks->firstboot[0] || file_put("/run/bank-a/firstboot.sh", ks->firstboot, strlen(ks->firstboot)));
	umount("/run/bank-a");
	if (!ok)
		log_error("cannot write the first-boot settings on bank A of %s: %s; install again", disk, strerror(errno));
	return ok ? NULL : "firstboot-write-failed";
}

/* ks.cfg's settings onto the installed disk; the plain password only ever becomes its hash. */
static const char *settings_write(const char *disk, const struct ks_config *ks)
{
	char hashed[256];
	const char *reason;

	if (ks->rootpw_crypted)
		snprintf(hashed, sizeof(hashed), "%s", ks->rootpw);
	else if (!hash_password(ks->rootpw, hashed, sizeof(hashed)))
		return "config-write-failed";
	if (!(reason = config_write(disk, ks, hashed)))
		reason = firstboot_write(disk, ks, hashed);
	return reason;
}

/* The datastore (docs/vms.md): the rest of the disk after the image's end, GPT name
 * DATASTORE, ext4 made by Debian's mke2fs. A disk installed before keeps its datastore (and the
 * VMs on it) when the new one starts where the old one did and ks.cfg has no --overwritevmfs. */
#define DATASTORE "datastore1"
#define DATASTORE_MIN (256ull << 20)
#define MKE2FS "/usr/sbin/mke2fs"

/* The first sector of the disk's existing ext4 datastore, or 0 when it has none. */
static uint64_t datastore_old(const char *disk)
{
	char dev[64], path[128], text[32];
	unsigned char magic[2];

	if (!gpt_part_dev(disk, DATASTORE, dev, sizeof(dev)) ||
	    !sysfile_read_at(dev, 1024 + 56, magic, sizeof(magic)) || magic[0] != 0x53 || magic[1] != 0xef)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/block/%.40s/start", dev + 5);
	sys_text(path, text, sizeof(text));
	return strtoull(text, NULL, 10);
}

/* The datastore's GPT entry, on fd after the image and the GPT's move; 1 when the disk has no room. */
static int datastore_add(int fd, const struct disk *d, uint64_t from, uint64_t *first)
{
	unsigned char guid[16] = {0};
	const char *why = "";
	int r;

	if (!sysfile_read_at("/dev/urandom", 0, guid, sizeof(guid)))
		guid[0] = (unsigned char)time(NULL);
	guid[7] = (unsigned char)((guid[7] & 0x0f) | 0x40), guid[8] = (unsigned char)((guid[8] & 0x3f) | 0x80);
	r = gpt_add_rest(fd, d->bytes, from, DATASTORE, guid, DATASTORE_MIN, first, &why);
	if (r < 0)
		log_error("cannot add the datastore partition to /dev/%s: %s; the host works without one", d->name, why);
	else if (r == 1)
		say("installer: %s has less than 256 MiB after the system: no datastore", d->name);
	return r;
}

/* Format the datastore unless it is the old one, kept. */
static const char *datastore_format(const char *disk, bool keep)
{
	char dev[64], out[2048];
	char *argv[] = {MKE2FS, "-q", "-F", "-t", "ext4", "-L", DATASTORE, "-m", "0", dev, NULL};

	if (!gpt_part_wait(disk, DATASTORE, dev, sizeof(dev), PART_WAIT_MS)) {
		log_error("the new datastore partition of %s did not appear; install again", disk);
		return "datastore-failed";
	}
	if (keep) {
		say("installer: keeping the datastore on %s (%s): its files stay; ks.cfg's install --overwritevmfs "
		    "formats it", dev, DATASTORE);
		return NULL;
	}
	say("installer: formatting %s as the datastore %s (ext4)", dev, DATASTORE);
	if (!pipe_through(argv, "", 0, out, sizeof(out))) {
		log_error("mke2fs %s failed: %s; the disk may be failing, try another", dev, out);
		return "datastore-failed";
	}
	return NULL;
}

static const char *install_to(struct image *im, const struct disk *d, uint64_t old_store, bool *store, bool *keep)
{
	char dev[64];
	const char *reason;
	int fd;

	if (d->bytes < im->h.img.disk_size) {
		log_error("%s holds %.1f GiB, the layout needs %.1f GiB; pick a larger disk", d->name,
			  d->bytes / 1073741824.0, im->h.img.disk_size / 1073741824.0);
		return "disk-too-small";
	}
	snprintf(dev, sizeof(dev), "/dev/%.32s", d->name);
	/* O_EXCL: refuses a disk with a mounted file system. */
	if ((fd = open(dev, O_RDWR | O_EXCL | O_CLOEXEC)) < 0) {
		log_error("cannot open %s for writing: %s; is it in use?", dev, strerror(errno));
		return "disk-busy";
	}
	say("installer: writing %s (%.1f GiB, %s)", d->name, d->bytes / 1073741824.0, d->model);
	reason = image_write(im, fd);
	const char *why;
	if (!reason && gpt_relocate(fd, d->bytes, &why) < 0) {
		log_error("cannot move the backup GPT to the end of %s: %s; the disk boots, but repair its table "
			  "with sfdisk --relocate gpt-bak-std", dev, why);
	}
	uint64_t first = 0;
	/* after the image's end: a reinstall writes the image again, never into a kept datastore */
	if (!reason && datastore_add(fd, d, im->h.img.disk_size / 512, &first) == 0) {
		*store = true;
		*keep = old_store && old_store == first;
	}
	if (!reason && ioctl(fd, BLKRRPART, 0) < 0)
		log_error("cannot re-read the partition table of %s: %s, ignoring", dev, strerror(errno));
	close(fd);
	return reason;
}

/* The installed disk's first boot state, through the boot-state commit (bootbank/bootstate.h):
 * bank A, which holds this build, good at generation 1; B empty. */
static const char *state_write(const char *disk)
{
	static const char *const paths[2] = {"/run/esp" BANK_ENV_PATH_A, "/run/esp" BANK_ENV_PATH_B};
	struct bootstate_copies c = {{-1, -1}, {0, 0}};
	char dev[64];
	int r = -ENOENT;

	mkdir("/run/esp", 0700);
	if (!gpt_part_wait(disk, "esp", dev, sizeof(dev), PART_WAIT_MS) || mount(dev, "/run/esp", "vfat", 0, "") < 0) {
		log_error("cannot mount the new ESP of %s: %s; the disk is not bootable, install again", disk, strerror(errno));
		return "esp-mount-failed";
	}
	for (int i = 0; i < 2; i++)
		c.fd[i] = open(paths[i], O_RDWR | O_CLOEXEC);
	r = bootstate_first(&c);
	for (int i = 0; i < 2; i++)
		if (c.fd[i] >= 0)
			close(c.fd[i]);
	umount("/run/esp");
	if (r == 0)
		return NULL;
	log_error("cannot write the boot state of %s: %s; install again", disk,
		  r == -EILSEQ ? "it did not read back as written" : strerror(-r));
	return "state-write-failed";
}

static void finish(const struct ks_config *ks, bool unattended)
{
	char line[8];

	sync();
	if (unattended && ks->end == KS_END_POWEROFF) {
		reboot(RB_POWER_OFF);
		return;
	}
	if (!unattended || ks->end == KS_END_NONE) {
		say("Remove the installation medium and press Enter to reboot.");
		if (!fgets(line, sizeof(line), stdin))
			line[0] = '\0';
	}
	reboot(RB_AUTOBOOT);
}

/* Unattended when a KS volume holds ks.cfg; its errors stop the install, never skip a line. */
static const char *load_answers(struct ks_config *ks, bool *unattended, char *ks_disk, size_t ds)
{
	static char text[16384];
	char err[256];

	*unattended = ks_find(text, sizeof(text), ks_disk, ds);
	if (*unattended && ks_parse(text, strlen(text), ks, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return "ks-invalid";
	}
	return NULL;
}

/* The version this ISO installs: VERSION_ID of the initramfs's /etc/os-release. */
static void version_read(char *out, size_t size)
{
	char text[4096];

	if (sysfile_read("/etc/os-release", text, sizeof(text)) < 0 ||
	    !sysfile_osrelease_value(text, "VERSION_ID", out, size))
		snprintf(out, size, "unknown");
}

/* Pick the disk, write it, its boot state and ks.cfg's settings; on success it reboots. */
static const char *install_steps(struct image *im, const struct ks_config *ks, bool unattended, const char *ks_disk,
				 const char **ret_disk)
{
	static struct disk disks[MAX_DISKS];
	char version[64];
	const char *reason;
	int n = disks_list(disks, ks_disk), pick;

	if (n == 0) {
		log_error("no local disk to install to (the boot medium and the KS volume are left alone)");
		return "no-disk";
	}
	if ((pick = pick_disk(unattended ? ks : NULL, disks, n)) < 0) {
		log_error(unattended ? "ks.cfg: no disk matches install --disk=%s" : "no disk chosen%s; nothing was written",
			  unattended ? ks->disk_name : "");
		return "no-disk-chosen";
	}
	*ret_disk = disks[pick].name;
	uint64_t old_store = unattended && ks->overwrite_datastore ? 0 : datastore_old(disks[pick].name);
	bool store = false, keep = false;
	if ((reason = install_to(im, &disks[pick], old_store, &store, &keep)) || (reason = state_write(disks[pick].name)) ||
	    (store && (reason = datastore_format(disks[pick].name, keep))) ||
	    (unattended && (reason = settings_write(disks[pick].name, ks))))
		return reason;
	version_read(version, sizeof(version));
	say("INSTALL-OK disk=%s version=%s", disks[pick].name, version);
	finish(ks, unattended);
	return NULL;
}

static const char *install_run(const char **ret_disk)
{
	struct ks_config ks = {0};
	struct image im = {0};
	struct timespec settle = {2, 0};
	char ks_disk[32] = "";
	bool unattended = false;
	const char *reason;

	nanosleep(&settle, NULL); /* disks appear a moment after their drivers load */
	if (!(reason = image_open(&im)) && !(reason = load_answers(&ks, &unattended, ks_disk, sizeof(ks_disk))) &&
	    !(reason = medium_load(&im)))
		reason = install_steps(&im, &ks, unattended, ks_disk, ret_disk);
	image_close(&im);
	return reason;
}

/* Exit status: 1 when nothing was installed (INSTALL-FAILED says why); after an install the
 * installer reboots or powers off and does not return. */
int main(void)
{
	const char *disk = "-", *reason;

	signal(SIGPIPE, SIG_IGN); /* a child of pipe_through() that stops reading fails by its status */
	reason = install_run(&disk);

	if (reason)
		say("INSTALL-FAILED reason=%s disk=%s", reason, disk);
	return 1;
}
