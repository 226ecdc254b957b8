/* A change of the configuration made live, for every interface (the hostcfg CLI, hostd, the
 * DCUI): applied, the reload hook run, and a save asked of the saver (host.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"

#define RELOAD_HOOK "usr/lib/hostcfg/reload"

/* The reload hook (docs/configuration.md): told which areas changed; absent until the supervisor
 * provides one. */
void host_reload(const struct host *h, unsigned changed)
{
	char *path = host_path(h, RELOAD_HOOK), *argv[HC_AREAS + 2] = {path};
	int n = 1, status;
	pid_t pid;

	for (int i = 0; i < HC_AREAS; i++)
		if (changed & (1u << i))
			argv[n++] = (char *)hc_area_name(i);
	if (n > 1 && access(path, X_OK) == 0 && (pid = fork()) >= 0) {
		if (pid == 0)
			execv(path, argv), _exit(127);
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fprintf(stderr, "hostcfg: %s failed; the daemons may run with the old settings\n", path);
	}
	free(path);
}

/* After a change from old to c: apply (on a failure, old again: nothing half written), run the
 * hook, and have the change saved (the saver, or now). */
int host_commit(struct host *h, const struct hc_config *old, const struct hc_config *c, struct diag *d)
{
	unsigned changed, undone;
	struct diag d2;
	int r = hc_apply(c, h->root, h->live, &changed, d);

	if (r < 0) {
		if (hc_apply(old, h->root, h->live, &undone, &d2) < 0)
			diag_print("hostcfg", &d2);
		return r;
	}
	host_reload(h, changed);
	if (host_saver_notify(h)) {
		printf("hostcfg: applied; the saver saves it into /bootbank/state.tgz shortly\n");
		return 0;
	}
	if (!host_has_bank(h)) {
		fprintf(stderr, "hostcfg: applied; not saved: no boot bank is mounted (a live boot)\n");
		return 0;
	}
	return host_save(h, d);
}

int host_edit(struct host *h, host_edit_fn edit, void *arg, struct diag *d)
{
	struct hc_config cur = {0}, next = {0};
	int r = host_lock(h, d);

	if (r == 0 && (r = host_conf_load(h, &cur, d)) == 0) {
		hc_copy(&next, &cur);
		if (edit(&cur, &next, arg, d) < 0 || hc_check(&next, d) < 0)
			r = HOST_EDIT_REFUSED;
		else
			r = host_commit(h, &cur, &next, d);
	}
	hc_free(&next);
	hc_free(&cur);
	host_unlock(h);
	return r;
}
