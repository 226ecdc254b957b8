/* The files the configuration generates on the host (docs/configuration.md, "Files"), and the
 * archive that persists them in the running bank (/bootbank/state.tgz, tar + gzip). */
#ifndef HOSTCFG_APPLY_H
#define HOSTCFG_APPLY_H

#include <stdbool.h>

#include "hostconfig.h"
#include "util.h"

/* What an apply changed: the daemons concerned are restarted through the reload hook. */
enum hc_area {
	HC_AREA_HOSTNAME = 1 << 0,
	HC_AREA_USERS = 1 << 1,
	HC_AREA_DNS = 1 << 2,
	HC_AREA_NETWORK = 1 << 3,
	HC_AREA_SYSLOG = 1 << 4,
	HC_AREA_NTP = 1 << 5,
};
#define HC_AREAS 6
const char *hc_area_name(int bit);

/* The files the configuration owns, relative to the root; NULL-terminated. host.conf is first. */
extern const char *const hc_owned[];
#define HC_CONF "etc/hostcfg/host.conf"

/*
 * Write every file generated from c under root ("/" on the host, a directory tree in tests),
 * then host.conf, each atomically and only when its text changes; *changed gets the areas
 * written. With live, also sethostname(). Returns 0 or -errno with d filled; then host.conf is
 * unchanged, and applying the previous configuration again undoes the files already written.
 */
int hc_apply(const struct hc_config *c, const char *root, bool live, unsigned *changed, struct diag *d);

/* The state archive (tar, gzip) of the owned files that exist under root, in memory. Entries are
 * dated 0 and the gzip header carries no time, so that the same configuration gives the same bytes. */
int hc_state_pack(const char *root, struct buf *out, struct diag *d);
/*
 * Read a state archive whole and check it: regular files, each an owned name, at most 1 MiB, the
 * archive and its gzip stream whole; a host.conf in it must parse. Then write its files under
 * root. *has_conf says whether it held host.conf (backup.sh's archives hold /etc/hostname,
 * /etc/passwd, /etc/shadow only). Nothing is written when the archive is refused.
 */
int hc_state_unpack(const char *path, const char *root, bool *has_conf, struct diag *d);
/*
 * Save: pack, and unless dir/state.tgz holds the same bytes, write dir/state.tgz.new, fsync it,
 * rename it over dir/state.tgz and fsync dir. A cut at any moment leaves the previous archive or
 * the new one whole: state.tgz, or when it is missing or refused, a whole state.tgz.new (the
 * restore tries both, in that order). *saved says whether anything was written.
 */
int hc_state_save(const char *root, const char *dir, bool *saved, struct diag *d);

#endif
