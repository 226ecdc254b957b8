/*
 * Boot banks: the on-disk boot state and the choice of the bank to boot.
 *
 * The boot state is a GRUB environment block (exactly 1024 bytes) kept in two copies on the
 * EFI system partition, /hypervisor/state1 and /hypervisor/state2. A copy reads:
 *
 *   # GRUB Environment Block
 *   seq=7
 *   a_state=good
 *   a_tries=0
 *   a_gen=1
 *   b_state=trial
 *   b_tries=3
 *   b_gen=2
 *   seqend=7
 *   ######...            ('#' up to 1024 bytes)
 *
 * A writer rewrites the OLDER copy in place with seq+1, so a write cut anywhere (inside a sector,
 * or between the copies) leaves at least one copy whose seq equals its seqend; readers take the
 * valid copy with the higher seq. GRUB (bootbank/grub.cfg.in) follows the same rules.
 *
 * This library is shared by host tools (bankctl, imgbuild) and the target's init: it does no I/O,
 * never prints and never exits.
 */
#ifndef BANK_H
#define BANK_H

#include <stdbool.h>
#include <stddef.h>

#define BANK_ENV_SIZE 1024
#define BANK_TRIES 3 /* tries a freshly staged bank gets */

enum bank_state_kind { BANK_EMPTY, BANK_GOOD, BANK_TRIAL, BANK_BAD };

struct bank {
	enum bank_state_kind state;
	unsigned tries;        /* meaningful for BANK_TRIAL: boots left */
	unsigned long gen;     /* generation: the newest bootable bank wins */
};

struct bank_env {
	unsigned long seq;
	struct bank bank[2];   /* [0] = A, [1] = B */
};

/* "good", "trial", ... and back. bank_state_parse() returns -1 for an unknown word. */
const char *bank_state_name(enum bank_state_kind s);
int bank_state_parse(const char *word);
/* 'A' or 'B' for 0 or 1; bank_index() maps 'A'/'a'/'B'/'b' back, -1 otherwise. */
char bank_letter(int i);
int bank_index(const char *name);

/*
 * Parse one copy. Returns 0 and fills *ret when the block is 1024 bytes, starts with GRUB's
 * signature, and has seq equal to seqend and every variable well-formed; -EINVAL otherwise
 * (a torn or foreign block).
 */
int bank_env_parse(const char *block, size_t len, struct bank_env *ret);
/* Format a copy into out (exactly BANK_ENV_SIZE bytes). */
void bank_env_format(const struct bank_env *env, char out[BANK_ENV_SIZE]);
/*
 * Of two copies (either may be NULL when invalid), the current state: the valid one with the
 * higher seq. Returns the index (0 or 1) of the copy used, or -ENOENT when neither is valid.
 * The next write goes to the other index.
 */
int bank_env_pick(const struct bank_env *c0, const struct bank_env *c1, struct bank_env *ret);

/* What the boot loader will do, computed the way bootbank/grub.cfg.in does it. */
struct bank_choice {
	int boot;            /* bank index to boot, or -1 when no bank can boot */
	bool take_try;       /* boot is a trial: one try is taken off before booting */
	int mark_bad;        /* a trial bank out of tries (marked bad), or -1 */
	bool last_resort;    /* no bank is good or has tries: booting the newest non-empty one */
};

/*
 * Choose the bank to boot. present[i] says whether bank i's kernel and initrd are there (GRUB
 * checks them before it chooses, and passes over a bank whose files are missing).
 * Rules: a bank is bootable when good, or trial with tries left; a trial bank with no tries
 * left is marked bad; of the bootable banks the one with the higher generation wins (A on a
 * tie); when none is bootable, the newest present bank that is not empty is tried anyway.
 */
void bank_choose(const struct bank_env *env, const bool present[2], struct bank_choice *ret);
/* Apply a choice to the state, as GRUB does before booting (tries taken, bank marked bad). */
void bank_apply(struct bank_env *env, const struct bank_choice *c);

#endif
