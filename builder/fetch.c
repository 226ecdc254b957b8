#define _GNU_SOURCE
#include "fetch.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "util.h"

int fetch_parse_apt_sha256(const char *text, char ret_hex[HASH_HEX_LEN])
{
	/* Check the field's prefix before trusting the value: "SHA256: <64 hex>" at a line start. */
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t n;
		if (strncmp(p, "SHA256: ", 8) != 0)
			continue;
		n = strspn(p + 8, "0123456789abcdef");
		if (n != 64 || (p[8 + n] != '\n' && p[8 + n] != '\0'))
			return -ENOENT;
		memcpy(ret_hex, p + 8, 64);
		ret_hex[64] = '\0';
		return 0;
	}
	return -ENOENT;
}

static int apt_sha256(const struct recipe *r, const struct source *s, char hex[HASH_HEX_LEN], struct diag *d)
{
	char *spec = xasprintf("%s=%s", s->ref, s->version);
	char *argv[] = {"apt-cache", "show", "--no-all-versions", spec, NULL};
	struct buf out = {0};
	int st = run_argv(argv, NULL, NULL, NULL, &out), err = 0;

	if (st != 0 || fetch_parse_apt_sha256(out.data ? out.data : "", hex) < 0)
		err = diag_set(d, r->path, s->line, "Debian package %s is not in apt's index; run 'apt-get update', "
			"or pick a version listed by 'apt-cache policy %s'", spec, s->ref);
	buf_free(&out);
	free(spec);
	return err;
}

/* The .deb apt-get download left in dir. */
static char *find_deb(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char *found = NULL;

	while (dp && (e = readdir(dp)))
		if (!found && strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".deb") == 0)
			found = xasprintf("%s/%s", dir, e->d_name);
	if (dp)
		closedir(dp);
	return found;
}

static int apt_download(const struct recipe *r, const struct source *s, const char *dl_dir, const char *dest,
			struct diag *d)
{
	char *tmp = xasprintf("%s/.tmp-%ld", dl_dir, (long)getpid()), *spec = xasprintf("%s=%s", s->ref, s->version);
	char *log = xasprintf("%s.log", tmp), *deb;
	char *argv[] = {"apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", spec, NULL};
	int st, err = 0;

	util_rm_rf(tmp);
	util_mkdir_p(tmp, 0755);
	st = run_argv(argv, tmp, NULL, log, NULL);
	deb = find_deb(tmp);
	if (st != 0 || !deb)
		err = diag_set(d, r->path, s->line, "apt-get download %s failed (see %s); check the network and "
			"'apt-cache policy %s'", spec, log, s->ref);
	else if (rename(deb, dest) < 0)
		err = diag_set(d, dest, 0, "cannot store the download: %s", strerror(errno));
	if (err == 0)
		unlink(log);
	util_rm_rf(tmp);
	free(deb);
	free(log);
	free(spec);
	free(tmp);
	return err;
}

static int check_hash(const struct recipe *r, int line, const char *path, const char *want,
		      char hex[HASH_HEX_LEN], const char *fix, struct diag *d)
{
	int e = hash_file(path, hex);

	if (e < 0)
		return diag_set(d, r->path, line, "cannot read %s: %s; %s", path, strerror(-e), fix);
	if (strcmp(hex, want) != 0)
		return diag_set(d, r->path, line, "sha256 mismatch for %s (got %.12s…, expected %.12s…); %s",
				path, hex, want, fix);
	return 0;
}

/* The cache keeps "<file>.deb" and "<file>.deb.sha256", the hash apt's metadata gave when fetched. */
static int fetch_deb(const struct recipe *r, const struct source *s, const char *dl_dir, char **ret_path,
		     char hex[HASH_HEX_LEN], struct diag *d)
{
	char *path = xasprintf("%s/%s_%s.deb", dl_dir, s->ref, s->version), *side = xasprintf("%s.sha256", path);
	char want[HASH_HEX_LEN], *saved = NULL;
	int err = 0;

	if (access(path, F_OK) == 0 && util_read_file(side, &saved, NULL) == 0 && strlen(saved) >= 64) {
		memcpy(want, saved, 64);
		want[64] = '\0';
	} else {
		unlink(path);
		err = apt_sha256(r, s, want, d);
		if (err == 0)
			err = apt_download(r, s, dl_dir, path, d);
		if (err == 0 && check_hash(r, s->line, path, want, hex, "the download is corrupt; run make again", d) < 0) {
			unlink(path);
			err = -EINVAL;
		}
		if (err == 0) {
			char *line = xasprintf("%s\n", want);
			util_write_file_atomic(side, line, strlen(line), 0644);
			free(line);
		}
	}
	free(saved);
	if (err == 0)
		err = check_hash(r, s->line, path, want, hex, "delete it to fetch it again", d);
	free(side);
	if (err < 0)
		free(path);
	else
		*ret_path = path;
	return err;
}

static int fetch_tar(const struct recipe *r, const struct source *s, const char *dl_dir, char **ret_path,
		     char hex[HASH_HEX_LEN], struct diag *d)
{
	char *path;
	int err = 0;

	if (strstr(s->ref, "://")) {
		const char *base = strrchr(s->ref, '/') + 1;
		path = xasprintf("%s/%s", dl_dir, *base ? base : "download.tar");
		if (access(path, F_OK) != 0) {
			/* Into PATH.part<pid> first: a download cut short never stands as the file. */
			char *part = xasprintf("%s.part%ld", path, (long)getpid());
			char *argv[] = {"curl", "-fsSL", "-o", part, s->ref, NULL};
			if (run_argv(argv, NULL, NULL, NULL, NULL) != 0 || rename(part, path) < 0)
				err = diag_set(d, r->path, s->line, "cannot download %s; check the URL and the network", s->ref);
			unlink(part);
			free(part);
		}
	} else {
		path = xstrdup(s->ref);
		if (access(path, F_OK) != 0)
			err = diag_set(d, r->path, s->line, "missing source %s; add the file or fix the path", path);
	}
	if (err == 0)
		err = check_hash(r, s->line, path, s->sha256, hex, "re-download it or update the hash", d);
	if (err < 0)
		free(path);
	else
		*ret_path = path;
	return err;
}

static int fetch_file(const struct recipe *r, const struct source *s, char **ret_path, char hex[HASH_HEX_LEN],
		      struct diag *d)
{
	int e;

	if (access(s->ref, F_OK) != 0)
		return diag_set(d, r->path, s->line, "missing source file %s; add it or fix the path", s->ref);
	if ((e = hash_tree(s->ref, hex)) < 0)
		return diag_set(d, r->path, s->line, "cannot read source %s: %s", s->ref, strerror(-e));
	*ret_path = xstrdup(s->ref);
	return 0;
}

int fetch_source(const struct recipe *r, const struct source *s, const char *dl_dir,
		 char **ret_path, char ret_hex[HASH_HEX_LEN], struct diag *d)
{
	switch (s->kind) {
	case SOURCE_DEB:
		return fetch_deb(r, s, dl_dir, ret_path, ret_hex, d);
	case SOURCE_TAR:
		return fetch_tar(r, s, dl_dir, ret_path, ret_hex, d);
	default:
		return fetch_file(r, s, ret_path, ret_hex, d);
	}
}
