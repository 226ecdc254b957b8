/* The watchdog: opened once the modules are loaded (softdog, or a hardware one), fed by init's
 * main loop after BOOT-OK. A boot that hangs before that, or a wedged init, resets the machine,
 * and GRUB's try counter then moves on. */
#define _GNU_SOURCE
#include "init.h"

#include <fcntl.h>
#include <linux/watchdog.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Seconds without a feed before the reset: the boot steps after watchdog_start take a few
 * seconds even under emulation, and the shell feeds it every 10 s after BOOT-OK. */
#define WATCHDOG_TIMEOUT 30

static int watchdog_fd = -1;

const char *watchdog_start(struct boot_state *st)
{
	(void)st;
	/* Not fatal when absent: a profile without a watchdog driver still boots. */
	watchdog_fd = open("/dev/watchdog", O_WRONLY | O_CLOEXEC);
	int timeout = WATCHDOG_TIMEOUT;
	if (watchdog_fd >= 0 && ioctl(watchdog_fd, WDIOC_SETTIMEOUT, &timeout) < 0)
		log_error("cannot set the watchdog timeout to %d s, ignoring: the driver's default applies",
			  WATCHDOG_TIMEOUT);
	return NULL;
}

void watchdog_ping(void)
{
	if (watchdog_fd >= 0 && write(watchdog_fd, "\0", 1) < 0)
		log_error("cannot feed the watchdog, ignoring");
}

void watchdog_stop(void)
{
	/* The magic close: 'V' then close disarms the watchdog (for the installer's prompts). */
	if (watchdog_fd >= 0 && write(watchdog_fd, "V", 1) == 1)
		close(watchdog_fd), watchdog_fd = -1;
}
