/*
 * statecommit ENV_A ENV_B mark-good A|B    init's commit after a healthy boot (packages/init/bank.c)
 * statecommit ENV_A ENV_B first            the installer's first state (packages/installer/installer.c)
 *
 * The boot-state commit the appliance makes on its mounted ESP, made on two plain files (the copies
 * taken out of a disk image) so that tests/crash/crash.sh can cut it at every write on the build
 * host: the same calls in the same order as init's state_mark_good() and the installer's
 * state_write(), through the same bootbank/bootstate.c. Exit 0 when committed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bank.h"
#include "bootstate.h"

/* init's state_mark_good(): a fresh state when neither copy is valid, else the bank marked good. */
static int mark_good(const struct bootstate_copies *c, int bank)
{
	struct bootstate st;
	struct bank_env next;
	int r = bootstate_load(c, &st);

	if (r == 0 && st.current < 0) {
		st.env.bank[!bank] = (struct bank){BANK_BAD, 0, 0};
		st.env.bank[bank].gen = 1;
	}
	next = st.env;
	next.bank[bank].state = BANK_GOOD;
	next.bank[bank].tries = 0;
	if (r == 0 && (st.current < 0 || st.env.bank[bank].state != BANK_GOOD))
		r = bootstate_commit(c, &st, &next);
	return r;
}

/* The installer's state_write(): bank A good at generation 1, B empty. */
static int first(const struct bootstate_copies *c)
{
	struct bank_env e = {.bank = {{BANK_GOOD, 0, 1}, {BANK_EMPTY, 0, 0}}};
	struct bootstate st;
	int r = bootstate_load(c, &st);

	return r == 0 ? bootstate_commit(c, &st, &e) : r;
}

int main(int argc, char **argv)
{
	struct bootstate_copies c = {{-1, -1}, {0, 0}};
	int bank = argc == 5 ? bank_index(argv[4]) : -1, r;

	if (!(argc == 5 && strcmp(argv[3], "mark-good") == 0 && bank >= 0) && !(argc == 4 && strcmp(argv[3], "first") == 0)) {
		fprintf(stderr, "usage: statecommit ENV_A ENV_B mark-good A|B | first\n");
		return 2;
	}
	for (int i = 0; i < 2; i++)
		c.fd[i] = open(argv[1 + i], O_RDWR | O_CLOEXEC);
	r = argc == 5 ? mark_good(&c, bank) : first(&c);
	for (int i = 0; i < 2; i++)
		if (c.fd[i] >= 0)
			close(c.fd[i]);
	if (r < 0)
		fprintf(stderr, "statecommit: %s:1: the commit failed: %s; the other copy stays in force\n", argv[1],
			r == -EILSEQ ? "it did not read back as written" : strerror(-r));
	return r < 0 ? 1 : 0;
}
