/* Shared declarations of the appliance's PID 1; README.md describes the boot sequence. */
#ifndef INIT_H
#define INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sysfile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* What the boot steps learn; the health checks and the final report read it. */
struct boot_state {
	char version[64]; /* VERSION_ID of the initramfs's /etc/os-release */
	char bank[8];     /* A, B or live, from bootbank= on the kernel command line */
	bool poweroff;    /* init.poweroff on the command line: tests want a clean exit, not a shell */
	bool installer;   /* installer on the command line: start the installer after BOOT-OK */
};

/*
 * Every boot step and health check returns NULL when all is well, else a short reason without
 * spaces for the BOOT-FAILED line, after printing the details with log_error().
 */
typedef const char *(*boot_step_fn)(struct boot_state *st);

/* Boot steps, in the order init.c runs them. */
const char *mounts_setup(struct boot_state *st);  /* early.c */
const char *modules_load(struct boot_state *st);  /* modules.c */
const char *drivers_load(struct boot_state *st);  /* drivers.c */
const char *payload_mount(struct boot_state *st); /* payload.c */
const char *system_drivers_load(struct boot_state *st); /* drivers.c */
const char *config_read(struct boot_state *st);   /* config.c */
const char *health_check(struct boot_state *st);  /* health.c */
const char *bank_mount(struct boot_state *st);    /* bank.c */
const char *services_start(struct boot_state *st); /* supervise.c */
const char *bank_commit(struct boot_state *st);   /* bank.c */
const char *watchdog_start(struct boot_state *st); /* watchdog.c */

/* shell.c: PATH and the hostname, before the first service starts. */
void session_prepare(void);
/* In a service's child: make tty ("console": the console's real terminal) its controlling
 * terminal and fds 0-2; 0, or -1 with the error printed. */
int session_tty_attach(const char *tty);
/* The terminal tty names ("console": the console's real one) into path. */
void session_tty_path(const char *tty, char *path, size_t size);

/* supervise.c, after BOOT-OK: supervise the services for ever, the ones on a tty too. */
void services_run(void) __attribute__((noreturn));
/* Stop every service (stop commands, then in reverse order), unmount, sync and reboot(2) with
 * how (RB_AUTOBOOT, RB_HALT_SYSTEM, RB_POWER_OFF); within 30 s. */
void services_shutdown(int how) __attribute__((noreturn));
/* In a child init forks: the signals init takes through its signalfd unblocked again. */
void services_child_signals(void);
/* Monotonic seconds. */
double services_now(void);
/* The host's health for the management daemon: "ok" or "degraded", then one line per problem. */
#define HEALTH_FILE "/run/health"
/* Tell the watchdog the system is alive (no-op without one). */
void watchdog_ping(void);
/* Disarm the watchdog: nothing feeds it while the installer waits for an answer. */
void watchdog_stop(void);

/* Where payload.c mounts the system payload; its lib/modules/<release> and lib/firmware hold the
 * profile's system-modules and system-drivers (docs/recipes.md), its etc/ their tables. */
#define SYSTEM_ROOT "/system"

/* modules.c: finit_module() the file; 0 when loaded now, 1 when it was already (or is built
 * in), else -errno. */
int module_insert(const char *path);
/* The same for a path under lib/modules/<release>/, from the initramfs or else the payload. */
int module_insert_rel(const char *rel);
/* The payload's /etc/modules.load (none is fine), as modules_load() does the initramfs's. */
const char *system_modules_load(void);

/* log.c */
/* Print "init: <message>" to the console as one write; messages read "<what is wrong>; <what to do>".
 * In a console session (log_console_quiet) it goes to syslog as well. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for what init did, e.g. "init: loaded e1000 for pci 0000:00:03.0 (8086:100e)"; in a
 * console session to syslog only (to the console while syslog does not take it). */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* On from the console sessions' start (after BOOT-OK) to the shutdown's: routine lines, init's
 * and the services' output, stay off the console. */
void log_console_quiet(bool on);
bool log_console_is_quiet(void);
/* "<tag>: <msg>" to syslog through /dev/log with priority pri (LOG_DAEMON | LOG_INFO, ...); false
 * when nothing listens there. */
bool log_syslog(int pri, const char *tag, const char *msg, size_t len);
/* A boot-log line: "init: [  1.23] <message>" as log_info() prints, "[  1.23] <message>"
 * appended to BOOT_LOG; the time is seconds since the kernel started. */
#define BOOT_LOG "/run/boot.log"
void log_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double log_uptime(void);

#endif
