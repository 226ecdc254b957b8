/* The appliance's PID 1: boot steps (the services up to their readiness among them), the one-line
 * boot report, then the services supervised until shutdown. See README.md. */
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define INSTALLER "/usr/sbin/installer"

/* Each step needs the ones before it, so the first failure ends the sequence. */
static const struct {
	boot_step_fn fn;
	const char *name; /* for the boot log */
} boot_steps[] = {
	{mounts_setup, "mounts"},    /* 1: /proc, /sys, /dev, /run, /tmp and the console */
	{modules_load, "modules"},   /* 2: /etc/modules.load */
	{drivers_load, "drivers"},   /*    the drivers the hardware present needs (/etc/modules.alias) */
	{watchdog_start, "watchdog"}, /* a hang from here on reboots the machine */
	{payload_mount, "payload"},  /* 3: /system.sqfs on /system */
	{system_drivers_load, "system-drivers"}, /* the payload's modules and drivers (/system/etc) */
	{config_read, "config"},     /* 4: version and bootbank= */
	{health_check, "health"},    /* 5: the health table */
	{bank_mount, "banks"},       /*    on a disk: /bootbank, /altbootbank, the saved configuration */
	{services_start, "services"}, /*   the services, until the essential ones are ready */
	{bank_commit, "bank-commit"}, /* 6: on a disk, mark the booted bank good (only a healthy boot gets here) */
};

static const char *boot_run(struct boot_state *st)
{
	for (size_t i = 0; i < ARRAY_SIZE(boot_steps); i++) {
		const char *reason = boot_steps[i].fn(st);

		if (reason) {
			log_step("step %s failed: %s", boot_steps[i].name, reason);
			return reason;
		}
		log_step("step %s done", boot_steps[i].name);
	}
	return NULL;
}

/* Tests and the bootloader's try logic read the serial port, whatever console= says. */
static void report_write(const struct boot_state *st, const char *reason)
{
	char line[160];
	int len, fd;

	if (reason)
		len = snprintf(line, sizeof(line), "BOOT-FAILED reason=%s\n", reason);
	else
		len = snprintf(line, sizeof(line), "BOOT-OK bank=%s version=%s\n", st->bank, st->version);
	fd = sysfile_tty_open("/dev/ttyS0", O_WRONLY);
	if (fd < 0) {
		log_error("cannot open /dev/ttyS0: %s; the boot result goes to the console only", strerror(errno));
		fd = dup(STDOUT_FILENO);
	}
	if (fd < 0 || sysfile_write_all(fd, line, (size_t)len) < 0)
		log_error("cannot write the boot result; check the serial port");
	if (fd >= 0) {
		tcdrain(fd); /* the line must leave before a reboot or power-off cuts it */
		close(fd);
	}
}

static void __attribute__((noreturn)) system_end(int how, unsigned int delay)
{
	sync();
	sleep(delay);
	reboot(how);
	log_error("cannot %s: %s; init exits instead, so the kernel panics and panic=N restarts it",
		  how == RB_POWER_OFF ? "power off" : "reboot", strerror(errno));
	_exit(1);
}

/* The installer (packages/installer) is a program apart: started after BOOT-OK when the command
 * line says so, before the console sessions. It reboots or powers off when it installed; when it
 * returns, the sessions start. */
static void installer_start(void)
{
	int status;
	pid_t pid;

	watchdog_stop(); /* nothing feeds it while the installer waits for an answer */
	pid = fork();
	if (pid == 0) {
		services_child_signals();
		execl(INSTALLER, "installer", (char *)NULL);
		log_error("cannot run %s: %s; the system payload lacks the installer, rebuild the image", INSTALLER,
			  strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		log_error("cannot start the installer: %s", strerror(errno));
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

int main(void)
{
	struct boot_state st = { .bank = "live" };
	const char *reason;

	if (getpid() != 1) {
		/* It mounts over /dev and reboots on failure: never let it run on a build host by mistake. */
		log_error("must run as process 1; boot it as the kernel's init, not from a shell");
		return 1;
	}
	reason = boot_run(&st);
	report_write(&st, reason);
	if (reason)
		system_end(RB_AUTOBOOT, 2); /* 2 s so the console shows why before the reset */
	log_step("boot reported healthy");
	if (st.installer)
		installer_start();
	if (st.poweroff)
		services_shutdown(RB_POWER_OFF);
	services_run();
}
