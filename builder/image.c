#define _GNU_SOURCE
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "bank.h"
#include "bundle.h"
#include "disk.h"
#include "drivers.h"
#include "extents.h"
#include "grub.h"
#include "hvimg-pack.h"
#include "initramfs.h"
#include "iso.h"
#include "kmod.h"
#include "medium.h"
#include "run.h"
#include "sign.h"
#include "tree.h"
#include "util.h"

/* Bump when the image layout changes, so that an old image is not taken as up to date. */
#define IMAGE_FORMAT "imgbuild-image/6"
#define GRUB_AB_TEMPLATE "bootbank/grub.cfg"
/* The initramfs GRUB loads first, on a bank and on the ISO. */
#define BOOT_INITRD "/boot/initrd.img"

/* Where one image is put together: out/images/<name>/{initramfs,system,iso,work}; grub is the
 * unpacked bootloader package (builder/grub.h). */
struct stage {
	char *top, *initramfs, *system, *tree, *work, *iso, *kver, *kdir, *grub;
	struct driver_family *drivers; /* the profile's driver families, what each added */
	size_t ndrivers;
};

char *image_iso_path(const struct image_opts *o, const struct profile *p)
{
	return xasprintf("%s/%s-%s.iso", o->out, p->name, o->version);
}

/* What a build leaves: the ISO, the disk image and the update bundle. */
static const char *const outputs[] = {"iso", "img", "bundle"};

static char *output_path(const struct image_opts *o, const struct profile *p, const char *ext)
{
	return xasprintf("%s/%s-%s.%s", o->out, p->name, o->version, ext);
}

static void remove_outputs(const struct image_opts *o, const struct profile *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(outputs); i++) {
		char *path = output_path(o, p, outputs[i]);
		unlink(path);
		free(path);
	}
}

static void stage_free(struct stage *s)
{
	free(s->top), free(s->initramfs), free(s->system), free(s->tree), free(s->work), free(s->iso);
	free(s->kver), free(s->kdir), free(s->grub);
	drivers_free(s->drivers, s->ndrivers);
	free(s->drivers);
}

/* The image key: its format, the profile, the version, the epoch and every package's key. */
static int image_key(const struct image_opts *o, const struct profile *p, const struct build *b,
		     struct sign_keys *k, char out[HASH_HEX_LEN], struct diag *d)
{
	struct hasher h;
	char epoch[32];
	int r;

	snprintf(epoch, sizeof(epoch), "%lld", o->epoch);
	hasher_init(&h);
	hasher_add_str(&h, IMAGE_FORMAT);
	hasher_add(&h, p->text, p->text_len);
	hasher_add_str(&h, o->version);
	hasher_add_str(&h, epoch);
	/* The signing key and keyring are inputs too (the key's certificate names it). */
	hasher_add_str(&h, o->trusted ? o->trusted : "");
	for (size_t i = 0; i < o->revoked.n; i++)
		hasher_add_str(&h, o->revoked.v[i]);
	hasher_add_str(&h, k->id);
	for (size_t i = 0; i < b->n; i++)
		hasher_add_str(&h, b->job[i].key);
	if (hash_file(GRUB_AB_TEMPLATE, out) == 0)
		hasher_add_str(&h, out);
	if ((r = hasher_end(&h, out)) < 0)
		return diag_set_errno(d, -r, p->path, 0, "cannot compute the image key (SHA-256); free some memory "
				      "and build again");
	return 0;
}

static int stage_packages(const struct namelist *l, struct build *b, const char *into, struct diag *d)
{
	for (size_t i = 0; i < l->names.n; i++) {
		struct job *j = build_find(b, l->names.v[i]);
		if (build_stage(j, d) < 0)
			return -EINVAL;
		if (tree_merge(j->dest, into) < 0)
			return diag_set(d, into, 0, "cannot copy package %s in", j->r->name);
	}
	return 0;
}

/* The kernel package holds one lib/modules/<version>; its name is the kernel's version. */
static int find_kernel(struct stage *s, struct job *k, struct diag *d)
{
	char *mods = xasprintf("%s/lib/modules", k->dest);
	DIR *dp = opendir(mods);
	struct dirent *e;

	while (dp && (e = readdir(dp)))
		if (e->d_name[0] != '.' && !s->kver)
			s->kver = xstrdup(e->d_name);
	if (dp)
		closedir(dp);
	free(mods);
	if (!s->kver)
		return diag_set(d, k->r->path, 0, "the kernel package has no lib/modules/<version>; install the modules there");
	s->kdir = xasprintf("%s/lib/modules/%s", k->dest, s->kver);
	return 0;
}

/* The bootloader package must hold what grub-mkimage and xorriso are given (builder/grub.h). */
static int find_grub(struct stage *s, const struct job *g, struct diag *d)
{
	static const char *const need[] = {GRUB_MKIMAGE, GRUB_PC_DIR "/boot.img", GRUB_PC_DIR "/boot_hybrid.img",
					   GRUB_PC_DIR "/moddep.lst", GRUB_EFI_DIR "/moddep.lst"};

	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		char *path = xasprintf("%s/%s", g->dest, need[i]);
		int missing = access(path, i == 0 ? X_OK : R_OK) < 0;
		free(path);
		if (missing)
			return diag_set(d, g->r->path, 0, "the bootloader package has no %s; install it there", need[i]);
	}
	s->grub = xstrdup(g->dest);
	return 0;
}

static int write_text(const char *dir, const char *rel, const char *text, struct diag *d)
{
	char *path = xasprintf("%s/%s", dir, rel), *parent = xstrdup(path);
	int r;

	*strrchr(parent, '/') = '\0';
	util_mkdir_p(parent, 0755);
	r = util_write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0)
		diag_set(d, path, 0, "cannot write: %s", strerror(-r));
	free(path);
	free(parent);
	return r;
}

/* Copy the modules of a profile list, and what they need, into root and list them in load order
 * in root's etc/modules.load. A module the initramfs has already (base) is listed, not copied:
 * init looks for each in the initramfs first, then in the payload. */
static int add_modules(const struct stage *s, const struct profile *p, const struct namelist *l, const char *root,
		       const char *base, struct diag *d)
{
	struct kmod_db db = {0};
	struct strv paths = {0};
	struct buf list = {0};
	long long bytes = 0;
	size_t files = 0;
	int r = kmod_load(&db, s->kdir, d);

	if (r == 0)
		r = kmod_resolve(&db, &l->names, l->lines, p->path, &paths, d);
	if (r == 0)
		r = drivers_copy_modules(s->kdir, s->kver, root, base, &paths, &bytes, &files, d);
	buf_puts(&list, "");
	for (size_t i = 0; i < paths.n; i++)
		buf_printf(&list, "%s\n", paths.v[i]);
	/* The initramfs always has the list (init requires it); the payload only when it has modules. */
	if (r == 0 && (!base || paths.n))
		r = write_text(root, "etc/modules.load", list.data, d);
	buf_free(&list);
	strv_free(&paths);
	kmod_free(&db);
	return r;
}

static int stage_families(const struct namelist *l, const struct profile *p, struct build *b, struct stage *s,
			  struct diag *d)
{
	for (size_t i = 0; i < l->names.n; i++, s->ndrivers++) {
		struct job *j = build_find(b, l->names.v[i]);
		if (build_stage(j, d) < 0)
			return -EINVAL;
		if (j->r->modules.n == 0)
			return diag_set(d, p->path, l->lines[i], "'%s' is not a driver family: its recipe names no "
					"'modules'; list it under 'system' or 'initramfs', or add its modules", j->r->name);
		s->drivers[s->ndrivers] = (struct driver_family){.r = j->r, .pkg = j->dest};
	}
	return 0;
}

/* The driver families: their modules and firmware, and the tables init matches the hardware
 * against (builder/drivers.h); `drivers` in the initramfs, `system-drivers` in the payload. */
static int add_drivers(const struct profile *p, struct build *b, struct stage *s, struct diag *d)
{
	size_t early = p->drivers.names.n;
	int r;

	s->drivers = xcalloc(early + p->system_drivers.names.n + 1, sizeof(*s->drivers));
	r = stage_families(&p->drivers, p, b, s, d);
	if (r == 0)
		r = stage_families(&p->system_drivers, p, b, s, d);
	if (r == 0 && early)
		r = drivers_add(s->kdir, s->kver, s->initramfs, NULL, s->drivers, early, d);
	if (r == 0 && s->ndrivers > early)
		r = drivers_add(s->kdir, s->kver, s->system, s->initramfs, s->drivers + early, s->ndrivers - early, d);
	return r;
}

static char *os_release(const struct image_opts *o, const struct profile *p)
{
	return xasprintf("NAME=\"%s\"\nID=%s\nVERSION_ID=%s\nPRETTY_NAME=\"%s %s\"\nBUILD_ID=%lld\n",
			 p->description ? p->description : p->name, p->name, o->version,
			 p->description ? p->description : p->name, o->version, o->epoch);
}

/* The keyring: in the initramfs (GRUB checked it: bankctl on the host trusts these), and in the
 * bank (keys/, for bankctl --disk on a build server). */
static int write_keyring(const struct image_opts *o, const struct stage *s, struct diag *d)
{
	struct buf rev = {0};
	int r;

	buf_puts(&rev, "");
	for (size_t i = 0; i < o->revoked.n; i++)
		buf_printf(&rev, "%s\n", o->revoked.v[i]);
	r = write_text(s->initramfs, "etc/keys/trusted.pem", o->trusted, d);
	if (r == 0)
		r = write_text(s->initramfs, "etc/keys/revoked", rev.data, d);
	if (r == 0)
		r = write_text(s->tree, "keys/trusted.pem", o->trusted, d);
	if (r == 0)
		r = write_text(s->tree, "keys/revoked", rev.data, d);
	buf_free(&rev);
	return r;
}

/* The public keys the image's signatures check against, in the ISO's keys/: GRUB's OpenPGP key
 * (grub.gpg, also built into every core) and the Secure Boot db certificate (db.der). A rebuild
 * that verifies a release takes them from there (imgbuild verify). */
static int write_public_keys(const struct stage *s, const struct sign_keys *k, struct diag *d)
{
	const char *from[] = {k->pubkey, k->db_der}, *to[] = {"keys/grub.gpg", "keys/db.der"};
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(from) && r == 0; i++) {
		char *data = NULL, *path = xasprintf("%s/%s", s->tree, to[i]);
		size_t len = 0;
		if ((r = util_read_file(from[i], &data, &len)) < 0)
			r = diag_set(d, from[i], 0, "cannot read the public key: %s", strerror(-r));
		else if ((r = util_write_file_atomic(path, data, len, 0644)) < 0)
			r = diag_set(d, path, 0, "cannot write: %s", strerror(-r));
		free(data), free(path);
	}
	return r;
}

static int fill_roots(const struct image_opts *o, const struct profile *p, struct build *b, struct stage *s,
		      struct diag *d)
{
	char *rel = os_release(o, p);
	int r = stage_packages(&p->initramfs, b, s->initramfs, d);

	if (r == 0)
		r = stage_packages(&p->system, b, s->system, d);
	if (r == 0)
		r = add_modules(s, p, &p->modules, s->initramfs, NULL, d);
	if (r == 0)
		r = add_modules(s, p, &p->system_modules, s->system, s->initramfs, d);
	if (r == 0)
		r = add_drivers(p, b, s, d);
	if (r == 0)
		r = write_text(s->initramfs, "etc/os-release", rel, d);
	if (r == 0)
		r = write_text(s->system, "etc/os-release", rel, d);
	if (r == 0)
		r = write_keyring(o, s, d);
	free(rel);
	return r;
}

/* The payload reaches the kernel as an initrd: an uncompressed cpio holding system.sqfs, which the
 * kernel unpacks into the initramfs next to the zstd one. No storage driver is needed to boot. */
static int wrap_payload(const char *sqfs, const char *out, long long epoch, struct diag *d)
{
	char *dir = xasprintf("%s.d", sqfs), *lnk = xasprintf("%s/" MEDIUM_PAYLOAD_MEMBER, dir);
	int r;

	util_rm_rf(dir);
	util_mkdir_p(dir, 0755);
	r = link(sqfs, lnk) < 0 ? diag_set(d, sqfs, 0, "cannot link: %s", strerror(errno)) : 0;
	if (r == 0)
		r = initramfs_write_plain(dir, out, epoch, d);
	util_rm_rf(dir);
	free(dir);
	free(lnk);
	return r;
}

/* The initramfs (which GRUB checks) carries the payload's sha256: init compares before it mounts. */
static int payload_hash(const struct stage *s, const char *sqfs, struct diag *d)
{
	char hex[HASH_HEX_LEN], *text;
	int r;

	if (hash_file(sqfs, hex) < 0)
		return diag_set(d, sqfs, 0, "cannot read the payload to hash it: %s", strerror(errno));
	text = xasprintf("%s\n", hex);
	r = write_text(s->initramfs, "etc/system.sqfs.sha256", text, d);
	free(text);
	return r;
}

static int make_payload(const struct stage *s, long long epoch, struct diag *d)
{
	char *sqfs = xasprintf("%s/system.sqfs", s->work), *out = xasprintf("%s/" MEDIUM_PAYLOAD, s->tree);
	char *log = xasprintf("%s/mksquashfs.log", s->work);
	/* SOURCE_DATE_EPOCH, exported by image_build(), dates the filesystem and every file. 1 MiB
	 * blocks at zstd level 19: 2.96 MB against 3.12 MB with the defaults (128 KiB, level 15). */
	char *argv[] = {"mksquashfs", s->system, sqfs, "-noappend", "-comp", "zstd", "-b", "1M",
			"-Xcompression-level", "19", "-all-root", "-no-xattrs",
			"-quiet", "-no-progress", NULL};
	/* mksquashfs 4.5 keeps the files' own times: a package staged by an earlier build carries that
	 * build's clock (found by imgbuild verify), so every file is dated at the epoch first. */
	int r = iso_set_dates(s->system, epoch, log, d);

	if (r == 0 && run_argv(argv, NULL, NULL, log, NULL) != 0)
		r = diag_set(d, log, 0, "mksquashfs failed to make the system payload; see this log");
	if (r == 0)
		r = wrap_payload(sqfs, out, epoch, d);
	if (r == 0)
		r = payload_hash(s, sqfs, d);
	free(sqfs), free(out), free(log);
	return r;
}

static int copy_kernel(const struct stage *s, const struct job *k, struct diag *d)
{
	char *from = xasprintf("%s/boot/vmlinuz-%s", k->dest, s->kver), *to = xasprintf("%s/boot/vmlinuz", s->tree);
	char *argv[] = {"cp", from, to, NULL};
	int r = run_argv(argv, NULL, NULL, NULL, NULL) == 0 ? 0
		: diag_set(d, k->r->path, 0, "the kernel package has no boot/vmlinuz-%s; install it there", s->kver);

	free(from);
	free(to);
	return r;
}

/* boot.cfg is both "key=value" text and a GRUB script that sets those variables. */
static int write_boot_cfg(const struct image_opts *o, const struct profile *p, const struct stage *s,
			  struct diag *d)
{
	char *text = xasprintf("# What GRUB loads from this image; written by imgbuild.\n"
			       "product=\"%s\"\nversion=\"%s\"\nbuild=\"%lld\"\n"
			       "kernel=\"/boot/vmlinuz\"\ninitrd=\"" BOOT_INITRD " /" MEDIUM_PAYLOAD "\"\n"
			       "cmdline=\"%s\"\n", p->name, o->version, o->epoch, p->cmdline ? p->cmdline : "");
	int r = write_text(s->tree, "boot.cfg", text, d);

	free(text);
	return r;
}

static int write_grub_cfg(const struct profile *p, const struct stage *s, struct diag *d)
{
	char *text = xasprintf(
		"# The live image's menu; written by imgbuild (docs/building.md).\n"
		"serial --unit=0 --speed=115200\n"
		"terminal_input serial console\n"
		"terminal_output serial console\n"
		"# A one-line countdown, not the menu: drawing the menu on the screen through the BIOS costs\n"
		"# half a second under emulation. Esc shows the menu; i picks the installer at once.\n"
		"set timeout_style=countdown\n"
		"set timeout=1\n"
		"set default=0\n"
		"# An answer file on a FAT volume labelled KS makes the default an unattended install.\n"
		"if search --no-floppy --label KS --set=ksdev; then\n"
		"  set default=1\n"
		"  echo \"ks.cfg volume found ($ksdev): installing to local disk\"\n"
		"else\n"
		"  echo \"Booting %s (live). Esc: the menu; i: install to local disk\"\n"
		"fi\n"
		"# The payload stays on the medium: init copies it into RAM (" MEDIUM_PAYLOAD_ARG "), faster\n"
		"# than GRUB's reads through the firmware. A bank's boot loads boot.cfg's $initrd whole.\n"
		"menuentry \"Boot %s (live, from RAM)\" {\n"
		"  source /boot.cfg\n"
		"  echo \"Loading $product $version\"\n"
		"  linux $kernel $cmdline bootbank=live " MEDIUM_PAYLOAD_ARG "\n"
		"  initrd " BOOT_INITRD "\n"
		"}\n"
		"menuentry \"Install to local disk\" --hotkey=i {\n"
		"  source /boot.cfg\n"
		"  echo \"Loading the installer of $product $version\"\n"
		"  linux $kernel $cmdline bootbank=live installer " MEDIUM_PAYLOAD_ARG "\n"
		"  initrd " BOOT_INITRD " /boot/install.cpio\n"
		"}\n", p->name, p->name);
	int r = write_text(s->tree, "boot/grub/grub.cfg", text, d);

	free(text);
	return r;
}

static void manifest_add(struct buf *m, const char *path, const char *name, struct diag *d, int *r)
{
	char hex[HASH_HEX_LEN];
	struct stat st;

	if (*r == 0 && (stat(path, &st) < 0 || hash_file(path, hex) < 0))
		*r = diag_set(d, path, 0, "cannot read for the manifest: %s", strerror(errno));
	if (*r == 0)
		buf_printf(m, "%s %10lld %s\n", hex, (long long)st.st_size, name);
}

/* A detached signature of text into dir/rel (imgsign verify checks it). */
static int sign_text(const struct image_opts *o, const char *dir, const char *rel, const char *text, size_t len,
		     struct diag *d)
{
	struct buf sig = {0};
	char *path = xasprintf("%s/%s", dir, rel);
	int r = signing_sign(o->signer, text, len, o->epoch, &sig, d);

	if (r == 0 && (r = util_write_file_atomic(path, sig.data, sig.len, 0644)) < 0)
		r = diag_set(d, path, 0, "cannot write: %s", strerror(-r));
	buf_free(&sig);
	free(path);
	return r;
}

/* MANIFEST: the image's identity, then "sha256 size path" for every file it boots from. */
static int write_manifest(const struct image_opts *o, const struct profile *p, const struct stage *s,
			  const char *key, struct diag *d)
{
	static const char *const files[] = {"boot.cfg", "boot/grub/grub.cfg", "boot/vmlinuz", "boot/initrd.img",
					    "boot/system.cpio"};
	struct buf m = {0};
	int r = 0;

	buf_printf(&m, "# Every file of the image with its sha256 and size; written by imgbuild.\n"
		   "product = %s\nversion = %s\nbuild-id = %.16s\nsource-date-epoch = %lld\n",
		   p->name, o->version, key, o->epoch);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *path = xasprintf("%s/%s", s->tree, files[i]), *name = xasprintf("/%s", files[i]);
		manifest_add(&m, path, name, d, &r);
		free(path), free(name);
	}
	char *bios = xasprintf("%s/eltorito.img", s->work), *efi = xasprintf("%s/efi.img", s->work);
	manifest_add(&m, bios, "/boot/grub/i386-pc/eltorito.img", d, &r);
	manifest_add(&m, efi, "efi.img (EFI system partition)", d, &r);
	free(bios), free(efi);
	if (r == 0)
		r = write_text(s->tree, "MANIFEST", m.data, d);
	if (r == 0)
		r = sign_text(o, s->tree, "MANIFEST.sig", m.data, m.len, d);
	buf_free(&m);
	return r;
}

static long long tree_bytes(const char *root)
{
	struct strv files = {0};
	long long total = 0;

	tree_list(root, &files);
	for (size_t i = 0; i < files.n; i++) {
		char *p = xasprintf("%s/%s", root, files.v[i]);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
			total += st.st_size;
		free(p);
	}
	strv_free(&files);
	return total;
}

static long long file_bytes(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	struct stat st;
	long long n = stat(p, &st) == 0 ? st.st_size : 0;

	free(p);
	return n;
}

/* A line per driver family (its share of the modules line above: what no earlier part brought,
 * and its firmware), and one per firmware file the image goes without. */
static void write_driver_sizes(const struct stage *s, struct buf *t)
{
	if (s->ndrivers)
		buf_printf(t, "# driver family bytes (uncompressed modules and firmware it added; "
			   "a module shared with an earlier part counts there)\n");
	for (size_t i = 0; i < s->ndrivers; i++)
		buf_printf(t, "drivers:%s %lld\n", s->drivers[i].r->name, s->drivers[i].bytes);
	for (size_t i = 0; i < s->ndrivers; i++)
		for (size_t j = 0; j < s->drivers[i].missing.n; j++)
			buf_printf(t, "# firmware-missing:%s %s (not in the package of recipes/%s; the device may not "
				   "work)\n", s->drivers[i].r->name, s->drivers[i].missing.v[j], s->drivers[i].r->name);
}

/* sizes.txt: what each part of the image weighs, for `make bench` and for people. */
static void write_sizes(const struct profile *p, struct build *b, const struct stage *s, long long iso)
{
	struct buf t = {0};
	char *path = xasprintf("%s/sizes.txt", s->top);

	buf_printf(&t, "# part bytes (in the ISO, compressed where the part is)\n");
	buf_printf(&t, "iso %lld\nkernel %lld\ninitramfs %lld\nsystem %lld\ngrub-bios %lld\ngrub-efi %lld\n", iso,
		   file_bytes(s->tree, "boot/vmlinuz"), file_bytes(s->tree, "boot/initrd.img"),
		   file_bytes(s->tree, "boot/system.cpio"), file_bytes(s->work, "eltorito.img"),
		   file_bytes(s->work, "efi.img"));
	buf_printf(&t, "installer %lld\n", file_bytes(s->tree, "boot/install.cpio"));
	buf_printf(&t, "# package bytes (uncompressed, before the image compresses them)\n");
	for (size_t i = 0; i < p->initramfs.names.n; i++)
		buf_printf(&t, "pkg:%s %lld\n", p->initramfs.names.v[i],
			   tree_bytes(build_find(b, p->initramfs.names.v[i])->dest));
	for (size_t i = 0; i < p->system.names.n; i++)
		buf_printf(&t, "pkg:%s %lld\n", p->system.names.v[i], tree_bytes(build_find(b, p->system.names.v[i])->dest));
	char *mods = xasprintf("%s/lib/modules", s->initramfs), *smods = xasprintf("%s/lib/modules", s->system);
	buf_printf(&t, "modules %lld\nsystem-modules %lld\n", tree_bytes(mods), tree_bytes(smods));
	free(mods), free(smods);
	write_driver_sizes(s, &t);
	util_write_file_atomic(path, t.data, t.len, 0644);
	buf_free(&t);
	free(path);
}

static void stage_init(struct stage *s, const struct image_opts *o, const struct profile *p)
{
	s->top = xasprintf("%s/images/%s", o->out, p->name);
	s->initramfs = xasprintf("%s/initramfs", s->top);
	s->system = xasprintf("%s/system", s->top);
	s->tree = xasprintf("%s/iso", s->top);
	s->work = xasprintf("%s/work", s->top);
	s->iso = xasprintf("%s/%s.iso.tmp", s->top, p->name);
	util_rm_rf(s->top);
	util_mkdir_p(s->initramfs, 0755);
	util_mkdir_p(s->system, 0755);
	util_mkdir_p(s->work, 0755);
	char *boot = xasprintf("%s/boot/grub", s->tree);
	util_mkdir_p(boot, 0755);
	free(boot);
}

static int make_disk_and_bundle(const struct image_opts *o, const struct profile *p, const struct stage *s,
				struct sign_keys *keys, const char *key, struct diag *d);

static const char *const bank_files[] = {BANK_FILES};

/* The installer's image carries no valid boot state: the disk image's two copies are blanked
 * (zeros, which no reader takes for a state) while it is packed, and the installer commits the
 * first state only after bank A read back right, so a cut while it writes never leaves a state
 * that calls a half-written bank good. blank[i] keeps copy i's bytes for env_restore(). */
static int env_blank(const char *img, const char *work, char blank[2][BANK_ENV_SIZE], unsigned long long at[2],
		     struct diag *d)
{
	static const char *const paths[2] = {BANK_ENV_PATH_A, BANK_ENV_PATH_B};
	static const char zeros[BANK_ENV_SIZE];
	int fd = open(img, O_RDWR | O_CLOEXEC), r = 0;

	for (int i = 0; i < 2 && r == 0; i++) {
		if (disk_file_offset(work, "esp", paths[i] + 1, &at[i]) < 0)
			r = diag_set(d, img, 0, "cannot find %s on the ESP; this is a bug in imgbuild", paths[i]);
		else if (fd < 0 || pread(fd, blank[i], BANK_ENV_SIZE, (off_t)at[i]) != BANK_ENV_SIZE ||
			 pwrite(fd, zeros, BANK_ENV_SIZE, (off_t)at[i]) != BANK_ENV_SIZE)
			r = diag_set_errno(d, errno ? errno : EIO, img, 0, "cannot blank the boot state for the installer");
	}
	if (fd >= 0)
		close(fd);
	return r;
}

static int env_restore(const char *img, char blank[2][BANK_ENV_SIZE], const unsigned long long at[2], struct diag *d)
{
	int fd = open(img, O_WRONLY | O_CLOEXEC), r = 0;

	for (int i = 0; i < 2 && r == 0; i++)
		if (at[i] && (fd < 0 || pwrite(fd, blank[i], BANK_ENV_SIZE, (off_t)at[i]) != BANK_ENV_SIZE))
			r = diag_set_errno(d, errno ? errno : EIO, img, 0, "cannot put the boot state back");
	if (fd >= 0)
		close(fd);
	return r;
}

/* The installer's image: the disk image as HVIMG2 (image/hvimg.h), in a cpio GRUB loads as an
 * initrd. Bank A's files are the ISO's own: each one mtools wrote in one piece is named by its
 * path on the ISO instead of carried twice; a fragmented one stays literal. */
static int make_installer(const struct image_opts *o, const struct profile *p, const struct stage *s,
			  struct diag *d)
{
	char *img = output_path(o, p, "img.tmp"), *dir = xasprintf("%s/install", s->work);
	char *packed = xasprintf("%s/install.img", dir), *out = xasprintf("%s/boot/install.cpio", s->tree);
	char *work = xasprintf("%s/disk", s->top), *local[ARRAY_SIZE(bank_files)];
	struct hvimg2_placed placed[ARRAY_SIZE(bank_files)];
	size_t n = 0;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(bank_files); i++) {
		unsigned long long off;
		if (file_bytes(s->tree, bank_files[i]) == 0 || disk_file_offset(work, "bank-a", bank_files[i], &off) < 0)
			continue;
		local[n] = xasprintf("%s/%s", s->tree, bank_files[i]);
		placed[n] = (struct hvimg2_placed){bank_files[i], local[n], off};
		n++;
	}
	util_mkdir_p(dir, 0755);
	char saved[2][BANK_ENV_SIZE];
	unsigned long long at[2] = {0, 0};
	r = env_blank(img, work, saved, at, d);
	if (r == 0)
		r = hvimg2_pack(img, packed, placed, n, d);
	if (env_restore(img, saved, at, d) < 0)
		r = -EIO;
	/* zstd, as the initramfs: 1.19 MB to 0.48 (mostly GRUB's EFI image); the kernel unpacks it. */
	if (r == 0)
		r = initramfs_write(dir, out, o->epoch, d);
	for (size_t i = 0; i < n; i++)
		free(local[i]);
	free(img), free(dir), free(packed), free(out), free(work);
	return r;
}

/* Every file GRUB reads from the ISO or a bank gets FILE.sig; GRUB refuses it without. */
static int sign_tree(const struct stage *s, struct sign_keys *k, const char *const *files, size_t n,
		     long long epoch, struct diag *d)
{
	char *log = xasprintf("%s/sign.log", s->work);
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		char *path = xasprintf("%s/%s", s->tree, files[i]), *name = xasprintf("tree/%s", files[i]);
		r = sign_gpg(k, path, name, epoch, log, d);
		free(path), free(name);
	}
	free(log);
	return r;
}

static const char *const signed_files[] = {"boot.cfg", "boot/vmlinuz", "boot/initrd.img", "boot/system.cpio",
					   "boot/grub/grub.cfg"};
static const char *const signed_last[] = {"boot/install.cpio"};

static int assemble(const struct image_opts *o, const struct profile *p, struct build *b, struct stage *s,
		    struct sign_keys *keys, const char *key, struct diag *d)
{
	struct job *k = build_find(b, p->kernel), *g = build_find(b, p->bootloader);
	char *initrd = xasprintf("%s/boot/initrd.img", s->tree), *kpath = xasprintf("%s/boot/vmlinuz", s->tree);
	char *slog = xasprintf("%s/sign.log", s->work);
	int r = build_stage(k, d);

	if (r == 0)
		r = build_stage(g, d);
	if (r == 0)
		r = find_grub(s, g, d);
	if (r == 0)
		r = find_kernel(s, k, d);
	if (r == 0)
		r = fill_roots(o, p, b, s, d);
	if (r == 0)
		r = write_public_keys(s, keys, d);
	if (r == 0)
		r = copy_kernel(s, k, d);
	if (r == 0)
		r = sign_efi(keys, kpath, "tree/boot/vmlinuz", o->epoch, slog, d);
	/* The payload first: the initramfs carries its hash. */
	if (r == 0)
		r = make_payload(s, o->epoch, d);
	if (r == 0)
		r = initramfs_write(s->initramfs, initrd, o->epoch, d);
	if (r == 0)
		r = write_boot_cfg(o, p, s, d);
	if (r == 0)
		r = write_grub_cfg(p, s, d);
	if (r == 0)
		r = sign_tree(s, keys, signed_files, ARRAY_SIZE(signed_files), o->epoch, d);
	if (r == 0)
		r = iso_boot_images(s->work, s->grub, o->epoch, keys, d);
	if (r == 0)
		r = write_manifest(o, p, s, key, d);
	/* The disk image and the bundle copy the tree's files with their times: date them first. */
	if (r == 0)
		r = iso_set_dates(s->tree, o->epoch, "/dev/null", d);
	if (r == 0)
		r = make_disk_and_bundle(o, p, s, keys, key, d);
	if (r == 0)
		r = make_installer(o, p, s, d);
	if (r == 0)
		r = sign_tree(s, keys, signed_last, ARRAY_SIZE(signed_last), o->epoch, d);
	if (r == 0)
		r = iso_assemble(s->tree, s->work, s->grub, s->iso, MEDIUM_VOLUME, o->epoch, d);
	free(initrd), free(kpath), free(slog);
	return r;
}

static int check_budget(const struct profile *p, const char *iso, long long *ret_size, struct diag *d)
{
	struct stat st;

	if (stat(iso, &st) < 0)
		return diag_set(d, iso, 0, "the ISO was not made: %s", strerror(errno));
	*ret_size = st.st_size;
	if (p->size_max && (unsigned long long)st.st_size > p->size_max)
		return diag_set(d, p->path, p->size_max_line, "the image is %.1f MiB, over its budget of %.1f MiB; "
				"drop packages or modules, or raise size-max (see out/images/%s/sizes.txt)",
				st.st_size / 1048576.0, p->size_max / 1048576.0, p->name);
	return 0;
}

static int key_matches(const struct image_opts *o, const struct profile *p, const char *keyfile, const char *key)
{
	char *text = NULL;
	int ok = util_read_file(keyfile, &text, NULL) == 0 && strncmp(text, key, 64) == 0;

	for (size_t i = 0; i < ARRAY_SIZE(outputs) && ok; i++) {
		char *path = output_path(o, p, outputs[i]);
		ok = access(path, F_OK) == 0;
		free(path);
	}
	free(text);
	return ok;
}

/* The disk image (bank A holds this build) and the update bundle, from the staged tree. */
static int make_disk_and_bundle(const struct image_opts *o, const struct profile *p, const struct stage *s,
				struct sign_keys *keys, const char *key, struct diag *d)
{
	char *img = output_path(o, p, "img.tmp"), *bundle = output_path(o, p, "bundle.tmp");
	char *work = xasprintf("%s/disk", s->top), *seed = xasprintf("%s-disk", p->name), build_id[17];
	/* disk_make leaves each partition's file system in work/: bank A's is what a bundle stages. */
	char *bank_img = xasprintf("%s/bank-a.img", work), *packed = xasprintf("%s/bank.hvimg", work);
	struct disk_opts dopts = {.tree = s->tree, .work = work, .out = img, .grub_cfg = GRUB_AB_TEMPLATE,
				  .grub = s->grub, .seed = seed, .epoch = o->epoch, .keys = keys};
	long long bank = DISK_BANK_SIZE * 512LL / 100 * 95, payload = 0;
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bank_files); i++)
		payload += file_bytes(s->tree, bank_files[i]);
	if (payload > bank)
		r = diag_set(d, p->path, 0, "the image's boot files (%.1f MiB) do not fit a boot bank (%.1f MiB); "
			     "drop packages or modules", payload / 1048576.0, bank / 1048576.0);
	if (r == 0)
		r = disk_make(&dopts, d);

	snprintf(build_id, sizeof(build_id), "%.16s", key);
	struct bundle_identity id = {p->name, o->version, build_id, o->epoch};
	if (r == 0)
		r = extents_pack(bank_img, packed, d);
	if (r == 0)
		r = bundle_write(bundle, packed, s->tree, bank_files, ARRAY_SIZE(bank_files), &id, &o->revoked, o->signer, d);
	free(bank_img), free(packed);
	free(img), free(bundle), free(work), free(seed);
	return r;
}

/* Move out/<name>-<version>.<ext>.tmp files into place, the ISO last. */
static int publish(const struct image_opts *o, const struct profile *p, const struct stage *s, struct diag *d)
{
	int r = 0;

	for (size_t i = ARRAY_SIZE(outputs); i-- > 0 && r == 0;) {
		char *ext = xasprintf("%s.tmp", outputs[i]);
		char *from = i == 0 ? xstrdup(s->iso) : output_path(o, p, ext), *to = output_path(o, p, outputs[i]);
		if (rename(from, to) < 0)
			r = diag_set(d, to, 0, "cannot move into place: %s", strerror(errno));
		free(ext), free(from), free(to);
	}
	return r;
}

int image_build(const struct image_opts *o, const struct profile *p, struct build *b, struct diag *d)
{
	char key[HASH_HEX_LEN], *iso = image_iso_path(o, p), *keyfile = xasprintf("%s/images/%s-%s.key", o->out, p->name, o->version);
	struct stage s = {0};
	struct sign_keys keys;
	long long size = 0;
	int r = o->release ? sign_keys_init_release(&keys, o->release, d) : sign_keys_init(&keys, o->out, o->progress, d);

	if (r == 0)
		r = image_key(o, p, b, &keys, key, d);
	if (r < 0 || key_matches(o, p, keyfile, key)) {
		if (r == 0 && b->built == 0)
			progress_note(o->progress, "%s is up to date", iso);
		sign_keys_free(&keys);
		free(iso), free(keyfile);
		return r;
	}
	/* Whatever happens next, no image of other inputs may be left looking current. */
	remove_outputs(o, p);
	unlink(keyfile);
	char *epoch = xasprintf("%lld", o->epoch);
	setenv("SOURCE_DATE_EPOCH", epoch, 1);
	setenv("TZ", "UTC", 1);
	free(epoch);
	stage_init(&s, o, p);
	r = assemble(o, p, b, &s, &keys, key, d);
	sign_agent_stop(&keys);
	if (r == 0)
		r = check_budget(p, s.iso, &size, d);
	if (r == 0)
		r = publish(o, p, &s, d);
	if (r == 0) {
		write_sizes(p, b, &s, size);
		util_write_file_atomic(keyfile, key, 64, 0644);
		progress_note(o->progress, "%s (%.1f MiB)", iso, size / 1048576.0);
	}
	if (r < 0)
		remove_outputs(o, p);
	unlink(s.iso);
	for (size_t i = 1; i < ARRAY_SIZE(outputs); i++) {
		char *ext = xasprintf("%s.tmp", outputs[i]), *tmp = output_path(o, p, ext);
		unlink(tmp);
		free(ext), free(tmp);
	}
	stage_free(&s);
	if (o->notes)
		for (size_t i = 0; i < keys.notes.n; i++)
			strv_push(o->notes, keys.notes.v[i]);
	sign_keys_free(&keys);
	free(iso), free(keyfile);
	return r;
}
