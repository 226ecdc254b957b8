/* The services' processes (service.h has their files and the decisions): started in dependency
 * order, their output carried to the console and syslog, restarted with back-off within their
 * limit, judged ready, stopped at shutdown; every orphan reaped. One loop, poll(2) on a signalfd
 * and the services' output pipes. */
#define _GNU_SOURCE
#include "init.h"
#include "service.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Looked in, in this order: the first file of a name wins, so /etc/services.d overrides. */
static const char *const service_dirs[] = {"/etc/services.d", "/usr/lib/services"};

static struct service svcs[SERVICE_MAX];
static size_t n_svcs, order[SERVICE_MAX];
static int sig_fd = -1;
static bool sessions;      /* the services on a tty may start (after BOOT-OK) */
static bool essentials_up; /* every essential service was ready once: the others may start */
static bool stopping;      /* shutting down: nothing restarts */
static bool health_dirty = true;

double services_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- /run/health ---------------------------------------------------------------------------- */

static void health_write(void)
{
	char text[8192];
	size_t len = 0;
	bool ok = true;

	for (size_t i = 0; i < n_svcs; i++)
		if (svcs[i].problem[0] && len < sizeof(text)) {
			ok = false;
			len += (size_t)snprintf(text + len, sizeof(text) - len, "service %s: %s\n", svcs[i].name,
						svcs[i].problem);
		}
	if (len > sizeof(text))
		len = sizeof(text);
	int fd = open(HEALTH_FILE ".new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || sysfile_write_all(fd, ok ? "ok\n" : "degraded\n", ok ? 3 : 9) < 0 ||
	    sysfile_write_all(fd, text, len) < 0 || close(fd) < 0 || rename(HEALTH_FILE ".new", HEALTH_FILE) < 0)
		log_error("cannot write %s: %s; the management daemon cannot read the host's health", HEALTH_FILE,
			  strerror(errno));
	health_dirty = false;
}

/* A problem for /run/health, also on the console. */
static void __attribute__((format(printf, 2, 3))) problem(struct service *svc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(svc->problem, sizeof(svc->problem), fmt, ap);
	va_end(ap);
	log_error("service %s: %s", svc->name, svc->problem);
	health_dirty = true;
}

/* --- loading -------------------------------------------------------------------------------- */

static bool loaded(const char *name)
{
	for (size_t i = 0; i < n_svcs; i++)
		if (strcmp(svcs[i].name, name) == 0)
			return true;
	return false;
}

static void load_file(const char *dir, const char *name)
{
	char path[160], text[4096];
	struct service *svc = &svcs[n_svcs];
	ssize_t len;

	if (n_svcs == SERVICE_MAX) {
		log_error("more than %d services: %s/%s is not started; remove service files", SERVICE_MAX, dir, name);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	len = sysfile_read(path, text, sizeof(text));
	n_svcs++;
	if (len < 0) {
		service_parse(svc, name, path, "", 0);
		snprintf(svc->problem, sizeof(svc->problem), "%s: cannot read it: %s; fix its permissions or size "
			 "(at most 4 KiB)", path, strerror((int)-len));
		return;
	}
	service_parse(svc, name, path, text, (size_t)len); /* a BAD one is reported by services_load */
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of dir in name order (editor backups and dot files skipped). */
static void load_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *names[SERVICE_MAX * 2];
	size_t n = 0;

	if (!d)
		return; /* optional */
	while ((e = readdir(d)) && n < ARRAY_SIZE(names)) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || (len && e->d_name[len - 1] == '~') || loaded(e->d_name))
			continue;
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < n; i++) {
		load_file(dir, names[i]);
		free(names[i]);
	}
}

/* --- output --------------------------------------------------------------------------------- */

/* A line of a service's output: to syslog through /dev/log when it is there, and on the console,
 * but for in a console session when syslog took it (log_console_quiet). */
static void output_line(const struct service *svc, const char *line, size_t len)
{
	char msg[400];
	int n;

	if (log_syslog(LOG_DAEMON | LOG_INFO, svc->name, line, len) && log_console_is_quiet())
		return;
	n = snprintf(msg, sizeof(msg), "%s: %.*s\n", svc->name, (int)len, line);
	if (n > 0) /* one write, as log.c's lines */
		sysfile_write_all(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

static void output_read(struct service *svc)
{
	char chunk[512];
	ssize_t n = read(svc->out_fd, chunk, sizeof(chunk));

	if (n <= 0) {
		if (n < 0 && errno == EINTR)
			return;
		if (svc->out_len)
			output_line(svc, svc->out_line, svc->out_len);
		svc->out_len = 0;
		close(svc->out_fd);
		svc->out_fd = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		bool full = svc->out_len == sizeof(svc->out_line); /* a long line goes out in pieces */
		if (full || chunk[i] == '\n') {
			output_line(svc, svc->out_line, svc->out_len);
			svc->out_len = 0;
		}
		if (chunk[i] != '\n')
			svc->out_line[svc->out_len++] = chunk[i];
	}
}

/* --- starting ------------------------------------------------------------------------------- */

void services_child_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child, now its user: keep svc->caps as permitted, effective, inheritable and ambient
 * capabilities, so that they survive the exec of its (not set-uid) command. No libcap: init is
 * static with musl, and this is one system call and a prctl per capability. */
static int child_keep_caps(const struct service *svc)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2] = {{0, 0, 0}, {0, 0, 0}};

	for (int i = 0; i < 2; i++) {
		data[i].permitted = (__u32)(svc->caps >> (32 * i));
		data[i].effective = data[i].inheritable = data[i].permitted;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -1;
	for (int c = 0; c < 64; c++)
		if ((svc->caps >> c & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return -1;
	return 0;
}

/* In the child: its user's group and id, from /etc/passwd, and the capabilities it keeps; exits
 * 126 when it cannot. */
static void child_user(const struct service *svc)
{
	struct passwd *pw;

	if (!svc->user[0] || strcmp(svc->user, "root") == 0)
		return;
	pw = getpwnam(svc->user);
	if (!pw) {
		log_error("service %s: no user '%s' in /etc/passwd; add the user or fix 'user' in %s", svc->name,
			  svc->user, svc->path);
		_exit(126);
	}
	if ((svc->caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) || setgroups(0, NULL) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_error("service %s: cannot become user %s: %s", svc->name, svc->user, strerror(errno));
		_exit(126);
	}
	if (svc->caps && child_keep_caps(svc) < 0) {
		log_error("service %s: cannot keep its capabilities as user %s: %s", svc->name, svc->user,
			  strerror(errno));
		_exit(126);
	}
	setenv("HOME", pw->pw_dir, 1);
	setenv("USER", pw->pw_name, 1);
}

/* In the child: stdin from /dev/null and the output into the pipe, or all three on its tty. */
static void child_fds(const struct service *svc, int out_fd)
{
	int null_fd;

	if (svc->tty[0]) {
		if (session_tty_attach(svc->tty) < 0)
			_exit(126);
		return;
	}
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd >= 0 && null_fd != 0) {
		dup2(null_fd, 0);
		close(null_fd);
	}
	dup2(out_fd, 1);
	dup2(out_fd, 2);
	if (out_fd > 2)
		close(out_fd);
}

static void __attribute__((noreturn)) child_exec(const struct service *svc, int out_fd)
{
	services_child_signals();
	setsid();
	child_fds(svc, out_fd);
	child_user(svc);
	execv(svc->command.argv[0], svc->command.argv);
	/* stderr is the pipe or the tty: init logs this line under the service's name. */
	dprintf(2, "cannot run %s: %s; fix 'command' in %s\n", svc->command.argv[0], strerror(errno), svc->path);
	_exit(127);
}

/* A socket file left by the service's previous run would look ready at once. */
static void stale_socket_remove(const struct service *svc)
{
	struct stat st;

	if (svc->ready == READY_PATH && lstat(svc->ready_arg, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(svc->ready_arg);
}

static void spawn(struct service *svc)
{
	int p[2] = {-1, -1};
	pid_t pid;

	stale_socket_remove(svc);
	if (!svc->tty[0] && pipe2(p, O_CLOEXEC) < 0) {
		log_error("service %s: cannot make its output pipe: %s; its output goes to the console only", svc->name,
			  strerror(errno));
		p[0] = p[1] = -1;
	}
	pid = fork();
	if (pid == 0)
		child_exec(svc, p[1]);
	if (p[1] >= 0)
		close(p[1]);
	if (pid < 0) {
		log_error("cannot start service %s: %s; init retries", svc->name, strerror(errno));
		if (p[0] >= 0)
			close(p[0]);
		svc->state = SVC_BACKOFF;
		svc->restart_at = services_now() + 1;
		return;
	}
	if (svc->out_fd >= 0)
		close(svc->out_fd); /* a previous run's pipe whose end was not seen yet */
	svc->out_fd = p[0];
	svc->out_len = 0;
	svc->pid = pid;
	svc->started = services_now();
	if (svc->first_start == 0) {
		static unsigned seq;
		svc->first_start = svc->started;
		svc->start_seq = ++seq;
	}
	svc->state = SVC_STARTING;
	log_step("%s started (pid %d)", svc->name, (int)pid);
}

/* --- readiness ------------------------------------------------------------------------------ */

/* Whether HOST:PORT (IPv4 or localhost) accepts a connection now. */
static bool tcp_ready(const char *arg)
{
	char host[108];
	const char *colon = strrchr(arg, ':');
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t len = sizeof(err);

	snprintf(host, sizeof(host), "%.*s", (int)(colon - arg), arg);
	sin.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sin.sin_addr) != 1)
		return false;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
		if (errno != EINPROGRESS || poll(&pfd, 1, 50) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
			err = -1;
	}
	close(fd);
	return err == 0;
}

static bool is_ready(const struct service *svc)
{
	struct stat st;

	switch (svc->ready) {
	case READY_STARTED:
		return true;
	case READY_PATH:
		return stat(svc->ready_arg, &st) == 0;
	case READY_TCP:
		return tcp_ready(svc->ready_arg);
	default:
		return false; /* READY_EXITED: judged when it exits */
	}
}

static void mark_ready(struct service *svc)
{
	svc->state = SVC_READY;
	svc->was_ready = true;
	if (svc->late) {
		svc->late = false;
		svc->problem[0] = '\0';
		health_dirty = true;
	}
	log_step("%s ready", svc->name);
}

/* Not ready within ready-timeout of its first start, whether it still runs or crashed meanwhile. */
static void check_late(struct service *svc, double now)
{
	if (svc->late || svc->was_ready || svc->first_start == 0 || now - svc->first_start < svc->ready_timeout)
		return;
	svc->late = true;
	problem(svc, "not ready within its ready-timeout of %d s; see its output in /var/log/messages", svc->ready_timeout);
}

/* --- exits ---------------------------------------------------------------------------------- */

static void describe_status(int status, char *text, size_t size)
{
	if (WIFEXITED(status))
		snprintf(text, size, "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(text, size, "was killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void on_exit_restart(struct service *svc, const char *how)
{
	double now = services_now();
	int delay;

	if (!service_restart_allowed(svc, now)) {
		svc->state = SVC_GIVEN_UP;
		problem(svc, "given up: it %s, beyond its restart-limit of %d in %d s; see its output in /var/log/messages, fix "
			"it and reboot", how, svc->limit_n, svc->limit_s);
		return;
	}
	delay = service_backoff(svc, now - svc->started);
	svc->state = SVC_BACKOFF;
	svc->restart_at = now + delay;
	log_step("%s %s; restarting it in %d s", svc->name, how, delay);
}

static void on_exit(struct service *svc, int status)
{
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	char how[64];

	svc->pid = 0;
	describe_status(status, how, sizeof(how));
	if (stopping) {
		svc->state = SVC_STOPPED;
		return;
	}
	if (svc->ready == READY_EXITED && ok && !svc->was_ready) {
		log_step("%s exited", svc->name);
		mark_ready(svc);
		svc->state = SVC_DONE;
		return;
	}
	if (!service_wants_restart(svc, ok)) {
		svc->state = SVC_DONE;
		log_step("%s %s; not restarted (restart = %s)", svc->name, how,
			 svc->restart == RESTART_NEVER ? "never" : "on-failure");
		if (!ok)
			problem(svc, "%s; see its output in /var/log/messages", how);
		return;
	}
	on_exit_restart(svc, how);
}

/* Every child that ended: services get their exit handled, orphans are only reaped. */
static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (size_t i = 0; i < n_svcs; i++)
			if (svcs[i].pid == pid)
				on_exit(&svcs[i], status);
}

/* --- the loop ------------------------------------------------------------------------------- */

/* Another session already on svc's terminal (console=tty1 puts the console's on tty1 too). */
static const struct service *tty_taken(const struct service *svc)
{
	char mine[160], theirs[160];

	session_tty_path(svc->tty, mine, sizeof(mine));
	for (size_t i = 0; i < n_svcs; i++) {
		if (&svcs[i] == svc || !svcs[i].tty[0] || svcs[i].first_start == 0 || svcs[i].state == SVC_DONE)
			continue;
		session_tty_path(svcs[i].tty, theirs, sizeof(theirs));
		if (strcmp(mine, theirs) == 0)
			return &svcs[i];
	}
	return NULL;
}

static void tick_waiting(struct service *svc, size_t i)
{
	const struct service *other;
	size_t failed = 0;
	int deps;

	if (svc->tty[0] && !sessions)
		return;
	if (!svc->essential && !essentials_up)
		return;
	if (svc->tty[0] && (other = tty_taken(svc))) {
		svc->state = SVC_DONE;
		log_step("%s not started: its terminal is %s's", svc->name, other->name);
		return;
	}
	deps = service_deps(svcs, i, &failed);
	if (deps > 0) {
		spawn(svc);
	} else if (deps < 0) {
		svc->state = SVC_BAD;
		problem(svc, "not started: it needs %s, which %s; see the messages about %s above", svcs[failed].name,
			svcs[failed].state == SVC_BAD ? "could not start" : "failed", svcs[failed].name);
	}
}

/* Whether every essential service was ready once (or cannot be: a bad file), from then on. */
static void essentials_check(void)
{
	if (essentials_up)
		return;
	for (size_t i = 0; i < n_svcs; i++)
		if (svcs[i].essential && !svcs[i].was_ready && svcs[i].state != SVC_BAD)
			return;
	essentials_up = true;
}

/* Start, judge and restart what is due. The essential services start first, alone: the others
 * wait until those are ready (on one slow CPU they would share it, and BOOT-OK, which waits for
 * the essential ones only, would come later). */
static void tick(void)
{
	double now = services_now();

	essentials_check();

	for (size_t k = 0; k < n_svcs && !stopping; k++) {
		size_t i = order[k];
		struct service *svc = &svcs[i];

		if (svc->state == SVC_WAITING)
			tick_waiting(svc, i);
		else if (svc->state == SVC_STARTING && svc->pid > 0 && is_ready(svc))
			mark_ready(svc);
		if (svc->state == SVC_STARTING || svc->state == SVC_BACKOFF)
			check_late(svc, now);
		if (svc->state == SVC_BACKOFF && now >= svc->restart_at)
			spawn(svc);
	}
	if (health_dirty)
		health_write();
}

/* How long the loop may sleep: 20 ms while a readiness is being polled, until the next restart
 * otherwise, at most max_ms. */
static int sleep_ms(int max_ms)
{
	double now = services_now(), ms = max_ms;

	for (size_t i = 0; i < n_svcs; i++) {
		const struct service *svc = &svcs[i];
		if (svc->state == SVC_STARTING && svc->ready != READY_EXITED && ms > 20)
			ms = 20;
		if (svc->state == SVC_BACKOFF && (svc->restart_at - now) * 1000 < ms)
			ms = (svc->restart_at - now) * 1000;
	}
	return ms < 0 ? 0 : (int)ms + 1;
}

static void signals_read(void)
{
	struct signalfd_siginfo si;

	while (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue; /* reaped below, every time round */
		if (!stopping)
			services_shutdown(si.ssi_signo == SIGUSR2 ? RB_POWER_OFF
					  : si.ssi_signo == SIGUSR1 ? RB_HALT_SYSTEM
								    : RB_AUTOBOOT);
	}
}

/* One round: wait for a signal or output (at most max_ms), then reap, read and tick. */
static void loop_once(int max_ms)
{
	struct pollfd fds[SERVICE_MAX + 1] = {{.fd = sig_fd, .events = POLLIN}};
	struct service *owner[SERVICE_MAX + 1] = {NULL};
	nfds_t n = 1;

	for (size_t i = 0; i < n_svcs; i++)
		if (svcs[i].out_fd >= 0) {
			owner[n] = &svcs[i];
			fds[n++] = (struct pollfd){.fd = svcs[i].out_fd, .events = POLLIN};
		}
	watchdog_ping(); /* a wedged loop resets the machine; a shutdown takes up to 30 s */
	if (poll(fds, n, sleep_ms(max_ms)) > 0) {
		for (nfds_t k = 1; k < n; k++)
			if (fds[k].revents)
				output_read(owner[k]);
		if (fds[0].revents)
			signals_read();
	}
	reap();
	if (!stopping)
		tick();
}

/* --- boot ----------------------------------------------------------------------------------- */

static void signals_take(void)
{
	static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0)
		log_error("cannot make a signalfd: %s; services are not restarted and reboot does not work, "
			  "build the kernel with SIGNALFD", strerror(errno));
	/* Ctrl-Alt-Del sends SIGINT to init instead of resetting at once. */
	reboot(RB_DISABLE_CAD);
}

static void services_load(void)
{
	size_t bad = 0;

	signals_take();
	for (size_t d = 0; d < ARRAY_SIZE(service_dirs); d++)
		load_dir(service_dirs[d]);
	service_order(svcs, n_svcs, order);
	for (size_t i = 0; i < n_svcs; i++)
		if (svcs[i].state == SVC_BAD) {
			bad++;
			log_error("service %s not started: %s", svcs[i].name, svcs[i].problem);
		}
	log_step("services: %zu loaded, %zu not started for errors in their files", n_svcs, bad);
	if (n_svcs == 0)
		log_error("no service files in /etc/services.d or /usr/lib/services; nothing but init runs, "
			  "put base-files into the image's system payload");
	health_write();
}

/* An essential service still not ready (maybe not even started) beyond its budget. */
static void check_budget(struct service *svc, double since)
{
	if (svc->late || since < svc->budget)
		return;
	svc->late = true;
	problem(svc, "not ready within %d s of the services' start (its ready-timeout and its dependencies'); "
		"see the messages above", svc->budget);
}

/* NULL when every essential service is ready, else the reason "service-<name>". */
static const char *essential_state(double t0, bool *waiting)
{
	static char reason[SERVICE_NAME_MAX + 16];

	*waiting = false;
	for (size_t i = 0; i < n_svcs; i++) {
		struct service *svc = &svcs[i];
		if (!svc->essential || svc->was_ready)
			continue;
		check_budget(svc, services_now() - t0);
		if (svc->state == SVC_BAD || svc->state == SVC_GIVEN_UP || svc->state == SVC_DONE || svc->late) {
			snprintf(reason, sizeof(reason), "service-%.*s", SERVICE_NAME_MAX - 1, svc->name);
			return reason;
		}
		*waiting = true;
	}
	return NULL;
}

const char *services_start(struct boot_state *st)
{
	const char *reason;
	bool waiting;
	double t0;

	(void)st;
	session_prepare();
	services_load();
	t0 = services_now();
	do {
		tick();
		reason = essential_state(t0, &waiting);
		if (!reason && waiting)
			loop_once(1000);
	} while (!reason && waiting);
	if (!reason)
		tick(); /* the services that waited for the essential ones start now, before BOOT-OK */
	return reason;
}

void services_run(void)
{
	sessions = true;
	log_console_quiet(true);
	for (;;) {
		tick();
		loop_once(10000); /* at least every 10 s for the watchdog */
	}
}

/* --- shutdown ------------------------------------------------------------------------------- */

#define SHUTDOWN_MAX 30 /* seconds for the whole shutdown, whatever the services' timeouts */

static double shutdown_deadline;

static double until(double seconds)
{
	double t = services_now() + seconds;

	return t < shutdown_deadline ? t : shutdown_deadline;
}

/* The service's stop command (e.g. saving its configuration), waited for up to its stop-timeout. */
static void stop_command(const struct service *svc)
{
	double end = until(svc->stop_timeout);
	int status;
	pid_t pid;

	log_step("running the stop command of %s", svc->name);
	pid = fork();
	if (pid == 0) {
		services_child_signals();
		setsid();
		child_user(svc);
		execv(svc->stop.argv[0], svc->stop.argv);
		log_error("service %s: cannot run its stop command %s: %s; fix 'stop' in %s", svc->name,
			  svc->stop.argv[0], strerror(errno), svc->path);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, WNOHANG) == 0) {
		if (services_now() >= end) {
			log_error("service %s: its stop command took over %d s; killed", svc->name, svc->stop_timeout);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		watchdog_ping();
		usleep(20000);
	}
}

/* SIGTERM to the service's process group, SIGKILL after its stop-timeout. */
static void stop_one(struct service *svc)
{
	double end = until(svc->stop_timeout);

	log_step("stopping %s", svc->name);
	if (kill(-svc->pid, SIGTERM) < 0)
		kill(svc->pid, SIGTERM);
	if (svc->tty[0]) /* an interactive shell ignores SIGTERM; its terminal hangs up */
		kill(-svc->pid, SIGHUP);
	while (svc->pid > 0 && services_now() < end)
		loop_once(100);
	if (svc->pid > 0) {
		log_error("service %s did not stop within %d s; killed", svc->name, svc->stop_timeout);
		kill(-svc->pid, SIGKILL);
		kill(svc->pid, SIGKILL);
		end = services_now() + 1;
		while (svc->pid > 0 && services_now() < end)
			loop_once(100);
	}
	if (svc->pid > 0) {
		log_error("service %s survived SIGKILL (pid %d); going on without it", svc->name, (int)svc->pid);
		svc->pid = 0;
		return;
	}
	log_step("stopped %s", svc->name);
}

/* Every process left: SIGTERM, 2 s, SIGKILL. */
static void stop_rest(void)
{
	double end = until(2);

	kill(-1, SIGTERM);
	while (waitpid(-1, NULL, WNOHANG) >= 0 && services_now() < end)
		usleep(20000);
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

static void unmount_one(const char *dir)
{
	if (umount(dir) < 0 && errno != EINVAL && errno != ENOENT &&
	    mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0 && umount2(dir, MNT_DETACH) < 0)
		log_error("cannot unmount %s: %s, ignoring", dir, strerror(errno));
}

/* What init mounted (bankctl may have remounted /altbootbank read-write), the read-write ones
 * first; the kernel's own (/dev, /proc, /sys) stay. */
static void unmount_all(void)
{
	static const char *const dirs[] = {"/vmfs/volumes/datastore1", "/tmp", "/run", "/bootbank", "/altbootbank", "/system"};
	struct statvfs sv;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
			bool rw = statvfs(dirs[i], &sv) == 0 && !(sv.f_flag & ST_RDONLY);
			if (rw == (pass == 0))
				unmount_one(dirs[i]);
		}
}

/* The running service started last, or NULL: services stop in the reverse of their start order,
 * so each stops before what it runs after. */
static struct service *last_started(void)
{
	struct service *last = NULL;

	for (size_t i = 0; i < n_svcs; i++)
		if (svcs[i].pid > 0 && (!last || svcs[i].start_seq > last->start_seq))
			last = &svcs[i];
	return last;
}

void services_shutdown(int how)
{
	struct service *svc;

	const char *what = how == RB_POWER_OFF ? "power-off" : how == (int)RB_HALT_SYSTEM ? "halt" : "reboot";

	stopping = true;
	log_console_quiet(false); /* what stops, and why, on the console again */
	shutdown_deadline = services_now() + SHUTDOWN_MAX;
	log_step("shutting down for %s", what);
	for (size_t k = n_svcs; k-- > 0;) {
		svc = &svcs[order[k]];
		if (svc->stop.argv[0] && svc->pid > 0)
			stop_command(svc);
	}
	while ((svc = last_started()))
		stop_one(svc);
	stop_rest();
	log_step("%s now", what);
	unmount_all();
	sync();
	watchdog_stop(); /* a halted machine must stay halted */
	reboot(how);
	log_error("cannot %s: %s; init exits instead, so the kernel panics and panic=N restarts it", what,
		  strerror(errno));
	_exit(1);
}
