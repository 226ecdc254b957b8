#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootdisk.h"
#include "run.h"

static const char *const copy_path[2] = {"/grub/envA", "/grub/envB"};

static int read_copy(const struct bootdisk *bd, int i, struct bank_env *env, unsigned long long *ret_off,
		     struct diag *d)
{
	char block[BANK_ENV_SIZE];
	unsigned long long off = 0;
	int r = bootdisk_file_offset(bd, &bd->esp, copy_path[i], sizeof(block), &off, d);

	*ret_off = r == 0 ? off : 0;
	if (r == 0 && pread(bd->fd, block, sizeof(block), (off_t)off) != (ssize_t)sizeof(block))
		r = diag_set(d, bd->path, 0, "cannot read %s: %s", copy_path[i], strerror(errno));
	if (r == 0 && bank_env_parse(block, sizeof(block), env) < 0)
		r = -EINVAL; /* torn or foreign: the other copy decides */
	return r;
}

int bootstate_read(const struct bootdisk *bd, struct bootstate *ret, struct diag *d)
{
	struct bank_env e[2];
	struct bootstate st = {.current = -1};
	int r0 = read_copy(bd, 0, &e[0], &st.offset[0], d), r1 = read_copy(bd, 1, &e[1], &st.offset[1], d);

	st.valid[0] = r0 == 0;
	st.valid[1] = r1 == 0;
	if (!st.valid[0] && !st.valid[1] && r0 != -EINVAL && r1 != -EINVAL)
		return -EIO;
	st.current = bank_env_pick(st.valid[0] ? &e[0] : NULL, st.valid[1] ? &e[1] : NULL, &st.env);
	if (st.current < 0) {
		/* Neither copy is valid: what GRUB then does (boot any bank with files) is what we report. */
		memset(&st.env, 0, sizeof(st.env));
		st.env.seq = 2;
		st.current = -1;
	}
	*ret = st;
	return 0;
}

int bootstate_write(const struct bootdisk *bd, struct bootstate *st, const struct bank_env *env, struct diag *d)
{
	int target = st->current == 0 ? 1 : 0;
	char block[BANK_ENV_SIZE], back[BANK_ENV_SIZE];
	struct bank_env next = *env;
	unsigned long long off = st->offset[target];
	/* Where the copy lies was found when the state was read; a copy not found then is looked for again. */
	int r = off ? 0 : bootdisk_file_offset(bd, &bd->esp, copy_path[target], sizeof(block), &off, d);

	next.seq = bank_env_next_seq(st->env.seq);
	bank_env_format(&next, block);
	if (r == 0 && (pwrite(bd->fd, block, sizeof(block), (off_t)off) != (ssize_t)sizeof(block) || fsync(bd->fd) < 0))
		r = diag_set(d, bd->path, 0, "cannot write the boot state: %s; the previous state stays in force",
			     strerror(errno));
	if (r == 0 && (pread(bd->fd, back, sizeof(back), (off_t)off) != (ssize_t)sizeof(back) ||
		       memcmp(back, block, sizeof(block)) != 0))
		r = diag_set(d, bd->path, 0, "the boot state did not read back as written; check the disk");
	if (r == 0) {
		st->env = next;
		st->valid[target] = true;
		st->current = target;
	}
	return r;
}

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

int bankinfo_read(const struct bootdisk *bd, int bank, struct bankinfo *ret, struct diag *d)
{
	struct bankinfo bi = {0};
	struct buf cfg = {0}, list = {0};
	char *img = bootdisk_mtools_image(bd, &bd->bank[bank]);
	char *argv[] = {"mdir", "-/", "-b", "-i", img, "::/", NULL};
	int r = bootdisk_read_file(bd, &bd->bank[bank], "/boot.cfg", &cfg, d);

	if (r == 0) {
		bi.product = bootcfg_value(cfg.data, "product");
		bi.version = bootcfg_value(cfg.data, "version");
		bi.build = bootcfg_value(cfg.data, "build");
		bi.files = run_argv(argv, NULL, NULL, NULL, &list) == 0 && list.data && files_present(cfg.data, list.data);
		bi.state = list.data && strstr(list.data, "::/state.tgz\n");
	}
	buf_free(&cfg);
	buf_free(&list);
	free(img);
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
