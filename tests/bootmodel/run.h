/* Running the cases in grub-emu: see run.c. */
#ifndef BOOTMODEL_RUN_H
#define BOOTMODEL_RUN_H

#include "model.h"

/*
 * Run every case in grub-emu, jobs at a time, in the work folder dir (made by setup.sh). Each
 * worker k writes dir/results.k, one line per case: "ID 0" (GRUB did what bm_predict() says),
 * "ID 1 what differs" or "ID -1 what failed"; GRUB's output for those is in dir/logs/case-ID.log.
 * Returns 0, or -1 with err set when the harness itself could not run.
 */
int bm_run(const char *dir, const struct bm_case *cases, size_t n, int jobs, char *err, size_t errsize);

#endif
