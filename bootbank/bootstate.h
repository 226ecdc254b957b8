/*
 * The boot-state commit: the one way the boot state (bank.h) is read and changed, by init (mark
 * the booted bank good), bankctl (stage, mark-good, rollback) and the installer (a fresh state).
 *
 * The two copies envA and envB are files on the ESP; a writer names where each lies as an open
 * file descriptor and a byte offset in it: init and the installer open the files of the mounted
 * ESP (offset 0), bankctl opens the whole disk and finds the files' sectors in the FAT.
 *
 * A commit writes the copy that is not current, in place, with the next seq, flushes it and reads
 * it back, so that a cut at any moment leaves the other copy in force:
 *
 *   envA seq=1 (current), envB seq=0  --commit-->  envA seq=1, envB seq=2 (current)
 *
 * libc only (no allocation, no printing): linked by the host tools and the static target programs.
 */
#ifndef BOOTSTATE_H
#define BOOTSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "bank.h"

struct bootstate_copies {
	int fd[2];            /* envA's and envB's file or disk; -1 where the copy was not found */
	uint64_t offset[2];   /* the byte offset of each copy in it */
};

struct bootstate {
	struct bank_env env;  /* the current state; when no copy is valid, GRUB's view: every bank empty */
	int current;          /* which copy (0 = envA, 1 = envB) is current, -1 if neither was valid */
	bool valid[2];
};

/*
 * Read both copies and pick the current one (bank_env_pick). A torn or foreign copy is simply not
 * valid. Returns 0 with *ret filled, or -EIO when neither copy could be read at all.
 */
int bootstate_load(const struct bootstate_copies *c, struct bootstate *ret);

/*
 * Commit env: format it with the next seq into the copy that is not current, write it in place,
 * fsync, read it back and compare. On success *st says the written copy is current. Returns 0,
 * -ENOENT when that copy was not found, -errno of a failed write or flush, or -EILSEQ when the
 * copy did not read back as written. On failure *st is unchanged and the other copy is in force.
 */
int bootstate_commit(const struct bootstate_copies *c, struct bootstate *st, const struct bank_env *env);

/*
 * The two commits every writer but bankctl makes, here once:
 * bootstate_mark_good(): after a healthy boot from bank, mark it good (tries 0). When neither
 * copy is valid, write a fresh state instead: bank good at generation 1, the other bad (its state
 * is unknown); *ret_fresh says so. Nothing is written when the bank is good already.
 * bootstate_first(): an installed disk's first state: bank A (this build) good at generation 1,
 * B empty.
 * Both return 0 or the -errno of bootstate_load()/bootstate_commit().
 */
int bootstate_mark_good(const struct bootstate_copies *c, int bank, bool *ret_fresh);
int bootstate_first(const struct bootstate_copies *c);

#endif
