/*
 * The boot model's case space and its predictions (tests/bootmodel, docs/ab-boot.md).
 *
 * A case is what GRUB finds on disk: the two copies of the boot state (envA, envB, 1024 bytes
 * each, valid, torn or garbage) and each bank's files. The prediction is what bootbank/bank.c
 * says GRUB does with them: the bank it boots (or none) and both copies afterwards, byte for
 * byte. tests/bootmodel/run.c runs the real bootbank/grub.cfg in grub-emu on every case and
 * compares. No I/O here.
 */
#ifndef BOOTMODEL_MODEL_H
#define BOOTMODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "bank.h"

/* A bank's files as GRUB finds them. */
enum bm_files {
	BM_FILES_OK,          /* boot.cfg, kernel, initrds and their .sig files, all verifying */
	BM_FILES_MISSING,     /* the kernel is missing */
	BM_FILES_BAD_CFG,     /* boot.cfg altered after signing */
	BM_FILES_BAD_KERNEL,  /* the kernel altered after signing */
	BM_FILES_BAD_INITRD,  /* an initrd altered after signing */
	BM_FILES_KINDS
};

struct bm_case {
	unsigned id;                       /* 1, 2, ... in enumeration order */
	const char *category;              /* "choice", "signatures" or "copies" */
	char env[2][BANK_ENV_SIZE];        /* envA, envB as on disk */
	char env_desc[2][40];              /* e.g. "valid seq=1", "torn at 60", "zeros" */
	enum bm_files files[2];
};

struct bm_outcome {
	int boot;                          /* bank GRUB boots (0 = A, 1 = B), or -1 for none */
	char env[2][BANK_ENV_SIZE];        /* envA, envB after the boot */
};

const char *bm_files_name(enum bm_files f);

/* Every case, in a fixed order. Returns the number of cases and sets *ret (free() it), or 0
 * when out of memory. */
size_t bm_cases(struct bm_case **ret);

/* What GRUB does with a case, according to bootbank/bank.c. */
void bm_predict(const struct bm_case *c, struct bm_outcome *out);

/* One line for a case: "A=trial/2/9 (ok) B=good/0/10 (bad kernel) envA=valid seq=1 envB=...". */
void bm_case_describe(const struct bm_case *c, char *out, size_t size);
/* One block in words: "seq=1 A=good/0/1 B=trial/2/2", or "not valid (...)". */
void bm_env_describe(const char *block, char *out, size_t size);

#endif
