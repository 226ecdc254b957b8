/* The boot-state commit (bootbank/bootstate.c): two 1024-byte copies in one file, envA at
 * offset 0 and envB at offset 4096, as bankctl sees them on a disk. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstate.h"
#include "util.h"
#include "tap.h"

#define B_AT 4096
#define FILE_SIZE 8192

struct fixture {
	char *dir, *path;
	int fd;
	struct bootstate_copies c;
};

static struct bank_env env_of(unsigned seq, enum bank_state_kind a, unsigned long ag, enum bank_state_kind b,
			      unsigned bt, unsigned long bg)
{
	struct bank_env e;

	memset(&e, 0, sizeof(e));
	e.seq = seq;
	e.bank[0] = (struct bank){a, 0, ag};
	e.bank[1] = (struct bank){b, bt, bg};
	return e;
}

static bool env_eq(const struct bank_env *x, const struct bank_env *y)
{
	for (int i = 0; i < 2; i++)
		if (x->bank[i].state != y->bank[i].state || x->bank[i].tries != y->bank[i].tries ||
		    x->bank[i].gen != y->bank[i].gen)
			return false;
	return x->seq == y->seq;
}

static bool state_eq(const struct bootstate *x, const struct bootstate *y)
{
	return env_eq(&x->env, &y->env) && x->current == y->current && x->valid[0] == y->valid[0] &&
	       x->valid[1] == y->valid[1];
}

/* Write a copy (NULL: 1024 bytes of garbage) at offset off of the fixture's file. */
static void put(struct fixture *f, uint64_t off, const struct bank_env *e)
{
	char block[BANK_ENV_SIZE];

	if (e)
		bank_env_format(e, block);
	else
		memset(block, 'x', sizeof(block));
	if (pwrite(f->fd, block, sizeof(block), (off_t)off) != (ssize_t)sizeof(block))
		printf("# cannot write a copy\n");
}

/* A temp folder with the file holding envA (a) and envB (b); NULL writes garbage. */
static void fixture_make(struct fixture *f, const struct bank_env *a, const struct bank_env *b)
{
	f->dir = mkdtemp(xstrdup("/tmp/test-bootstate.XXXXXX"));
	f->path = xasprintf("%s/esp", f->dir ? f->dir : "/nonexistent");
	f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0 || ftruncate(f->fd, FILE_SIZE) < 0)
		printf("# cannot make %s\n", f->path);
	f->c = (struct bootstate_copies){{f->fd, f->fd}, {0, B_AT}};
	put(f, 0, a);
	put(f, B_AT, b);
}

static void fixture_free(struct fixture *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dir)
		util_rm_rf(f->dir);
	free(f->dir);
	free(f->path);
}

/* The whole file as it is now (FILE_SIZE bytes, owned by the caller). */
static char *contents(const struct fixture *f)
{
	char *data = NULL;
	size_t len = 0;

	if (util_read_file(f->path, &data, &len) < 0 || len != FILE_SIZE) {
		free(data);
		return xcalloc(1, FILE_SIZE);
	}
	return data;
}

static void test_bootstate_load_picks_the_newer_copy_when_both_are_valid(void)
{
	struct bank_env a = env_of(1, BANK_GOOD, 1, BANK_EMPTY, 0, 0), b = env_of(2, BANK_GOOD, 1, BANK_TRIAL, 3, 2);
	struct fixture f;
	struct bootstate st;

	fixture_make(&f, &a, &b);
	ok(bootstate_load(&f.c, &st) == 0 && st.current == 1 && st.valid[0] && st.valid[1] && env_eq(&st.env, &b),
	   "bootstate_load: picks envB when both are valid and its seq (2) follows envA's (1)");
	fixture_free(&f);

	a.seq = 0;
	fixture_make(&f, &a, &b);
	ok(bootstate_load(&f.c, &st) == 0 && st.current == 0 && env_eq(&st.env, &a),
	   "bootstate_load: picks envA when its seq 0 follows envB's 2 (the wrap)");
	fixture_free(&f);
}

static void test_bootstate_load_ignores_a_copy_when_it_is_torn_or_garbage(void)
{
	struct bank_env a = env_of(1, BANK_GOOD, 1, BANK_EMPTY, 0, 0), b = env_of(2, BANK_GOOD, 1, BANK_TRIAL, 3, 2);
	char block[BANK_ENV_SIZE], old[BANK_ENV_SIZE];
	struct fixture f;
	struct bootstate st;

	fixture_make(&f, &a, NULL);
	ok(bootstate_load(&f.c, &st) == 0 && st.current == 0 && st.valid[0] && !st.valid[1] && env_eq(&st.env, &a),
	   "bootstate_load: keeps envA when envB is garbage");
	/* envB's write cut after 100 bytes: its new head on envA's old tail (seq 2, seqend 1). */
	bank_env_format(&b, block);
	bank_env_format(&a, old);
	memcpy(block + 100, old + 100, sizeof(block) - 100);
	if (pwrite(f.fd, block, sizeof(block), B_AT) != (ssize_t)sizeof(block))
		printf("# cannot write\n");
	ok(bootstate_load(&f.c, &st) == 0 && st.current == 0 && !st.valid[1] && env_eq(&st.env, &a),
	   "bootstate_load: keeps envA when envB is torn mid-write although its head says seq 2");
	fixture_free(&f);

	fixture_make(&f, NULL, NULL);
	ok(bootstate_load(&f.c, &st) == 0 && st.current == -1 && !st.valid[0] && !st.valid[1] && st.env.seq == 2 &&
	   st.env.bank[0].state == BANK_EMPTY && st.env.bank[1].state == BANK_EMPTY,
	   "bootstate_load: every bank empty, seq 2 (next write: envA with seq 0) when both copies are garbage");
	if (ftruncate(f.fd, B_AT + 100) < 0)
		printf("# cannot truncate\n");
	put(&f, 0, &a);
	ok(bootstate_load(&f.c, &st) == 0 && st.current == 0 && !st.valid[1],
	   "bootstate_load: a short envB (file cut) is not valid when envA is");
	f.c.fd[0] = f.c.fd[1] = -1;
	ok(bootstate_load(&f.c, &st) == -EIO, "bootstate_load: -EIO when neither copy can be read");
	fixture_free(&f);
}

static void test_bootstate_commit_writes_the_other_copy_when_one_is_current(void)
{
	struct bank_env a = env_of(1, BANK_GOOD, 1, BANK_EMPTY, 0, 0), b = env_of(0, BANK_BAD, 1, BANK_EMPTY, 0, 0);
	struct bank_env want = env_of(7, BANK_GOOD, 1, BANK_TRIAL, 3, 2), back;
	char *before, *after, block[BANK_ENV_SIZE];
	struct fixture f;
	struct bootstate st;
	int r;

	fixture_make(&f, &a, &b);
	before = contents(&f);
	r = bootstate_load(&f.c, &st);
	ok(r == 0 && st.current == 0, "bootstate_commit: (set-up) envA seq 1 is current over envB seq 0");
	r = bootstate_commit(&f.c, &st, &want);
	after = contents(&f);
	want.seq = 2;
	bank_env_format(&want, block);
	ok(r == 0 && memcmp(before, after, B_AT) == 0 && memcmp(after + B_AT, block, BANK_ENV_SIZE) == 0 &&
	   memcmp(before + B_AT + BANK_ENV_SIZE, after + B_AT + BANK_ENV_SIZE, FILE_SIZE - B_AT - BANK_ENV_SIZE) == 0,
	   "bootstate_commit: only envB's 1024 bytes change, to the new state with seq 2, when envA is current");
	ok(st.current == 1 && st.valid[1] && env_eq(&st.env, &want),
	   "bootstate_commit: the state says envB (seq 2) is current when the commit succeeded");
	ok(bootstate_load(&f.c, &st) == 0 && st.current == 1 && env_eq(&st.env, &want),
	   "bootstate_commit: a fresh load finds the committed state when it succeeded");
	free(before), free(after);

	before = contents(&f);
	want.bank[1].tries = 2;
	r = bootstate_commit(&f.c, &st, &want);
	after = contents(&f);
	ok(r == 0 && st.current == 0 && st.env.seq == 0 && memcmp(before + B_AT, after + B_AT, FILE_SIZE - B_AT) == 0 &&
	   bank_env_parse(after, BANK_ENV_SIZE, &back) == 0 && back.seq == 0 && back.bank[1].tries == 2,
	   "bootstate_commit: seq wraps from 2 to 0 and envA is written when envB is current");
	free(before), free(after);
	fixture_free(&f);

	fixture_make(&f, NULL, NULL);
	r = bootstate_load(&f.c, &st);
	want = env_of(1, BANK_GOOD, 1, BANK_EMPTY, 0, 0);
	ok(r == 0 && bootstate_commit(&f.c, &st, &want) == 0 && st.current == 0 && st.env.seq == 0 &&
	   bootstate_load(&f.c, &st) == 0 && st.current == 0 && st.env.bank[0].state == BANK_GOOD,
	   "bootstate_commit: writes envA with seq 0 when neither copy was valid");
	fixture_free(&f);
}

static void test_bootstate_commit_fails_and_changes_nothing_when_the_copy_cannot_be_written(void)
{
	struct bank_env a = env_of(1, BANK_GOOD, 1, BANK_EMPTY, 0, 0), b = env_of(0, BANK_GOOD, 1, BANK_EMPTY, 0, 0);
	struct bank_env want = env_of(0, BANK_GOOD, 1, BANK_TRIAL, 3, 2);
	struct bootstate_copies c;
	struct bootstate st, kept;
	struct fixture f;
	char *before, *after;
	int r, ro;

	fixture_make(&f, &a, &b);
	before = contents(&f);
	bootstate_load(&f.c, &st);
	kept = st;
	c = f.c;
	c.fd[1] = -1;
	r = bootstate_commit(&c, &st, &want);
	after = contents(&f);
	ok(r == -ENOENT && state_eq(&st, &kept) && memcmp(before, after, FILE_SIZE) == 0,
	   "bootstate_commit: -ENOENT, state and file unchanged when the target copy (envB) was not found");
	free(after);

	ro = open(f.path, O_RDONLY | O_CLOEXEC);
	c = (struct bootstate_copies){{ro, ro}, {0, B_AT}};
	r = bootstate_commit(&c, &st, &want);
	after = contents(&f);
	ok(r < 0 && r != -ENOENT && r != -EILSEQ && state_eq(&st, &kept) && memcmp(before, after, FILE_SIZE) == 0,
	   "bootstate_commit: fails with the write's errno (%d, %s), state and file unchanged when the fd is read-only",
	   r, strerror(-r));
	if (ro >= 0)
		close(ro);
	free(before), free(after);
	fixture_free(&f);
}

int main(void)
{
	test_bootstate_load_picks_the_newer_copy_when_both_are_valid();
	test_bootstate_load_ignores_a_copy_when_it_is_torn_or_garbage();
	test_bootstate_commit_writes_the_other_copy_when_one_is_current();
	test_bootstate_commit_fails_and_changes_nothing_when_the_copy_cannot_be_written();
	return tap_done();
}
