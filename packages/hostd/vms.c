/* Virtual machines in hostd (vms.h, docs/vms.md). */
#define _GNU_SOURCE
#include "vms.h"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "hostd.h"
#include "reply.h"
#include "sysfile.h"
#include "util.h"
#include "vmdef.h"
#include "vmnet.h"

#define DATASTORE "vmfs/volumes/datastore1"
#define CGROUP "/sys/fs/cgroup"
#define CONSOLE_MAX (1024 * 1024) /* console.log is rotated to console.log.1 at this size */
#define STOP_MS 10000            /* power-off: SIGTERM, then SIGKILL after this */
#define EXIT_MS 3000             /* hostd's exit: the same, shorter (init gives hostd 5 s) */

struct vm {
	char name[VM_NAME_MAX + 1];
	pid_t pid;
	int out_fd, log_fd; /* vmm's stdout and stderr (a pipe); console.log */
	size_t log_bytes;
	struct event *ev;
	bool stopping, spoke;  /* spoke: the console had its first output */
	struct timespec start; /* CLOCK_MONOTONIC at power-on */
	struct vms *v;
	struct vm *next;
};

struct vms {
	struct event_base *base;
	struct event *sigchld;
	bool live, cgroups;
	char *ds, *kvm, *vmm; /* the datastore's folder, /dev/kvm, the vmm program */
	struct vm *run;      /* the running VMs */
	struct vmnet *net;   /* their NICs' taps */
};

static void vlog(const struct vms *v, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void vlog(const struct vms *v, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
	if (!v->live) {
		va_start(ap, fmt);
		fputs("hostd: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputs("\n", stderr);
		va_end(ap);
	}
}

static int fail(struct api_error *e, int status, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct api_error *e, int status, const char *field, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	snprintf(e->field, sizeof(e->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Write s to a file of /sys (cgroup knobs); 0 or -1 with errno. */
static int knob_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = -1, saved;

	if (fd >= 0) {
		r = sysfile_write_all(fd, s, strlen(s)) == 0 ? 0 : -1;
		saved = errno;
		close(fd);
		errno = saved;
	}
	return r;
}

/* ---- files: the definition and the console under DATASTORE/NAME ---- */

static char *vm_file(const struct vms *v, const char *name, const char *leaf)
{
	return xasprintf("%s/%s/%s", v->ds, name, leaf);
}

/* The definition of name; -1 with a 404 when there is none, 500 when it cannot be read. */
static int def_load(const struct vms *v, const char *name, struct vm_def *d, struct api_error *e)
{
	char *leaf = xasprintf("%s.json", name), *path = vm_file(v, name, leaf), *text = NULL;
	size_t len;
	int r = util_read_file(path, &text, &len);

	if (r < 0 && r != -ENOENT)
		fail(e, 500, "", "%s: %s; see the datastore", path, strerror(-r));
	else if (r < 0)
		fail(e, 404, "name", "no VM named %s; GET /api/vms lists them", name);
	else if ((r = vm_def_parse(text, len, NULL, d, e)) < 0) {
		vlog(v, LOG_ERR, "%s: %s", path, e->msg);
		fail(e, 500, "", "the definition %s is damaged: %.900s; fix or delete it", path, e->msg);
	}
	free(text), free(path), free(leaf);
	return r < 0 ? -1 : 0;
}

static int def_save(const struct vms *v, const struct vm_def *d, struct api_error *e)
{
	char *dir = vm_file(v, d->name, ""), *leaf = xasprintf("%s.json", d->name), *path = vm_file(v, d->name, leaf);
	json_t *o = vm_def_json(d);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int r = util_mkdir_p(dir, 0755);

	if (r == 0)
		r = util_write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0)
		fail(e, 500, "", "cannot write %s: %s; is the datastore mounted and not full?", path, strerror(-r));
	json_decref(o);
	free(text), free(path), free(leaf), free(dir);
	return r < 0 ? -1 : 0;
}

static struct vm *running(const struct vms *v, const char *name)
{
	for (struct vm *m = v->run; m; m = m->next)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

/* ---- the console: vmm's output appended to console.log, rotated at CONSOLE_MAX ---- */

static int console_open(const struct vms *v, const char *name, bool fresh)
{
	char *path = vm_file(v, name, "console.log"), *old = vm_file(v, name, "console.log.1");
	int fd;

	if (fresh)
		unlink(old);
	else
		rename(path, old);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	free(path), free(old);
	return fd;
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void console_write(struct vms *v, struct vm *m, const char *buf, size_t n)
{
	if (!m->spoke && n > 0) {
		m->spoke = true;
		vlog(v, LOG_INFO, "VM %s: first console output %.3f s after power-on", m->name, since(&m->start));
	}
	if (m->log_fd >= 0 && m->log_bytes + n > CONSOLE_MAX) {
		close(m->log_fd);
		m->log_fd = console_open(v, m->name, false);
		m->log_bytes = 0;
	}
	if (m->log_fd >= 0 && write(m->log_fd, buf, n) == (ssize_t)n)
		m->log_bytes += n;
}

/* Read what vmm wrote; false at its end (EOF or an error). */
static bool console_drain(struct vms *v, struct vm *m)
{
	char buf[16384];
	ssize_t n;

	while (m->out_fd >= 0 && (n = read(m->out_fd, buf, sizeof(buf))) != 0) {
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		console_write(v, m, buf, (size_t)n);
	}
	return false;
}

static void on_output(evutil_socket_t fd, short what, void *arg)
{
	struct vm *m = arg;

	(void)fd, (void)what;
	if (!console_drain(m->v, m) && m->ev) {
		event_del(m->ev);
		close(m->out_fd);
		m->out_fd = -1;
	}
}

/* ---- processes ---- */

static const char *exit_text(int st)
{
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGKILL ? "killed" : "ended by a signal";
	switch (WEXITSTATUS(st)) {
	case 0:
		return "the guest powered off";
	case 1:
		return "vmm could not start the VM (its console log says why)";
	case 2:
		return "the guest rebooted";
	case 3:
		return "stopped";
	default:
		return "the guest crashed (its console log says how)";
	}
}

static void cgroup_remove(const struct vms *v, const char *name)
{
	char *dir = xasprintf(CGROUP "/vms/%s", name);

	if (v->cgroups && rmdir(dir) < 0 && errno != ENOENT)
		vlog(v, LOG_WARNING, "cannot remove the cgroup %s: %s", dir, strerror(errno));
	free(dir);
}

static void vm_unlink(struct vms *v, struct vm *m)
{
	for (struct vm **p = &v->run; *p; p = &(*p)->next)
		if (*p == m) {
			*p = m->next;
			break;
		}
}

static int vm_start(struct vms *v, const struct vm_def *d, struct api_error *e);

/* vmm ended with status st: the rest of its output kept, its cgroup removed; a guest reboot
 * boots it again (vmm exits 2 for that), unless hostd is stopping it. */
static void vm_ended(struct vms *v, struct vm *m, int st)
{
	struct vm_def d;
	struct api_error e;
	char line[160];
	bool again = !m->stopping && WIFEXITED(st) && WEXITSTATUS(st) == 2;

	console_drain(v, m);
	snprintf(line, sizeof(line), "hostd: vmm ended: %s\n", exit_text(st));
	console_write(v, m, line, strlen(line));
	vlog(v, LOG_INFO, "VM %s: vmm (pid %d) ended: %s", m->name, (int)m->pid, exit_text(st));
	if (m->ev)
		event_free(m->ev);
	if (m->out_fd >= 0)
		close(m->out_fd);
	if (m->log_fd >= 0)
		close(m->log_fd);
	cgroup_remove(v, m->name);
	vmnet_down(v->net, m->name);
	vm_unlink(v, m);
	if (again && def_load(v, m->name, &d, &e) == 0 && vm_start(v, &d, &e) < 0)
		vlog(v, LOG_ERR, "VM %s: cannot boot it again after its reboot: %s", m->name, e.msg);
	free(m);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct vms *v = arg;
	struct vm *m = v->run, *next;
	int st;

	(void)sig, (void)what;
	for (; m; m = next) {
		next = m->next;
		if (waitpid(m->pid, &st, WNOHANG) == m->pid)
			vm_ended(v, m, st);
	}
}

/* The VM's cgroup v2 group with its limits; fd of its cgroup.procs, or -1 with e set. */
static int cgroup_make(const struct vm_def *d, struct api_error *e)
{
	char *dir = xasprintf(CGROUP "/vms/%s", d->name), *mem = xasprintf("%s/memory.max", dir),
	     *cpu = xasprintf("%s/cpu.max", dir), *procs = xasprintf("%s/cgroup.procs", dir);
	char val[64];
	int fd = -1;

	snprintf(val, sizeof(val), "%llu\n", vm_memory_max(d));
	if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || knob_write(mem, val) < 0)
		fail(e, 500, "", "cannot make the cgroup %s with memory.max: %s; see the host's log", dir, strerror(errno));
	else if (vm_cpu_max(d, val, sizeof(val)), knob_write(cpu, val) < 0)
		fail(e, 500, "", "cannot set %s: %s", cpu, strerror(errno));
	else if ((fd = open(procs, O_WRONLY | O_CLOEXEC)) < 0)
		fail(e, 500, "", "cannot open %s: %s", procs, strerror(errno));
	free(dir), free(mem), free(cpu), free(procs);
	return fd;
}

/* In the child: into the cgroup, the console pipe on stdout and stderr, a new session, vmm. */
static void child(int procs, int out, char **argv)
{
	sigset_t none;
	int null = open("/dev/null", O_RDONLY);

	if (procs >= 0 && write(procs, "0\n", 2) != 2) {
		dprintf(out, "hostd: cannot join the VM's cgroup: %s\n", strerror(errno));
		_exit(126);
	}
	dup2(null, 0), dup2(out, 1), dup2(out, 2);
	setsid();
	/* hostd's end (even a crash) stops its VMs: the hostd that init starts again powers on the
	 * autostart ones, never a second vmm for the same VM. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(argv[0], argv);
	dprintf(2, "hostd: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* A datastore file the VM names: there, and inside the datastore (no symlink out of it). */
static int file_check(const struct vms *v, const char *field, const char *rel, struct api_error *e)
{
	char *path = xasprintf("%s/%s", v->ds, rel), real[PATH_MAX], top[PATH_MAX];
	size_t n;
	int r = 0;

	if (!realpath(path, real))
		r = fail(e, 409, field, "%s: the datastore has no file %s; upload it with PUT /api/datastore/%s", field, rel,
			 rel);
	else if (!realpath(v->ds, top) || strncmp(real, top, (n = strlen(top))) != 0 || real[n] != '/')
		r = fail(e, 400, field, "%s: %s leads out of the datastore (a symbolic link); name a file in it", field, rel);
	free(path);
	return r;
}

static int start_checks(struct vms *v, const struct vm_def *d, struct api_error *e)
{
	if (access(v->kvm, R_OK | W_OK) != 0)
		return fail(e, 409, "",
			    "/dev/kvm is missing: this host has no usable hardware virtualization (kvm_intel or kvm_amd "
			    "did not load: VT-x/AMD-V absent or off in the firmware, or not passed to this host if it is "
			    "itself a VM); VMs cannot run here");
	if (file_check(v, "kernel", d->kernel, e) < 0 || (d->initrd[0] && file_check(v, "initrd", d->initrd, e) < 0))
		return -1;
	for (int i = 0; i < d->ndisks; i++)
		if (file_check(v, "disks", d->disks[i], e) < 0)
			return -1;
	if (v->live && !v->cgroups)
		return fail(e, 500, "", "cgroup v2 is not available at " CGROUP " (see the host's log); VMs run only "
					"with their limits");
	return 0;
}

static struct vm *vm_new(struct vms *v, const char *name, int out, int log)
{
	struct vm *m = xmalloc(sizeof(*m));

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->out_fd = out, m->log_fd = log, m->v = v;
	m->ev = event_new(v->base, out, EV_READ | EV_PERSIST, on_output, m);
	event_add(m->ev, NULL);
	m->next = v->run, v->run = m;
	return m;
}

static int vm_start(struct vms *v, const struct vm_def *d, struct api_error *e)
{
	char *argv[VM_ARGV_MAX];
	int pipefd[2], procs = -1, log;
	struct timespec t0;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (start_checks(v, d, e) < 0 || vmnet_up(v->net, d, e) < 0)
		return -1;
	if (v->cgroups && (procs = cgroup_make(d, e)) < 0)
		return vmnet_down(v->net, d->name), -1;
	if ((log = console_open(v, d->name, true)) < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		if (log >= 0)
			close(log);
		if (procs >= 0)
			close(procs);
		vmnet_down(v->net, d->name);
		return fail(e, 500, "", "cannot make the VM's console log: %s; is the datastore mounted?", strerror(errno));
	}
	vm_argv(d, v->vmm, v->ds, argv);
	if ((pid = fork()) == 0)
		child(procs, pipefd[1], argv);
	vm_argv_free(argv);
	close(pipefd[1]);
	if (procs >= 0)
		close(procs);
	if (pid < 0) {
		close(pipefd[0]), close(log);
		vmnet_down(v->net, d->name);
		return fail(e, 500, "", "cannot start vmm: %s", strerror(errno));
	}
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	struct vm *m = vm_new(v, d->name, pipefd[0], log);
	m->pid = pid, m->start = t0;
	vlog(v, LOG_INFO, "VM %s: vmm started (pid %d, %d MiB, %d vCPUs, %d NICs)", d->name, (int)pid, d->memory_mib,
	     d->cpus, d->nics);
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

/* SIGTERM to every one of the list that is running, SIGKILL after ms; each reaped. */
static void vms_stop(struct vms *v, const char *only, int ms)
{
	struct vm *m, *next;
	int st;

	for (m = v->run; m; m = m->next)
		if (!only || !strcmp(m->name, only))
			m->stopping = true, kill(m->pid, SIGTERM);
	for (int waited = 0;; waited += 50) {
		bool left = false;
		for (m = v->run; m; m = next) {
			next = m->next;
			if (!m->stopping)
				continue;
			console_drain(v, m);
			if (waited >= ms)
				kill(m->pid, SIGKILL), waitpid(m->pid, &st, 0), vm_ended(v, m, st);
			else if (waitpid(m->pid, &st, WNOHANG) == m->pid)
				vm_ended(v, m, st);
			else
				left = true;
		}
		if (!left)
			return;
		sleep_ms(50);
	}
}

/* ---- the calls ---- */

static json_t *vm_summary(const struct vms *v, const struct vm_def *d, bool full)
{
	struct vm *m = running(v, d->name);
	json_t *o = full ? vm_def_json(d) : json_pack("{s:s}", "name", d->name);

	json_object_set_new(o, "state", json_string(m ? "running" : "stopped"));
	if (!full) {
		json_object_set_new(o, "memory_mib", json_integer(d->memory_mib));
		json_object_set_new(o, "cpus", json_integer(d->cpus));
		json_object_set_new(o, "autostart", json_boolean(d->autostart));
	}
	if (m && full)
		json_object_set_new(o, "pid", json_integer(m->pid));
	if (full)
		json_object_set_new(o, "network_adapters", vm_nics_json(d));
	return o;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the VMs on the datastore (folders NAME holding NAME.json), sorted; count in *n. */
static char **names_list(const struct vms *v, size_t *n)
{
	DIR *dp = opendir(v->ds);
	struct dirent *de;
	char **names = NULL;

	*n = 0;
	while (dp && (de = readdir(dp))) {
		char *leaf = xasprintf("%s.json", de->d_name), *path = vm_file(v, de->d_name, leaf);
		if (vm_name_valid(de->d_name) && access(path, F_OK) == 0) {
			names = realloc(names, (*n + 1) * sizeof(*names));
			names[(*n)++] = xstrdup(de->d_name);
		}
		free(leaf), free(path);
	}
	if (dp)
		closedir(dp);
	if (*n)
		qsort(names, *n, sizeof(*names), name_cmp);
	return names;
}

static json_t *list_json(const struct vms *v)
{
	size_t n;
	char **names = names_list(v, &n);
	json_t *a = json_array();
	struct vm_def d;
	struct api_error e;

	for (size_t i = 0; i < n; i++) {
		if (def_load(v, names[i], &d, &e) == 0)
			json_array_append_new(a, vm_summary(v, &d, false));
		free(names[i]);
	}
	free(names);
	return a;
}

/* MACs for the NICs of d that have none (kept in its definition from then on). */
static int macs_fill(struct vm_def *d, struct api_error *e)
{
	unsigned char random[6 * VM_NICS_MAX];

	if (d->nmacs >= d->nics)
		return 0;
	if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
		return fail(e, 500, "", "cannot make MACs for the NICs: %s", strerror(errno));
	vm_macs_fill(d, random, sizeof(random));
	return 0;
}

static int create(struct vms *v, const char *text, size_t len, json_t **out, struct api_error *e)
{
	struct vm_def d, old;

	if (vm_def_parse(text, len, NULL, &d, e) < 0 || macs_fill(&d, e) < 0)
		return -1;
	if (def_load(v, d.name, &old, e) == 0 || e->status != 404)
		return e->status == 404 || e->status == 0 ? fail(e, 409, "name", "a VM named %s exists; pick another name",
								  d.name)
							   : -1;
	if (def_save(v, &d, e) < 0)
		return -1;
	*out = vm_summary(v, &d, true);
	return 201;
}

static int patch(struct vms *v, const char *text, size_t len, const char *name, json_t **out, struct api_error *e)
{
	struct vm_def cur, d;

	if (def_load(v, name, &cur, e) < 0 || vm_def_parse(text, len, &cur, &d, e) < 0 || macs_fill(&d, e) < 0 ||
	    def_save(v, &d, e) < 0)
		return -1;
	*out = vm_summary(v, &d, true);
	return 200;
}

static int delete_vm(struct vms *v, const char *name, json_t **out, struct api_error *e)
{
	struct vm_def d;
	char *leaf = xasprintf("%s.json", name), *files[] = {vm_file(v, name, leaf), vm_file(v, name, "console.log"),
							       vm_file(v, name, "console.log.1"), vm_file(v, name, "")};
	int r = def_load(v, name, &d, e);

	if (r == 0 && running(v, name))
		r = fail(e, 409, "", "%s is running; power it off first", name);
	if (r == 0 && unlink(files[0]) < 0)
		r = fail(e, 500, "", "cannot remove %s: %s", files[0], strerror(errno));
	if (r == 0) {
		unlink(files[1]), unlink(files[2]);
		rmdir(files[3]); /* only when empty: the VM's disks and other files stay */
		*out = json_pack("{s:s, s:s}", "name", name, "result", "deleted");
	}
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		free(files[i]);
	free(leaf);
	return r < 0 ? -1 : 200;
}

static json_t *state_json(const struct vms *v, const char *name)
{
	struct vm *m = running(v, name);
	json_t *o = json_pack("{s:s, s:s}", "name", name, "state", m ? "running" : "stopped");

	if (m)
		json_object_set_new(o, "pid", json_integer(m->pid));
	return o;
}

enum power { POWER_ON, POWER_OFF, RESET };

static int power(struct vms *v, enum power c, const char *name, json_t **out, struct api_error *e)
{
	struct vm_def d;

	if (def_load(v, name, &d, e) < 0)
		return -1;
	if (c == POWER_ON && running(v, name))
		return fail(e, 409, "", "%s is already running", name);
	if (c != POWER_ON && !running(v, name))
		return fail(e, 409, "", "%s is not running; power it on", name);
	if (c != POWER_ON)
		vms_stop(v, name, STOP_MS);
	if (c != POWER_OFF && vm_start(v, &d, e) < 0)
		return -1;
	*out = state_json(v, name);
	return 200;
}

/* ---- the calls (routes.def): the VM's name checked, the answer given, a change audited ---- */

/* c->arg is a VM's name (404 when it cannot be one: it names no file). */
static int named(const struct call *c, struct api_error *e)
{
	return vm_name_valid(c->arg) ? 0 : fail(e, 404, "name", "no VM named %s; GET /api/vms lists them", c->arg);
}

static void answer(struct call *c, int status, json_t *out, struct api_error *e)
{
	if (status > 0 && api_changes(c->id))
		audit(c, c->arg, NULL);
	if (status > 0)
		reply(c->req, status, out);
	else if (api_changes(c->id))
		refuse(c, c->arg, e);
	else
		reply_error(c->req, e);
}

void get_vms(struct call *c)
{
	reply(c->req, 200, list_json(c->hd->vms));
}

void post_vm(struct call *c)
{
	struct api_error e = {0};
	json_t *out = NULL;
	int status = create(c->hd->vms, c->body, c->len, &out, &e);

	answer(c, status, out, &e);
}

void get_vm(struct call *c)
{
	struct api_error e = {0};
	struct vm_def d;

	if (named(c, &e) < 0 || def_load(c->hd->vms, c->arg, &d, &e) < 0)
		return answer(c, -1, NULL, &e);
	answer(c, 200, vm_summary(c->hd->vms, &d, true), &e);
}

void patch_vm(struct call *c)
{
	struct api_error e = {0};
	json_t *out = NULL;
	int status = named(c, &e) < 0 ? -1 : patch(c->hd->vms, c->body, c->len, c->arg, &out, &e);

	answer(c, status, out, &e);
}

void delete_vm_call(struct call *c)
{
	struct api_error e = {0};
	json_t *out = NULL;
	int status = named(c, &e) < 0 ? -1 : delete_vm(c->hd->vms, c->arg, &out, &e);

	answer(c, status, out, &e);
}

static void power_call(struct call *c, enum power p)
{
	struct api_error e = {0};
	json_t *out = NULL;
	int status = named(c, &e) < 0 ? -1 : power(c->hd->vms, p, c->arg, &out, &e);

	answer(c, status, out, &e);
}

void post_vm_power_on(struct call *c)
{
	power_call(c, POWER_ON);
}

void post_vm_power_off(struct call *c)
{
	power_call(c, POWER_OFF);
}

void post_vm_reset(struct call *c)
{
	power_call(c, RESET);
}

/* The console: console.log.1 (when rotated) and console.log, as text. */
void get_vm_console(struct call *c)
{
	struct vms *v = c->hd->vms;
	struct api_error e = {0};
	struct vm_def d;
	struct evbuffer *b;
	const char *leaves[] = {"console.log.1", "console.log"};
	struct stat st;

	if (named(c, &e) < 0 || def_load(v, c->arg, &d, &e) < 0)
		return answer(c, -1, NULL, &e);
	b = evbuffer_new();
	for (size_t i = 0; i < 2; i++) {
		char *path = vm_file(v, c->arg, leaves[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0)
			evbuffer_add_file(b, fd, 0, st.st_size); /* takes fd */
		else if (fd >= 0)
			close(fd);
		free(path);
	}
	sreq_reply_buffer(c->req, 200, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/* ---- setup ---- */

/* cgroup2 at /sys/fs/cgroup (mounted when it is not), the controllers enabled for /vms and its groups. */
static bool cgroups_setup(const struct vms *v)
{
	const char *ctl = "+cpu +memory +cpuset +pids";

	if (access(CGROUP "/cgroup.controllers", F_OK) != 0 &&
	    mount("cgroup2", CGROUP, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		vlog(v, LOG_ERR, "cannot mount cgroup2 at " CGROUP ": %s; VMs cannot be powered on", strerror(errno));
		return false;
	}
	if (knob_write(CGROUP "/cgroup.subtree_control", ctl) < 0 || (mkdir(CGROUP "/vms", 0755) < 0 && errno != EEXIST) ||
	    knob_write(CGROUP "/vms/cgroup.subtree_control", ctl) < 0) {
		vlog(v, LOG_ERR, "cannot enable the cgroup controllers (%s) for " CGROUP "/vms: %s; is the kernel built "
				 "with MEMCG, CFS_BANDWIDTH and CPUSETS?", ctl, strerror(errno));
		return false;
	}
	return true;
}

struct vms *vms_new(struct event_base *base, const struct host *h)
{
	struct vms *v = xmalloc(sizeof(*v));
	const char *vmm = getenv("HOSTD_VMM");

	memset(v, 0, sizeof(*v));
	v->base = base;
	v->live = h->live;
	v->ds = host_path(h, DATASTORE);
	v->kvm = host_path(h, "dev/kvm");
	v->vmm = xstrdup(vmm && *vmm ? vmm : "/usr/bin/vmm");
	v->cgroups = v->live && cgroups_setup(v);
	v->net = vmnet_new(h);
	v->sigchld = evsignal_new(base, SIGCHLD, on_sigchld, v);
	event_add(v->sigchld, NULL);
	return v;
}

void vms_autostart(struct vms *v)
{
	size_t n;
	char **names = names_list(v, &n);
	struct vm_def d;
	struct api_error e;

	for (size_t i = 0; i < n; i++) {
		if (def_load(v, names[i], &d, &e) == 0 && d.autostart && !running(v, d.name)) {
			if (d.nics && !vmnet_wait(v->net, 10000)) /* at boot the network service may not have made it yet */
				vlog(v, LOG_WARNING, "VM %s: the bridge " VMNET_BRIDGE " is not there after 10 s", d.name);
			if (vm_start(v, &d, &e) < 0)
				vlog(v, LOG_ERR, "VM %s: autostart failed: %s", d.name, e.msg);
			else
				vlog(v, LOG_NOTICE, "VM %s: started (autostart)", d.name);
		}
		free(names[i]);
	}
	free(names);
}

void vms_free(struct vms *v)
{
	vms_stop(v, NULL, EXIT_MS);
	vmnet_free(v->net);
	event_free(v->sigchld);
	free(v->ds), free(v->kvm), free(v->vmm);
	free(v);
}
