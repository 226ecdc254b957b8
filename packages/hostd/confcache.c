/* hostd's copy of the running configuration (confcache.h). */
#define _GNU_SOURCE
#include "confcache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

static void id_of(const struct host *h, const char *rel, struct auth_file_id *id)
{
	char *path = host_path(h, rel);
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) == 0)
		*id = (struct auth_file_id){true, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
	free(path);
}

static bool same(const struct auth_file_id *a, const struct auth_file_id *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

const struct hc_config *conf_cache_get(struct conf_cache *cc, const struct host *h, struct diag *d)
{
	struct auth_file_id conf, name;
	struct hc_config c = {0};

	id_of(h, HC_CONF, &conf);
	id_of(h, "system/etc/hostname", &name);
	if (cc->valid && same(&conf, &cc->conf) && same(&name, &cc->name))
		return &cc->c;
	if (host_conf_load(h, &c, d) < 0) {
		hc_free(&c);
		return NULL;
	}
	conf_cache_free(cc);
	cc->c = c;
	cc->conf = conf, cc->name = name;
	cc->valid = true;
	return &cc->c;
}

void conf_cache_free(struct conf_cache *cc)
{
	if (cc->valid)
		hc_free(&cc->c);
	memset(cc, 0, sizeof(*cc));
}
