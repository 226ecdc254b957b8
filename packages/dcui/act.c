/* What the DCUI does to the host (act.h). */
#define _GNU_SOURCE
#include "act.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostconfig.h"
#include "model.h"
#include "sysfile.h"
#include "util.h"

const char *const act_net_keys[NF_N] = {"network-mode", "network-address", "network-gateway", "dns-servers",
					"hostname"};

char *act_file(const struct dcui_host *dh, const char *rel)
{
	char *path = host_path(&dh->h, rel), *data = NULL;
	size_t len;

	if (util_read_file(path, &data, &len) < 0)
		data = xstrdup("");
	free(path);
	return data;
}

void act_conf_value(const struct dcui_host *dh, const char *key, char *out, size_t size)
{
	struct hc_config c = {0};
	struct diag d;
	char *v = NULL;

	out[0] = '\0';
	if (host_conf_load(&dh->h, &c, &d) < 0)
		return;
	if (hc_get(&c, key, &v, &d) == 0)
		snprintf(out, size, "%s", v);
	free(v);
	hc_free(&c);
}

int act_login(const struct dcui_host *dh, const char *user, const char *password, char *msg, size_t size)
{
	struct auth_status st;
	struct hc_config c = {0};
	struct diag d;
	struct hc_user *u;
	char *group;
	bool admin;

	enum auth_result res = auth_check(&dh->ap, user, password, time(NULL), &st);

	switch (res) {
	case AUTH_OK:
	case AUTH_NO_PASSWORD:
		break;
	case AUTH_LOCKED:
		snprintf(msg, size, "Account locked after %d failed logins; wait %d minutes or have an administrator unlock it",
			 AUTH_LOCK_FAILURES, AUTH_UNLOCK_SECONDS / 60);
		return -1;
	case AUTH_ERROR:
		snprintf(msg, size, "The passwords cannot be read; see the log (View System Logs after a shell login)");
		return -1;
	default:
		snprintf(msg, size, "Login incorrect; check the user name and password");
		return -1;
	}
	if (host_conf_load(&dh->h, &c, &d) < 0) {
		snprintf(msg, size, "The configuration cannot be read: %.150s", d.msg);
		return -1;
	}
	u = hc_user_find(&c, user);
	admin = u && u->role == HC_ADMINISTRATOR;
	hc_free(&c);
	group = act_file(dh, "etc/group");
	admin = admin || dm_in_group(group, "localadmin", user);
	free(group);
	if (!admin) {
		snprintf(msg, size, "%.32s may not use the console UI; log in as an administrator or a localadmin member", user);
		return -1;
	}
	return res == AUTH_NO_PASSWORD ? 1 : 0;
}

/* fds 1 and 2 into a temporary file while the library prints what it does (the screen is curses'). */
struct capture {
	int saved[2];
	FILE *f;
};

static void capture_begin(struct capture *cap)
{
	fflush(stdout);
	fflush(stderr);
	cap->f = tmpfile();
	for (int i = 0; i < 2; i++) {
		cap->saved[i] = dup(i + 1);
		if (cap->f)
			dup2(fileno(cap->f), i + 1);
	}
}

/* Restore fds 1 and 2; the last line printed goes into msg when it is not empty. */
static void capture_end(struct capture *cap, char *msg, size_t size)
{
	char line[512];

	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 2; i++) {
		dup2(cap->saved[i], i + 1);
		close(cap->saved[i]);
	}
	if (!cap->f)
		return;
	rewind(cap->f);
	while (fgets(line, sizeof(line), cap->f))
		if (msg && line[0] != '\n') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(msg, size, "%s", line);
		}
	fclose(cap->f);
}

/* host_edit(edit, arg), with what the library prints kept off the screen: its last line, or
 * why the change was refused or failed, into msg. */
static int conf_change(struct dcui_host *dh, host_edit_fn edit, void *arg, char *msg, size_t size)
{
	struct capture cap;
	struct diag d;
	int r;

	msg[0] = '\0';
	capture_begin(&cap);
	r = host_edit(&dh->h, edit, arg, &d);
	capture_end(&cap, msg, size);
	if (r != 0)
		snprintf(msg, size, "%s", d.msg);
	return r != 0 ? -1 : 0;
}

static int edit_password(const struct hc_config *cur, struct hc_config *next, void *arg, struct diag *d)
{
	(void)cur;
	return hc_user_passwd(next, "root", arg, d);
}

int act_password(struct dcui_host *dh, const char *password, char *msg, size_t size)
{
	return conf_change(dh, edit_password, (void *)password, msg, size);
}

static int edit_network(const struct hc_config *cur, struct hc_config *next, void *arg, struct diag *d)
{
	char *const *val = arg;
	int r = 0;

	(void)cur;
	/* DHCP: the static address and gateway are left as they are (the model ignores them). */
	for (int i = 0; r == 0 && i < NF_N; i++)
		r = hc_set(next, act_net_keys[i], val[i], d);
	return r;
}

int act_network(struct dcui_host *dh, char *const val[NF_N], char *msg, size_t size)
{
	return conf_change(dh, edit_network, (void *)val, msg, size);
}

int act_defaults(struct dcui_host *dh, char *msg, size_t size)
{
	struct hc_config c = {0};
	struct capture cap;
	struct diag d;
	unsigned changed;
	int r = 0;

	if (host_lock(&dh->h, &d) < 0) {
		snprintf(msg, size, "%s", d.msg);
		return -1;
	}
	capture_begin(&cap);
	if (host_has_bank(&dh->h))
		r = host_state_remove(&dh->h, &d);
	host_defaults(&dh->h, &c);
	if (r == 0 && (r = hc_apply(&c, dh->h.root, dh->h.live, &changed, &d)) == 0)
		host_reload(&dh->h, changed);
	capture_end(&cap, NULL, 0);
	hc_free(&c);
	host_unlock(&dh->h);
	if (r < 0) {
		snprintf(msg, size, "%s", d.msg);
		return -1;
	}
	snprintf(msg, size, "The defaults are back and the saved state is removed");
	return 0;
}

/* The pid of the process named name whose parent is init (a service), or 0. */
static pid_t service_pid(const char *name)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (dir && !found && (e = readdir(dir))) {
		char path[300], text[1024], *p;
		long pid = strtol(e->d_name, &p, 10);
		int ppid = 0;
		if (*p || pid <= 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if (sysfile_read(path, text, sizeof(text)) <= 0 || !(p = strrchr(text, ')')))
			continue;
		/* "pid (comm) state ppid ..." */
		if (sscanf(p + 1, " %*c %d", &ppid) == 1 && ppid == 1 &&
		    strncmp(strchr(text, '(') + 1, name, strlen(name)) == 0 && strchr(text, '(')[1 + strlen(name)] == ')')
			found = (pid_t)pid;
	}
	if (dir)
		closedir(dir);
	return found;
}

int act_restart_hostd(const struct dcui_host *dh, char *msg, size_t size)
{
	pid_t old = service_pid("hostd"), now = 0;

	if (!dh->h.live) {
		snprintf(msg, size, "A test (--root): hostd is not signalled");
		return 0;
	}
	if (!old) {
		snprintf(msg, size, "hostd is not running; init starts it again after its back-off, or see the log");
		return -1;
	}
	kill(old, SIGTERM);
	for (int i = 0; i < 400 && (!now || now == old); i++) {
		usleep(100000);
		now = service_pid("hostd");
	}
	if (!now || now == old) {
		snprintf(msg, size, "hostd (pid %d) did not come back within 40 s; see View System Logs", (int)old);
		return -1;
	}
	snprintf(msg, size, "Management agents restarted: hostd pid %d is now pid %d", (int)old, (int)now);
	return 0;
}

int act_power(const struct dcui_host *dh, bool reboot, char *msg, size_t size)
{
	char *argv[] = {reboot ? "reboot" : "poweroff", NULL};
	char *out;

	if (!dh->h.live) {
		snprintf(msg, size, "A test (--root): the host would %s now", reboot ? "restart" : "shut down");
		return 0;
	}
	out = act_run(argv, 10);
	snprintf(msg, size, "%s %s", reboot ? "Restarting" : "Shutting down", out);
	free(out);
	return 0;
}

static void child_exec(char *const argv[], int out)
{
	int null = open("/dev/null", O_RDONLY);

	dup2(null, 0);
	dup2(out, 1);
	dup2(out, 2);
	execvp(argv[0], argv);
	dprintf(2, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

char *act_run(char *const argv[], int timeout)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	time_t end = time(NULL) + timeout;
	int fd[2], status;
	pid_t pid;

	buf[0] = '\0';
	if (pipe2(fd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		snprintf(buf, cap, "cannot run %s: %s\n", argv[0], strerror(errno));
		return buf;
	}
	if (pid == 0)
		child_exec(argv, fd[1]);
	close(fd[1]);
	for (;;) {
		struct pollfd p = {fd[0], POLLIN, 0};
		ssize_t n;
		if (time(NULL) >= end || poll(&p, 1, 1000) < 0 || (p.revents && (n = read(fd[0], buf + len, cap - len - 1)) <= 0))
			break;
		if (!p.revents)
			continue;
		len += (size_t)n;
		if (len + 1 == cap)
			buf = xrealloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	close(fd[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return buf;
}

char *act_resolve(const char *name)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char *out = xmalloc(1024), host[INET6_ADDRSTRLEN];
	size_t len = 0;
	int r = getaddrinfo(name, NULL, &hints, &res);

	out[0] = '\0';
	if (r != 0) {
		snprintf(out, 1024, "%s: cannot resolve: %s\n", name, gai_strerror(r));
		return out;
	}
	for (struct addrinfo *a = res; a && len < 900; a = a->ai_next)
		if (getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST) == 0)
			len += (size_t)snprintf(out + len, 1024 - len, "%s resolves to %s\n", name, host);
	freeaddrinfo(res);
	return out;
}

void act_addresses(char *out, size_t size)
{
	struct ifaddrs *ifa = NULL;
	char host[INET6_ADDRSTRLEN];
	size_t len = 0;

	out[0] = '\0';
	if (getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *a = ifa; a; a = a->ifa_next) {
		int fam = a->ifa_addr ? a->ifa_addr->sa_family : 0;
		if ((fam != AF_INET && fam != AF_INET6) || strcmp(a->ifa_name, "lo") == 0)
			continue;
		if (fam == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr))
			continue;
		if (getnameinfo(a->ifa_addr, fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
				host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		if (len + strlen(host) + 2 < size)
			len += (size_t)snprintf(out + len, size - len, "%s%s", len ? " " : "", host);
	}
	freeifaddrs(ifa);
}

void act_shell(void)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old[4];
	const int sigs[4] = {SIGINT, SIGQUIT, SIGTSTP, SIGTTOU};
	int status;
	pid_t pid;

	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &ign, &old[i]);
	pid = fork();
	if (pid == 0) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		/* Its own foreground process group (SIGTTOU still ignored for that), so that Ctrl-C
		 * reaches login and its shell, not the DCUI. */
		setpgid(0, 0);
		tcsetpgrp(0, getpid());
		for (int i = 0; i < 4; i++)
			sigaction(sigs[i], &dfl, NULL);
		execl("/usr/sbin/login", "login", (char *)NULL);
		dprintf(2, "dcui: cannot start /usr/sbin/login: %s\n", strerror(errno));
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	tcsetpgrp(0, getpgrp());
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
}
