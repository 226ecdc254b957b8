/* hostd's copy of the running configuration (packages/hostcfg's host_conf_load), read again only
 * when root/etc/hostcfg/host.conf or the image's host name file is another file than last time
 * (device, inode, size, modification time: hostcfg replaces host.conf by a rename). Every
 * authenticated call needs the caller's role from it; reading and parsing it each time was most
 * of the cost of a call. Changes are still made on a fresh load under hostcfg's lock. */
#ifndef HOSTD_CONFCACHE_H
#define HOSTD_CONFCACHE_H

#include <stdbool.h>

#include "cache.h"
#include "host.h"

struct conf_cache {
	struct hc_config c;
	bool valid;
	struct auth_file_id conf, name;
};

/* The running configuration, owned by the cache (valid until the next call); NULL with d filled
 * when it cannot be read. */
const struct hc_config *conf_cache_get(struct conf_cache *cc, const struct host *h, struct diag *d);
void conf_cache_free(struct conf_cache *cc);

#endif
