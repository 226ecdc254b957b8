/*
 * statecommit ENV_A ENV_B mark-good A|B    init's commit after a healthy boot (packages/init/bank.c)
 * statecommit ENV_A ENV_B first            the installer's first state (packages/installer/installer.c)
 *
 * The boot-state commit the appliance makes on its mounted ESP, made on two plain files (the copies
 * taken out of a disk image) so that tests/crash/crash.sh can cut it at every write on the build
 * host: the same calls in the same order as init's state_mark_good() and the installer's
 * state_write(), through the same bootbank/bootstate.c (bootstate_mark_good, bootstate_first). Exit 0 when committed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bank.h"
#include "bootstate.h"

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
	bool fresh;
	r = argc == 5 ? bootstate_mark_good(&c, bank, &fresh) : bootstate_first(&c);
	for (int i = 0; i < 2; i++)
		if (c.fd[i] >= 0)
			close(c.fd[i]);
	if (r < 0)
		fprintf(stderr, "statecommit: %s:1: the commit failed: %s; the other copy stays in force\n", argv[1],
			r == -EILSEQ ? "it did not read back as written" : strerror(-r));
	return r < 0 ? 1 : 0;
}
