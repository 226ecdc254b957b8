#define _GNU_SOURCE
#include "bootstate.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* 0, -EINVAL for a copy that reads but is torn or foreign, or -errno when it cannot be read. */
static int copy_read(const struct bootstate_copies *c, int i, struct bank_env *env)
{
	char block[BANK_ENV_SIZE];
	ssize_t n;

	if (c->fd[i] < 0)
		return -ENOENT;
	n = pread(c->fd[i], block, sizeof(block), (off_t)c->offset[i]);
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(block))
		return -EINVAL; /* a short copy is a torn one */
	return bank_env_parse(block, sizeof(block), env);
}

int bootstate_load(const struct bootstate_copies *c, struct bootstate *ret)
{
	struct bank_env e[2];
	struct bootstate st = {.current = -1};
	int r0 = copy_read(c, 0, &e[0]), r1 = copy_read(c, 1, &e[1]);

	st.valid[0] = r0 == 0;
	st.valid[1] = r1 == 0;
	if (!st.valid[0] && !st.valid[1] && r0 != -EINVAL && r1 != -EINVAL)
		return -EIO;
	st.current = bank_env_pick(st.valid[0] ? &e[0] : NULL, st.valid[1] ? &e[1] : NULL, &st.env);
	if (st.current < 0) {
		/* Neither copy is valid: GRUB then boots any bank with files; the next write goes to
		 * envA with seq 0 (the one after 2). */
		memset(&st.env, 0, sizeof(st.env));
		st.env.seq = 2;
		st.current = -1;
	}
	*ret = st;
	return 0;
}

int bootstate_commit(const struct bootstate_copies *c, struct bootstate *st, const struct bank_env *env)
{
	int target = st->current == 0 ? 1 : 0, fd = c->fd[target];
	off_t off = (off_t)c->offset[target];
	char block[BANK_ENV_SIZE], back[BANK_ENV_SIZE];
	struct bank_env next = *env;
	ssize_t n;

	if (fd < 0)
		return -ENOENT;
	next.seq = bank_env_next_seq(st->env.seq);
	bank_env_format(&next, block);
	n = pwrite(fd, block, sizeof(block), off);
	if (n < 0 || fsync(fd) < 0)
		return -errno;
	if (n != (ssize_t)sizeof(block))
		return -EIO;
	if (pread(fd, back, sizeof(back), off) != (ssize_t)sizeof(back) || memcmp(back, block, sizeof(block)) != 0)
		return -EILSEQ;
	st->env = next;
	st->valid[target] = true;
	st->current = target;
	return 0;
}

int bootstate_mark_good(const struct bootstate_copies *c, int bank, bool *ret_fresh)
{
	struct bootstate st;
	struct bank_env next;
	int r = bootstate_load(c, &st);

	*ret_fresh = r == 0 && st.current < 0;
	if (*ret_fresh) {
		st.env.bank[!bank] = (struct bank){BANK_BAD, 0, 0};
		st.env.bank[bank].gen = 1;
	}
	next = st.env;
	next.bank[bank].state = BANK_GOOD;
	next.bank[bank].tries = 0;
	if (r == 0 && (*ret_fresh || st.env.bank[bank].state != BANK_GOOD))
		r = bootstate_commit(c, &st, &next);
	return r;
}

int bootstate_first(const struct bootstate_copies *c)
{
	struct bank_env first = {.bank = {{BANK_GOOD, 0, 1}, {BANK_EMPTY, 0, 0}}};
	struct bootstate st;
	int r = bootstate_load(c, &st);

	return r == 0 ? bootstate_commit(c, &st, &first) : r;
}
