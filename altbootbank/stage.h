/* Staging: verify a bundle, write its payload into the inactive bank, read it back, and mark the
 * bank to be tried on the next boot. The order makes every interruption safe: the bank is marked
 * empty before its first byte is written, and marked trial only after it read back right. */
#ifndef STAGE_H
#define STAGE_H

#include <stdbool.h>

#include "bootdisk.h"
#include "progress.h"
#include "signing.h"

struct stage_opts {
	const char *bundle;
	int target;            /* the bank to write (never the running one) */
	bool allow_downgrade;
	const struct progress *progress; /* steps "verifying", "writing", "verifying" (read-back) and
				  * notes: who signed, what was staged (NULL: silent) */
	const struct bankinfo *keep; /* what the bank that is kept holds (bankinfo_read) */
	struct keyring *keyring;     /* what the bundle's signature must chain to (trust.h) */
};

/* Stage the bundle into bank o->target of bd, whose boot state is st (its copies in c). 0, or
 * -EINVAL/-EBADMSG/-EIO with d filled. */
int stage_run(struct bootdisk *bd, const struct bootstate_copies *c, struct bootstate *st, const struct stage_opts *o,
	      struct diag *d);

#endif
