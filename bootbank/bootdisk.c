#define _GNU_SOURCE
#include "bootdisk.h"

#include <errno.h>
#include <fcntl.h>
#include <blkid/blkid.h>
#include <dirent.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootmount.h"
#include "fat.h"
#include "run.h"

static const char *const part_names[] = {"esp", "bank-a", "bank-b", "persist"};

/* Fill the slot of each partition whose GPT name is one of ours. */
static void match_parts(struct bootdisk *bd, blkid_partlist pl, bool found[4])
{
	struct bootdisk_part *slots[] = {&bd->esp, &bd->bank[0], &bd->bank[1], &bd->persist};

	for (int i = 0; i < blkid_partlist_numof_partitions(pl); i++) {
		blkid_partition pa = blkid_partlist_get_partition(pl, i);
		const char *name = blkid_partition_get_name(pa), *uuid = blkid_partition_get_uuid(pa);
		for (int k = 0; k < 4 && name && uuid; k++)
			if (strcmp(name, part_names[k]) == 0) {
				/* libblkid counts in 512-byte sectors whatever the disk's sector size. */
				slots[k]->offset = (unsigned long long)blkid_partition_get_start(pa) * 512;
				slots[k]->size = (unsigned long long)blkid_partition_get_size(pa) * 512;
				snprintf(slots[k]->uuid, sizeof(slots[k]->uuid), "%s", uuid);
				slots[k]->name = part_names[k];
				for (char *c = slots[k]->uuid; *c; c++)
					*c = (char)toupper((unsigned char)*c);
				found[k] = true;
			}
	}
}

static int find_parts(struct bootdisk *bd, struct diag *d)
{
	blkid_probe pr = blkid_new_probe_from_filename(bd->path);
	blkid_partlist pl = NULL;
	bool found[4] = {0};
	int r = 0;

	if (!pr)
		return diag_set(d, bd->path, 0, "cannot open the disk: %s", strerror(errno));
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	pl = blkid_probe_get_partitions(pr);
	if (!pl || !blkid_partlist_get_table(pl) ||
	    strcmp(blkid_parttable_get_type(blkid_partlist_get_table(pl)), "gpt") != 0)
		r = diag_set(d, bd->path, 0, "no GPT on this disk; this is not a disk installed with the hypervisor");
	if (r == 0)
		match_parts(bd, pl, found);
	for (int k = 0; k < 4 && r == 0; k++)
		if (!found[k])
			r = diag_set(d, bd->path, 0, "no GPT partition named '%s'; this is not a disk installed with "
				     "the hypervisor (see docs/disk-layout.md)", part_names[k]);
	blkid_free_probe(pr);
	return r;
}

int bootdisk_open(const char *path, int writable, struct bootdisk *ret, struct diag *d)
{
	struct bootdisk bd = {.path = xstrdup(path), .fd = -1, .writable = writable};
	int r = find_parts(&bd, d);

	if (r == 0 && bootmount_wanted(path))
		bd.mnt = bootmount_new();
	if (r == 0 && (bd.fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)) < 0)
		r = diag_set(d, path, 0, "cannot open for %s: %s", writable ? "writing" : "reading", strerror(errno));
	if (r < 0) {
		bootdisk_close(&bd);
		return r;
	}
	*ret = bd;
	return 0;
}

void bootdisk_close(struct bootdisk *bd)
{
	bootmount_free(bd->mnt);
	bd->mnt = NULL;
	if (bd->fd >= 0)
		close(bd->fd);
	free(bd->path);
	bd->path = NULL;
	bd->fd = -1;
}

void bootdisk_unmount(struct bootdisk *bd)
{
	if (bd->mnt) {
		bootmount_free(bd->mnt);
		bd->mnt = bootmount_new();
	}
}

char *bootdisk_mtools_image(const struct bootdisk *bd, const struct bootdisk_part *p)
{
	return xasprintf("%s@@%llu", bd->path, p->offset);
}

/* Open partition p's FAT (fat.h): the boot sector and the FAT read again at each call, which
 * is cheap and keeps bd const. */
static int fat_of(const struct bootdisk *bd, const struct bootdisk_part *p, struct fat **ret)
{
	return fat_open(bd->fd, p->offset, p->size, ret);
}

/* The failure of a FAT read, said in d: -EINVAL a damaged file system, else the disk's. */
static int fat_failed(const struct bootdisk *bd, const struct bootdisk_part *p, const char *path, int r,
		      struct diag *d)
{
	if (r == -EINVAL)
		return diag_set(d, bd->path, 0, "cannot read %s from the partition at %llu: its FAT file system is "
				"damaged; check it with fsck.fat, or reinstall the disk", path, p->offset);
	return diag_set_errno(d, -r, bd->path, 0, "cannot read %s from the partition at %llu; check the disk", path,
			      p->offset);
}

static int fat_read_file(const struct bootdisk *bd, const struct bootdisk_part *p, const char *path, struct buf *out,
			 struct diag *d)
{
	struct fat *f = NULL;
	int r = fat_of(bd, p, &f);

	if (r == 0)
		r = fat_read(f, path, out);
	fat_close(f);
	if (r == -ENOENT || r == 0)
		return r;
	return fat_failed(bd, p, path, r, d);
}

/* mmd the folder of path ("::/keys" for "/keys/revoked"); failing when it exists already is fine. */
static void make_folder(const char *img, const char *path)
{
	char *dir = xasprintf("::%s", path), *slash = strrchr(dir, '/');
	char *argv[] = {"mmd", "-i", (char *)img, dir, NULL};
	struct buf out = {0};

	if (slash && slash > dir + 2) {
		*slash = '\0';
		run_argv(argv, NULL, NULL, NULL, &out);
	}
	buf_free(&out);
	free(dir);
}

static int mtools_write(const struct bootdisk *bd, const struct bootdisk_part *p, const char *path, const void *data,
			size_t len, struct diag *d)
{
	const char *tmpdir = getenv("TMPDIR");
	char *tmp = xasprintf("%s/bankctl.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	char *img = bootdisk_mtools_image(bd, p), *dst = xasprintf("::%s", path);
	char *argv[] = {"mcopy", "-o", "-i", img, tmp, dst, NULL};
	struct buf out = {0};
	int fd = mkstemp(tmp), st = -1, r = 0;

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		r = diag_set(d, tmp, 0, "cannot write a scratch file: %s; set TMPDIR", strerror(errno));
	if (fd >= 0)
		close(fd);
	if (r == 0)
		make_folder(img, path);
	if (r == 0 && (st = run_argv(argv, NULL, NULL, NULL, &out)) != 0)
		r = diag_set(d, bd->path, 0, "cannot write %s to the partition at %llu with mtools (exit %d): %s", path,
			     p->offset, st, out.data ? out.data : "");
	if (r == 0 && fsync(bd->fd) < 0)
		r = diag_set(d, bd->path, 0, "cannot flush the disk: %s", strerror(errno));
	if (fd >= 0)
		unlink(tmp);
	buf_free(&out);
	free(tmp), free(img), free(dst);
	return r;
}

/* Where the kernel mounts partition p (bd->mnt set). */
static int part_dir(const struct bootdisk *bd, const struct bootdisk_part *p, bool rw, const char **ret, struct diag *d)
{
	const struct bootdisk_part *all[] = {&bd->esp, &bd->bank[0], &bd->bank[1], &bd->persist};
	int i = 0;

	while (i < 3 && all[i] != p)
		i++;
	return bootmount_dir(bd->mnt, i, bd->path, p->name, rw, ret, d);
}

int bootdisk_read_file(const struct bootdisk *bd, const struct bootdisk_part *p, const char *path, struct buf *out,
		       struct diag *d)
{
	const char *dir;

	if (bd->mnt) {
		int r = part_dir(bd, p, false, &dir, d);
		return r < 0 ? r : bootmount_read(dir, path, out, d);
	}
	return fat_read_file(bd, p, path, out, d);
}

int bootdisk_write_file(const struct bootdisk *bd, const struct bootdisk_part *p, const char *path, const void *data,
			size_t len, struct diag *d)
{
	const char *dir;

	if (bd->mnt) {
		int r = part_dir(bd, p, true, &dir, d);
		return r < 0 ? r : bootmount_write(dir, path, data, len, d);
	}
	return mtools_write(bd, p, path, data, len, d);
}

int bootdisk_file_offset(const struct bootdisk *bd, const struct bootdisk_part *p, const char *path, size_t len,
			 unsigned long long *ret, struct diag *d)
{
	unsigned long long first = 0, contiguous = 0, size = 0;
	struct fat *f = NULL;
	int r = fat_of(bd, p, &f);

	if (r == -EINVAL)
		return diag_set(d, bd->path, 0, "no FAT boot sector at %llu; the ESP is damaged", p->offset);
	if (r < 0)
		return diag_set_errno(d, -r, bd->path, 0, "cannot read the FAT at %llu; check the disk", p->offset);
	r = fat_extent(f, path, &first, &contiguous, &size);
	fat_close(f);
	/* Rewritten in place, the first len bytes must lie in one piece; a shorter file is no copy (GRUB's rule). */
	if (r < 0)
		r = diag_set(d, bd->path, 0, "%s is missing or not in one piece on the ESP; reinstall the boot loader", path);
	else if (contiguous < len || size < len)
		r = diag_set(d, bd->path, 0, "%s is smaller than %zu bytes on the ESP; reinstall the boot loader", path,
			     len);
	else
		*ret = p->offset + first;
	return r;
}

static const char *const copy_path[2][2] = {{BANK_ENV_PATH_A, BANK_ENV_OLD_PATH_A}, {BANK_ENV_PATH_B, BANK_ENV_OLD_PATH_B}};

/* A copy at its path, or where disks made before the copies had folders of their own keep it. */
static int copy_offset(const struct bootdisk *bd, int i, unsigned long long *ret)
{
	struct diag ignored;

	if (bootdisk_file_offset(bd, &bd->esp, copy_path[i][0], BANK_ENV_SIZE, ret, &ignored) == 0)
		return 0;
	return bootdisk_file_offset(bd, &bd->esp, copy_path[i][1], BANK_ENV_SIZE, ret, &ignored);
}

/* The copy files on the ESP mounted by the kernel, each rewritten in place at offset 0 (as init
 * does on its ESP). */
static int mounted_copies(const struct bootdisk *bd, struct bootstate_copies *ret, struct diag *d)
{
	struct bootstate_copies c = {{-1, -1}, {0, 0}};
	const char *dir;
	int r = part_dir(bd, &bd->esp, bd->writable, &dir, d);

	for (int i = 0; i < 2 && r == 0; i++) {
		struct stat st;
		for (int k = 0; k < 2 && c.fd[i] < 0; k++)
			c.fd[i] = bootmount_open(bd->mnt, dir, copy_path[i][k], bd->writable);
		if (c.fd[i] >= 0 && (fstat(c.fd[i], &st) < 0 || st.st_size < BANK_ENV_SIZE))
			c.fd[i] = -1; /* too short to hold a copy: not valid, as in GRUB */
	}
	if (r == 0 && c.fd[0] < 0 && c.fd[1] < 0)
		r = diag_set(d, bd->path, 0, "the ESP holds neither " BANK_ENV_PATH_A " nor " BANK_ENV_PATH_B
			     " (nor " BANK_ENV_OLD_PATH_A ", " BANK_ENV_OLD_PATH_B "); the boot state is gone, reinstall "
			     "the disk");
	if (r == 0)
		*ret = c;
	return r;
}

int bootdisk_state_copies(const struct bootdisk *bd, struct bootstate_copies *ret, struct diag *d)
{
	struct bootstate_copies c = {{bd->fd, bd->fd}, {0, 0}};
	int found = 0;

	if (bd->mnt)
		return mounted_copies(bd, ret, d);
	/* A copy that cannot be located is not valid; the other one decides, as in GRUB. */
	for (int i = 0; i < 2; i++) {
		unsigned long long off = 0;
		if (copy_offset(bd, i, &off) < 0)
			c.fd[i] = -1;
		else
			found++;
		c.offset[i] = off;
	}
	if (!found)
		return diag_set(d, bd->path, 0, "the ESP holds neither " BANK_ENV_PATH_A " nor " BANK_ENV_PATH_B
				" (nor " BANK_ENV_OLD_PATH_A ", " BANK_ENV_OLD_PATH_B "), or they are not in one piece; "
				"the boot state is gone, reinstall the disk");
	*ret = c;
	return 0;
}

int bootdisk_state_load(const struct bootdisk *bd, struct bootstate_copies *ret_copies, struct bootstate *ret,
			struct diag *d)
{
	struct bootstate_copies c;
	int r = bootdisk_state_copies(bd, &c, d);

	if (r == 0 && bootstate_load(&c, ret) < 0)
		r = diag_set_errno(d, EIO, bd->path, 0, "cannot read either copy of the boot state; check the disk");
	if (r == 0)
		*ret_copies = c;
	return r;
}

int bootdisk_state_commit(const struct bootdisk *bd, const struct bootstate_copies *c, struct bootstate *st,
			  const struct bank_env *env, struct diag *d)
{
	int r = bootstate_commit(c, st, env);

	if (r == -EILSEQ)
		return diag_set(d, bd->path, 0, "the boot state did not read back as written; check the disk");
	if (r < 0)
		return diag_set_errno(d, -r, bd->path, 0, "cannot write the boot state; the previous state stays in force");
	return 0;
}

/* The bank's boot.cfg and listing (fat_list, as mdir -/ -b) say what it holds. */
char *bootcfg_value(const char *text, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *v, *end;
		if (strncmp(p, key, k) != 0 || p[k] != '=')
			continue;
		v = p + k + 1;
		if (*v == '"')
			v++;
		end = v + strcspn(v, "\"\n");
		return xstrndup(v, (size_t)(end - v));
	}
	return NULL;
}

/* Whether boot.cfg and every file it names (kernel, each initrd) are in the bank's listing, each
 * with the signature GRUB checks (FILE.sig; docs/signing.md), as bootbank/grub.cfg requires. */
static bool files_present(const char *cfg, const char *listing)
{
	char *kernel = bootcfg_value(cfg, "kernel"), *initrd = bootcfg_value(cfg, "initrd");
	struct strv want = {0};
	bool ok = kernel && initrd;

	if (ok) {
		strv_push(&want, "/boot.cfg");
		strv_push(&want, kernel);
		kv_split(initrd, &want);
	}
	for (size_t i = 0; i < want.n && ok; i++) {
		char *line = xasprintf("::%s\n", want.v[i]), *sig = xasprintf("::%s.sig\n", want.v[i]);
		ok = strstr(listing, line) != NULL && strstr(listing, sig) != NULL;
		free(line);
		free(sig);
	}
	strv_free(&want);
	free(kernel);
	free(initrd);
	return ok;
}

/* Append "::/rel\n" for each file under dir/rel, as mdir -/ -b lists them. */
static void list_tree(const char *dir, const char *rel, int depth, struct buf *out)
{
	char *path = xasprintf("%s%s", dir, rel);
	DIR *dp = depth < 8 ? opendir(path) : NULL;
	struct dirent *e;

	while (dp && (e = readdir(dp))) {
		char *sub = xasprintf("%s/%s", rel, e->d_name);
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			list_tree(dir, sub, depth + 1, out);
		else if (e->d_type == DT_REG)
			buf_printf(out, "::%s\n", sub);
		free(sub);
	}
	if (dp)
		closedir(dp);
	free(path);
}

/* Every file of a bank, one "::/path" per line. */
static int bank_listing(const struct bootdisk *bd, int bank, struct buf *out, struct diag *d)
{
	struct fat *f = NULL;
	const char *dir;
	int r = 0;

	if (bd->mnt) {
		r = part_dir(bd, &bd->bank[bank], false, &dir, d);
		if (r == 0)
			list_tree(dir, "", 0, out);
		return r;
	}
	r = fat_of(bd, &bd->bank[bank], &f);
	if (r == 0)
		r = fat_list(f, out);
	fat_close(f);
	return r;
}

int bankinfo_read(const struct bootdisk *bd, int bank, struct bankinfo *ret, struct diag *d)
{
	struct bankinfo bi = {0};
	struct buf cfg = {0}, list = {0};
	struct diag ignored;
	int r = bootdisk_read_file(bd, &bd->bank[bank], "/boot.cfg", &cfg, d);

	if (r == 0) {
		bi.product = bootcfg_value(cfg.data, "product");
		bi.version = bootcfg_value(cfg.data, "version");
		bi.build = bootcfg_value(cfg.data, "build");
		bi.files = bank_listing(bd, bank, &list, &ignored) == 0 && list.data && files_present(cfg.data, list.data);
		bi.state = list.data && strstr(list.data, "::/state.tgz\n");
	}
	buf_free(&cfg);
	buf_free(&list);
	if (r < 0 && r != -ENOENT)
		return r;
	*ret = bi;
	return 0;
}

void bankinfo_free(struct bankinfo *bi)
{
	free(bi->product);
	free(bi->version);
	free(bi->build);
	*bi = (struct bankinfo){0};
}
