/* The hostcfg program's shared parts: the running host (or a --root tree), its lock, the boot
 * bank's save and the saver service (hostcfg.c, save.c). */
#ifndef HOSTCFG_HOST_H
#define HOSTCFG_HOST_H

#include <stdbool.h>

#include "apply.h"

struct host {
	const char *root;  /* "/" on the host; a directory tree with --root */
	bool live;         /* root is "/": mount calls and sethostname are made */
	int lock_fd;       /* root/run/hostcfg/lock, flock()ed while the configuration changes */
	double delay;      /* the saver's coalescing delay, seconds */
	double interval;   /* the saver's periodic save, seconds */
};

/* The defaults of this image: hc_defaults() with the image's host name (root/system/etc/hostname,
 * base-files') when it is a valid one. */
void host_defaults(const struct host *h, struct hc_config *c);
/* The running configuration: root/etc/hostcfg/host.conf, or the defaults when there is none. */
int host_conf_load(const struct host *h, struct hc_config *c, struct diag *d);

/* root/rel, owned by the caller. */
char *host_path(const struct host *h, const char *rel);
/* Take or release the configuration's lock (blocking). */
int host_lock(struct host *h, struct diag *d);
void host_unlock(struct host *h);

/* Save root's configuration files into the running bank (/bootbank/state.tgz), remounting the
 * bank read-write for it and read-only after. Prints what it did. 0 or -errno with d filled. */
int host_save(struct host *h, struct diag *d);
/* Remove the saved state (state.tgz, state.tgz.new) from the running bank. */
int host_state_remove(struct host *h, struct diag *d);
/* Whether a boot bank is there to save into: /bootbank mounted (a live boot has none). */
bool host_has_bank(const struct host *h);
/* Ask the saver to save soon (SIGHUP through its pidfile); false when none runs. */
bool host_saver_notify(const struct host *h);
/* At boot, hostcfg restore: the running bank's state.tgz (or a whole state.tgz.new) unpacked and
 * applied; without one, bank A's first-boot settings (firstboot.conf, written by the installer)
 * applied, saved and removed, and firstboot.sh run once; else the defaults. A damaged archive is
 * reported (-EINVAL, d filled) and the defaults are applied. */
int restore_run(struct host *h, struct diag *d);
/* Save, then remove the first-boot files from the bank, in one read-write window. */
int host_firstboot_done(struct host *h, struct diag *d);

/* The reload hook (root/usr/lib/hostcfg/reload) told the areas changed (apply.h), when any. */
void host_reload(const struct host *h, unsigned changed);
/* After a change from old to c (both checked): apply c (on a failure, old again: nothing half
 * written), run the reload hook and have the change saved (the saver, or now). Prints what it
 * did. 0 or -errno with d filled. */
int host_commit(struct host *h, const struct hc_config *old, const struct hc_config *c, struct diag *d);

/* A change of the configuration, whole or not at all, under the lock: the running configuration
 * loaded (cur), edit() given it and a copy to change (next; d for its refusal), next checked
 * (hc_check) and committed (host_commit). 0 when committed; HOST_EDIT_REFUSED when edit() or the
 * check refused it (d says why, unless edit() reported it through arg); -errno with d filled when
 * the configuration cannot be read or applied. Nothing is changed unless 0. */
#define HOST_EDIT_REFUSED 1
typedef int (*host_edit_fn)(const struct hc_config *cur, struct hc_config *next, void *arg, struct diag *d);
int host_edit(struct host *h, host_edit_fn edit, void *arg, struct diag *d);

/* The saver service: saves after a change (coalesced over h->delay), every h->interval and at
 * SIGTERM; runs until SIGTERM or SIGINT. Returns the exit status. */
int host_saver_run(struct host *h);

#endif
