/* hostcfg restore, at boot (host.h, restore_run). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"

/* The first state archive of the bank that unpacks whole: state.tgz, else state.tgz.new; the name
 * used, or NULL. A refused archive is printed and *damaged set. */
static const char *archive_restore(struct host *h, bool *has_conf, bool *damaged, struct diag *dd)
{
	static const char *const names[] = {"bootbank/state.tgz", "bootbank/state.tgz.new"};
	const char *used = NULL;

	for (size_t i = 0; !used && i < 2; i++) {
		char *p = host_path(h, names[i]);
		struct diag d;
		if (access(p, F_OK) == 0 && hc_state_unpack(p, h->root, has_conf, &d) == 0)
			used = names[i];
		else if (access(p, F_OK) == 0 && i == 0)
			*damaged = true, *dd = d;
		else if (access(p, F_OK) == 0)
			diag_print("hostcfg", &d);
		free(p);
	}
	return used;
}

/* backup.sh's archives hold /etc/hostname and /etc/shadow without host.conf: their hostname and
 * root's sha512-crypt hash are taken over, the rest stays at the defaults. */
static void legacy_import(const struct host *h, struct hc_config *c)
{
	char *path = host_path(h, "etc/hostname"), *text = NULL, *line;
	size_t len;
	struct diag d;

	if (util_read_file(path, &text, &len) == 0) {
		text[strcspn(text, "\n")] = '\0';
		hc_set(c, "hostname", text, &d);
	}
	free(text), free(path), text = NULL;
	path = host_path(h, "etc/shadow");
	if (util_read_file(path, &text, &len) == 0 && (line = strstr(text, "root:")) && (line == text || line[-1] == '\n')) {
		line += 5;
		line[strcspn(line, ":\n")] = '\0';
		hc_user_set_hash(c, "root", line, &d);
	}
	if (text)
		explicit_bzero(text, len);
	free(text), free(path);
}

/* The commands, waited for by a process of their own session that reports how they ended. */
static void __attribute__((noreturn)) firstboot_watch(char *const argv[])
{
	int status = 0;
	pid_t pid;

	setsid();
	if ((pid = fork()) == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "hostcfg: the %%firstboot commands failed (exit %d); they do not run again\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	else
		printf("hostcfg: the %%firstboot commands ran\n");
	_exit(0);
}

/* Start the first-boot commands (already removed from the bank: at most once) with /bin/sh, in the
 * background: the boot goes on (init's watchdog is running) while they run. */
static void firstboot_run(const struct host *h, const char *script, size_t len)
{
	char *dir = host_path(h, "run/hostcfg"), *path = host_path(h, "run/hostcfg/firstboot.sh");
	char *argv[] = {"/bin/sh", path, NULL};
	pid_t pid;

	fflush(stdout);
	if (util_mkdir_p(dir, 0755) < 0 || util_write_file_atomic(path, script, len, 0700) < 0)
		fprintf(stderr, "hostcfg: cannot write %s; the %%firstboot commands did not run\n", path);
	else if ((pid = fork()) == 0)
		firstboot_watch(argv);
	else if (pid < 0)
		fprintf(stderr, "hostcfg: cannot start the %%firstboot commands; they do not run again\n");
	else
		printf("hostcfg: started the %%firstboot commands (%s)\n", path);
	free(dir), free(path);
}

/* Bank A's first boot: the installer's settings applied and saved, the files removed, the
 * commands run. 0 when there were none; -EINVAL with d filled when they were refused. */
static int firstboot(struct host *h, bool *found, struct diag *d)
{
	char *conf = host_path(h, "bootbank/firstboot.conf"), *sh = host_path(h, "bootbank/firstboot.sh"), *script = NULL;
	struct hc_config c = {0};
	unsigned changed;
	size_t len = 0;
	int r;

	struct hc_config base;

	*found = access(conf, F_OK) == 0;
	host_defaults(h, &base);
	r = *found ? hc_load_over(conf, &base, &c, d) : 0;
	hc_free(&base);
	if (*found && r == 0 && (r = hc_apply(&c, h->root, h->live, &changed, d)) == 0) {
		bool has_script = util_read_file(sh, &script, &len) == 0;
		if ((r = host_firstboot_done(h, d)) == 0) {
			printf("hostcfg: applied the installer's first-boot settings\n");
			if (has_script)
				firstboot_run(h, script, len);
		}
	}
	free(script), free(conf), free(sh);
	hc_free(&c);
	return r;
}

static int defaults_apply(struct host *h, struct diag *d)
{
	struct hc_config c;
	unsigned changed;
	int r;

	host_defaults(h, &c);
	r = hc_apply(&c, h->root, h->live, &changed, d);
	hc_free(&c);
	return r;
}

/* The restored files, host.conf first: applied (sethostname, and the files made again). */
static int restored_apply(struct host *h, bool has_conf, struct diag *d)
{
	struct hc_config c = {0};
	unsigned changed;
	int r = 0;

	if (has_conf) {
		r = host_conf_load(h, &c, d);
	} else {
		host_defaults(h, &c);
		legacy_import(h, &c);
	}
	if (r == 0)
		r = hc_apply(&c, h->root, h->live, &changed, d);
	hc_free(&c);
	return r;
}

int restore_run(struct host *h, struct diag *d)
{
	bool has_conf = false, damaged = false, found = false;
	struct diag bad;
	const char *used = archive_restore(h, &has_conf, &damaged, &bad);
	int r;

	if (used) {
		if ((r = restored_apply(h, has_conf, d)) == 0)
			printf("hostcfg: restored the configuration from /%s\n", used);
		if (r == 0 && damaged)
			diag_print("hostcfg", &bad);
		return r;
	}
	if (!damaged && (r = firstboot(h, &found, d)) < 0) {
		diag_print("hostcfg", d);
		found = false;
	}
	if (found)
		return 0;
	r = defaults_apply(h, d);
	if (r == 0 && damaged) {
		*d = bad;
		return -EINVAL;
	}
	return r;
}
