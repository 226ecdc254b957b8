/*
 * Boot banks: the on-disk boot state and the choice of the bank to boot.
 *
 * The boot state is a GRUB environment block (exactly 1024 bytes) kept in two copies on the
 * EFI system partition, /grub/a/envA and /grub/b/envB: each in a folder of its own, so that the
 * two copies' data and directory entries lie in four different sectors (a write that tears one
 * sector touches one copy only). A copy reads:
 *
 *   # GRUB Environment Block
 *   seq=1
 *   A_state=good
 *   A_tries=0
 *   A_gen=1
 *   B_state=trial
 *   B_tries=3
 *   B_gen=2
 *   seqend=1
 *   ######...            ('#' up to 1024 bytes)
 *
 * A writer rewrites the copy that is not current, in place, with the next seq, so a write cut
 * anywhere (inside a sector, or between the copies) leaves at least one copy whose seq equals its
 * seqend. GRUB has no arithmetic, so seq counts 0, 1, 2, 0, ...: of two valid copies the current
 * one is the one whose seq follows the other's. GRUB (bootbank/grub.cfg) follows the same rules.
 *
 * This library is shared by host tools (bankctl, imgbuild) and the target's init: it does no I/O,
 * never prints and never exits.
 */
#ifndef BANK_H
#define BANK_H

#include <stdbool.h>
#include <stddef.h>

#define BANK_ENV_SIZE 1024
/* Where the copies lie on the ESP (GRUB's paths; bootbank/grub.cfg names the same). */
#define BANK_ENV_DIR_A "/grub/a"
#define BANK_ENV_DIR_B "/grub/b"
#define BANK_ENV_PATH_A BANK_ENV_DIR_A "/envA"
#define BANK_ENV_PATH_B BANK_ENV_DIR_B "/envB"
/* Where disks made before this layout keep them (both in /grub, their directory entries in one sector):
 * read and written there when the new paths are absent. */
#define BANK_ENV_OLD_PATH_A "/grub/envA"
#define BANK_ENV_OLD_PATH_B "/grub/envB"
#define BANK_TRIES 3     /* tries a freshly staged bank gets; GRUB's if-table counts down from 3 */
#define BANK_GEN_MAX 999999999UL /* nine digits, as GRUB's check allows */

enum bank_state_kind { BANK_EMPTY, BANK_GOOD, BANK_TRIAL, BANK_BAD };

struct bank {
	enum bank_state_kind state;
	unsigned tries;        /* meaningful for BANK_TRIAL: boots left */
	unsigned long gen;     /* generation: the newest bootable bank wins */
};

struct bank_env {
	unsigned seq;          /* 0, 1 or 2 */
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
 * (a torn or foreign block). The text ends at the first NUL, if any.
 */
int bank_env_parse(const char *block, size_t len, struct bank_env *ret);
/* Format a copy into out (exactly BANK_ENV_SIZE bytes). */
void bank_env_format(const struct bank_env *env, char out[BANK_ENV_SIZE]);
/*
 * Of two copies (either may be NULL when invalid), the current state: the valid one, or of two
 * valid ones the one whose seq follows the other's (A when neither does). Returns the index
 * (0 or 1) of the copy used, or -ENOENT when neither is valid. The next write goes to the other
 * copy with bank_env_next_seq().
 */
int bank_env_pick(const struct bank_env *c0, const struct bank_env *c1, struct bank_env *ret);

/* The seq of the next write: (seq + 1) mod 3. */
unsigned bank_env_next_seq(unsigned seq);

/* What the boot loader will do, computed the way bootbank/grub.cfg.in does it. */
struct bank_choice {
	int boot;            /* bank index to boot, or -1 when no bank can boot */
	bool take_try;       /* boot is a trial: one try is taken off before booting */
	int mark_bad;        /* a trial bank out of tries (marked bad), or -1; B when both are */
	bool out_of_tries[2]; /* each trial bank out of tries: GRUB marks every one of them bad */
	bool last_resort;    /* no bank is good or has tries: booting the newest non-empty one */
	int fallback;        /* the bank GRUB boots if boot's kernel or initrd will not load (its $alt):
	                        the other bank when both were candidates, or -1 */
};

/*
 * Choose the bank to boot. present[i] says whether bank i's kernel and initrd are there (GRUB
 * checks them before it chooses, and passes over a bank whose files are missing).
 * Rules: a bank is bootable when good, or trial with tries left; a trial bank with no tries
 * left is marked bad; of the bootable banks the one with the higher generation wins (A on a
 * tie); when none is bootable, the newest present bank that is not empty is tried anyway.
 */
void bank_choose(const struct bank_env *env, const bool present[2], struct bank_choice *ret);
/* Apply a choice to the state, as GRUB does before booting (tries taken, banks marked bad). With
 * no bank to boot GRUB reboots without writing, so nothing changes then. */
void bank_apply(struct bank_env *env, const struct bank_choice *c);

#endif
