#include <errno.h>
#include <string.h>

#include "bank.h"
#include "tap.h"

static struct bank_env env_of(enum bank_state_kind a, unsigned at, unsigned long ag, enum bank_state_kind b,
			      unsigned bt, unsigned long bg)
{
	struct bank_env e = {.seq = 1};

	e.bank[0] = (struct bank){a, at, ag};
	e.bank[1] = (struct bank){b, bt, bg};
	return e;
}

static void test_env_round_trips_when_formatted(void)
{
	struct bank_env e = env_of(BANK_GOOD, 0, 1, BANK_TRIAL, 3, 2), back;
	char block[BANK_ENV_SIZE];

	bank_env_format(&e, block);
	ok(memcmp(block, "# GRUB Environment Block\nseq=1\nA_state=good\n", 44) == 0 && block[BANK_ENV_SIZE - 1] == '#',
	   "env: formatted as a GRUB environment block padded with '#'");
	ok(bank_env_parse(block, sizeof(block), &back) == 0 && back.seq == 1 && back.bank[1].state == BANK_TRIAL &&
	   back.bank[1].tries == 3 && back.bank[1].gen == 2, "env: parses back to the same state");
}

static void test_env_rejects_torn_and_foreign_blocks(void)
{
	struct bank_env e = env_of(BANK_GOOD, 0, 1, BANK_EMPTY, 0, 0), out;
	char block[BANK_ENV_SIZE], torn[BANK_ENV_SIZE];

	bank_env_format(&e, block);
	e.seq = 2;
	e.bank[1].state = BANK_TRIAL;
	bank_env_format(&e, torn);
	/* A write of the new copy cut after 60 bytes: new head, old tail. */
	memcpy(torn + 60, block + 60, BANK_ENV_SIZE - 60);
	ok(bank_env_parse(torn, sizeof(torn), &out) == -EINVAL, "env: a block torn mid-write is refused (seq != seqend)");
	ok(bank_env_parse(block, 512, &out) == -EINVAL, "env: a short block is refused");
	bank_env_format(&e, torn);
	memcpy(strstr(torn, "seq=2"), "seq=3", 5);
	memcpy(strstr(torn, "seqend=2"), "seqend=3", 8);
	ok(bank_env_parse(torn, sizeof(torn), &out) == -EINVAL, "env: a seq outside 0..2 is refused");
	block[0] = 'X';
	ok(bank_env_parse(block, sizeof(block), &out) == -EINVAL, "env: a block without GRUB's signature is refused");
	bank_env_format(&e, block);
	memcpy(strstr(block, "A_tries=0"), "A_tries=x", 9);
	ok(bank_env_parse(block, sizeof(block), &out) == -EINVAL, "env: a non-numeric value is refused");
	memset(block, 0, sizeof(block));
	ok(bank_env_parse(block, sizeof(block), &out) == -EINVAL, "env: zeros are refused");
	e.bank[0].gen = 10;
	bank_env_format(&e, block);
	memcpy(strstr(block, "A_gen=10"), "A_gen=01", 8);
	ok(bank_env_parse(block, sizeof(block), &out) == -EINVAL, "env: a generation with a leading zero is refused "
	   "(GRUB's test would read it as octal)");
}

static void test_env_takes_a_copy_whose_padding_reads_as_zeros(void)
{
	struct bank_env e = env_of(BANK_GOOD, 0, 1, BANK_TRIAL, 3, 2), out;
	char block[BANK_ENV_SIZE];

	bank_env_format(&e, block);
	memset(block + 512, 0, BANK_ENV_SIZE - 512);
	ok(bank_env_parse(block, sizeof(block), &out) == 0 && out.bank[1].tries == 3,
	   "env: a complete copy whose second sector reads as zeros is valid, as GRUB reads it (found by tests/bootmodel)");
	memset(block + 60, 0, BANK_ENV_SIZE - 60);
	ok(bank_env_parse(block, sizeof(block), &out) == -EINVAL, "env: zeros inside the variables are refused");
}

static void test_env_pick_takes_the_newest_valid_copy(void)
{
	struct bank_env a = env_of(BANK_GOOD, 0, 1, BANK_EMPTY, 0, 0), b = a, out;

	b.seq = 2;
	ok(bank_env_pick(&a, &b, &out) == 1 && out.seq == 2, "env: the copy whose seq follows the other's wins");
	a.seq = 0;
	ok(bank_env_pick(&a, &b, &out) == 0 && out.seq == 0, "env: seq wraps: 0 follows 2");
	ok(bank_env_pick(&a, NULL, &out) == 0 && out.seq == 0, "env: a torn copy leaves the other one");
	ok(bank_env_pick(NULL, NULL, &out) == -ENOENT, "env: no valid copy is reported");
}

static void choose(struct bank_env e, bool pa, bool pb, struct bank_choice *c)
{
	bool present[2] = {pa, pb};

	bank_choose(&e, present, c);
}

static void test_choose_follows_the_rules(void)
{
	struct bank_choice c;

	choose(env_of(BANK_GOOD, 0, 1, BANK_EMPTY, 0, 0), true, false, &c);
	ok(c.boot == 0 && !c.take_try && c.mark_bad < 0, "choose: boots A when only A is good");
	choose(env_of(BANK_GOOD, 0, 1, BANK_TRIAL, 3, 2), true, true, &c);
	ok(c.boot == 1 && c.take_try, "choose: boots B and takes a try when B is a newer trial");
	choose(env_of(BANK_GOOD, 0, 1, BANK_TRIAL, 0, 2), true, true, &c);
	ok(c.boot == 0 && c.mark_bad == 1, "choose: boots A and marks B bad when B has no tries left");
	choose(env_of(BANK_GOOD, 0, 1, BANK_GOOD, 0, 2), true, false, &c);
	ok(c.boot == 0, "choose: boots A when B's kernel is missing");
	choose(env_of(BANK_GOOD, 0, 3, BANK_GOOD, 0, 2), true, true, &c);
	ok(c.boot == 0, "choose: the higher generation wins (after a rollback)");
	choose(env_of(BANK_BAD, 0, 1, BANK_BAD, 0, 2), true, true, &c);
	ok(c.boot == 1 && c.last_resort, "choose: with no bootable bank, the newest non-empty one is tried");
	choose(env_of(BANK_EMPTY, 0, 0, BANK_EMPTY, 0, 0), false, false, &c);
	ok(c.boot == -1, "choose: nothing to boot on an empty disk");
}

static void test_choose_names_the_fallback(void)
{
	struct bank_choice c;

	choose(env_of(BANK_GOOD, 0, 1, BANK_TRIAL, 3, 2), true, true, &c);
	ok(c.boot == 1 && c.fallback == 0, "choose: the other candidate is the fallback if B will not load");
	choose(env_of(BANK_GOOD, 0, 1, BANK_TRIAL, 3, 2), true, false, &c);
	ok(c.boot == 0 && c.fallback == -1, "choose: no fallback when only one bank is a candidate");
	choose(env_of(BANK_GOOD, 0, 1, BANK_TRIAL, 0, 2), true, true, &c);
	ok(c.boot == 0 && c.fallback == -1, "choose: a bank marked bad is no fallback");
	choose(env_of(BANK_BAD, 0, 1, BANK_EMPTY, 0, 2), true, true, &c);
	ok(c.boot == 1 && c.last_resort && c.fallback == 0,
	   "choose: as a last resort, the other bank with files is the fallback (GRUB checks files, not states)");
}

static void test_apply_takes_a_try_and_marks_bad(void)
{
	struct bank_env e = env_of(BANK_TRIAL, 0, 3, BANK_TRIAL, 2, 2);
	bool present[2] = {true, true};
	struct bank_choice c;

	bank_choose(&e, present, &c);
	bank_apply(&e, &c);
	ok(e.bank[0].state == BANK_BAD && e.bank[1].tries == 1 && c.boot == 1,
	   "apply: A (out of tries) marked bad, one of B's tries taken");
}

static void test_apply_marks_every_bank_out_of_tries(void)
{
	struct bank_env e = env_of(BANK_TRIAL, 0, 3, BANK_TRIAL, 0, 2);
	bool present[2] = {true, true};
	struct bank_choice c;

	bank_choose(&e, present, &c);
	bank_apply(&e, &c);
	ok(e.bank[0].state == BANK_BAD && e.bank[1].state == BANK_BAD && c.boot == 0 && c.last_resort,
	   "apply: both trial banks out of tries are marked bad, as GRUB does (found by tests/bootmodel)");
}

static void test_apply_writes_nothing_without_a_bank_to_boot(void)
{
	struct bank_env e = env_of(BANK_GOOD, 0, 1, BANK_TRIAL, 0, 2), before = e;
	bool present[2] = {false, false};
	struct bank_choice c;

	bank_choose(&e, present, &c);
	bank_apply(&e, &c);
	ok(c.boot == -1 && e.bank[1].state == before.bank[1].state,
	   "apply: with no bank to boot nothing is marked bad (GRUB reboots before saving; found by tests/bootmodel)");
}

static void test_names_parse(void)
{
	ok(bank_index("A") == 0 && bank_index("b") == 1 && bank_index("C") == -1, "names: bank letters");
	ok(bank_state_parse("trial") == BANK_TRIAL && bank_state_parse("ok") == -1, "names: states");
}

int main(void)
{
	test_env_round_trips_when_formatted();
	test_env_rejects_torn_and_foreign_blocks();
	test_env_takes_a_copy_whose_padding_reads_as_zeros();
	test_env_pick_takes_the_newest_valid_copy();
	test_choose_follows_the_rules();
	test_choose_names_the_fallback();
	test_apply_takes_a_try_and_marks_bad();
	test_apply_marks_every_bank_out_of_tries();
	test_apply_writes_nothing_without_a_bank_to_boot();
	test_names_parse();
	return tap_done();
}
