/* What hostd reads of the host for its answers (hostd.h), kept until the file it came from
 * changes: the configuration (host.conf, parsed) and small files such as run/health and
 * etc/os-release, each read again only when its identity (device, inode, size, change times)
 * differs from when it was read; proc/cmdline, fixed from boot (and without size or times to
 * compare), read once. A call's answer thus costs a stat() per file, not a read and a parse
 * (docs/api.md, "The server"). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "hostd.h"
#include "sysfile.h"
#include "util.h"

#define FILES_MAX 8

struct ident {
	bool absent;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

struct kept {
	char *rel, *data;
	struct ident id;
};

struct facts {
	bool conf_valid;
	struct ident conf_id;
	struct hc_config conf;
	char *conf_path;
	struct kept files[FILES_MAX];
	int nfiles;
	char *cmdline;
};

static struct ident ident_of(const char *path)
{
	struct stat st;
	struct ident id = {.absent = true};

	if (stat(path, &st) == 0)
		id = (struct ident){false, st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
	return id;
}

static bool ident_same(const struct ident *a, const struct ident *b)
{
	if (a->absent || b->absent)
		return a->absent && b->absent;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtim.tv_sec == b->mtim.tv_sec &&
	       a->mtim.tv_nsec == b->mtim.tv_nsec && a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

static struct facts *facts_of(struct hostd *hd)
{
	if (!hd->facts) {
		hd->facts = xmalloc(sizeof(*hd->facts));
		memset(hd->facts, 0, sizeof(*hd->facts));
		hd->facts->conf_path = host_path(&hd->h, HC_CONF);
	}
	return hd->facts;
}

/* Stat first, then read: a change between the two is seen at the next call. */
const struct hc_config *conf_get(struct hostd *hd, struct diag *d)
{
	struct facts *f = facts_of(hd);
	struct ident id = ident_of(f->conf_path);
	struct hc_config c = {0};

	if (f->conf_valid && ident_same(&id, &f->conf_id))
		return &f->conf;
	if (host_conf_load(&hd->h, &c, d) < 0) {
		hc_free(&c);
		return NULL;
	}
	hc_free(&f->conf);
	f->conf = c;
	f->conf_id = id;
	f->conf_valid = true;
	return &f->conf;
}

int conf_load(struct hostd *hd, struct hc_config *c, struct sreq *req)
{
	struct diag d;
	struct api_error e;
	const struct hc_config *cur = conf_get(hd, &d);

	if (cur) {
		hc_copy(c, cur);
		return 0;
	}
	logf_(hd, LOG_ERR, "%s", d.msg);
	error_set(&e, 500, "the configuration cannot be read; see the host's log");
	reply_error(req, &e);
	return -1;
}

static char *read_or_empty(const char *path)
{
	char *data = NULL;
	size_t len;

	if (util_read_file(path, &data, &len) < 0)
		data = xstrdup("");
	return data;
}

/* The kept copy of rel (a regular file), read again when it changed; NULL past FILES_MAX files. */
static const char *kept_file(struct facts *f, struct hostd *hd, const char *rel)
{
	char *path = host_path(&hd->h, rel);
	struct ident id = ident_of(path);
	struct kept *k = NULL;

	for (int i = 0; i < f->nfiles && !k; i++)
		if (strcmp(f->files[i].rel, rel) == 0)
			k = &f->files[i];
	if (!k && f->nfiles < FILES_MAX)
		k = &f->files[f->nfiles++], k->rel = xstrdup(rel), k->id.absent = true, k->data = NULL;
	if (k && (!k->data || !ident_same(&id, &k->id))) {
		free(k->data);
		k->data = read_or_empty(path);
		k->id = id;
	}
	free(path);
	return k ? k->data : NULL;
}

json_t *facts(struct hostd *hd)
{
	struct facts *f = facts_of(hd);
	const char *health = kept_file(f, hd, "run/health"), *osr = kept_file(f, hd, "etc/os-release");
	char version[256], *path;

	if (!f->cmdline)
		path = host_path(&hd->h, "proc/cmdline"), f->cmdline = read_or_empty(path), free(path);
	if (!sysfile_osrelease_value(osr ? osr : "", "VERSION_ID", version, sizeof(version)))
		version[0] = '\0';
	return json_pack("{s:s, s:s, s:s}", "status", api_health_status(health ? health : ""), "version", version,
			 "bank", sysfile_bank(f->cmdline));
}

void facts_free(struct hostd *hd)
{
	struct facts *f = hd->facts;

	if (!f)
		return;
	hc_free(&f->conf);
	for (int i = 0; i < f->nfiles; i++)
		free(f->files[i].rel), free(f->files[i].data);
	free(f->conf_path), free(f->cmdline);
	free(f);
	hd->facts = NULL;
}
