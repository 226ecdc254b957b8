/* Step 7: the environment after BOOT-OK, and a login-less shell on the console, kept alive. */
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHELL "/bin/sh"

static void hostname_set(void)
{
	char text[256], *cursor = text, *name;
	/* The saved configuration's (state.tgz), else the image's default. */
	ssize_t len = sysfile_read("/etc/hostname", text, sizeof(text));

	if (len == -ENOENT)
		len = sysfile_read("/system/etc/hostname", text, sizeof(text));
	if (len == -ENOENT)
		return; /* optional: the kernel's default name stays */
	if (len < 0) {
		log_error("cannot read /etc/hostname: %s; fix or remove it", strerror((int)-len));
		return;
	}
	name = sysfile_line_next(&cursor);
	if (name && name[0] != '\0' && sethostname(name, strlen(name)) < 0)
		log_error("cannot set hostname '%s': %s; put at most 64 characters in /etc/hostname", name,
			  strerror(errno));
}

void session_prepare(void)
{
	/* The payload's tools come first; the initramfs's busybox is the fallback. */
	setenv("PATH", "/usr/sbin:/usr/bin:/bin:/sbin", 1);
	hostname_set();
}

/*
 * The terminal behind /dev/console (the last of console= on the command line): /dev/console itself
 * never becomes a controlling terminal, and a shell without one has no job control and no Ctrl-C.
 */
static void console_path(char *path, size_t size)
{
	char active[128], *name;

	if (sysfile_read("/sys/class/tty/console/active", active, sizeof(active)) <= 0) {
		snprintf(path, size, "/dev/console");
		return;
	}
	active[strcspn(active, "\n")] = '\0';
	name = strrchr(active, ' ');
	snprintf(path, size, "/dev/%s", name ? name + 1 : active);
}

static void __attribute__((noreturn)) shell_exec(const char *tty)
{
	int fd;

	setsid();
	fd = sysfile_tty_open(tty, O_RDWR);
	if (fd < 0)
		fd = sysfile_tty_open("/dev/console", O_RDWR);
	if (fd >= 0) {
		ioctl(fd, TIOCSCTTY, 0);
		for (int i = 0; i < 3; i++)
			dup2(fd, i);
		if (fd > 2)
			close(fd);
	}
	/* A leading '-' makes it a login shell, so it reads /etc/profile like a console login would. */
	execl(SHELL, "-sh", (char *)NULL);
	log_error("cannot run %s: %s; put busybox and its sh link into the initramfs", SHELL, strerror(errno));
	_exit(127);
}

static pid_t shell_spawn(const char *tty)
{
	static bool started;
	static struct timespec last;
	struct timespec now;
	pid_t pid;

	/* A shell that dies at once (no /bin/sh, a broken tty) must not respawn in a tight loop. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (started && now.tv_sec - last.tv_sec < 2)
		sleep(2);
	started = true;
	clock_gettime(CLOCK_MONOTONIC, &last);
	pid = fork();
	if (pid == 0)
		shell_exec(tty);
	if (pid < 0)
		log_error("cannot start the console shell: %s; init retries in 2 s", strerror(errno));
	return pid;
}

/* As PID 1 we inherit every orphan: reap them all, and restart the shell when it is the one that ends. */
static void on_alarm(int sig)
{
	(void)sig;
}

void shell_supervise(void)
{
	/* No SA_RESTART: the alarm must interrupt waitpid() (PID 1 ignores signals it has no handler for). */
	struct sigaction sa = {.sa_handler = on_alarm};
	char tty[160];
	pid_t shell = -1;

	sigaction(SIGALRM, &sa, NULL);
	console_path(tty, sizeof(tty));
	for (;;) {
		pid_t pid;

		if (shell < 0)
			shell = shell_spawn(tty);
		/* Wake at least every 10 s to feed the watchdog. */
		watchdog_ping();
		alarm(10);
		pid = waitpid(-1, NULL, 0);
		alarm(0);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid == shell)
			shell = -1;
		else if (pid < 0 && errno == ECHILD)
			shell = -1; /* no child at all: the fork failed */
	}
}
