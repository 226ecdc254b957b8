/* On an installed disk: mount the banks and restore the saved configuration before the services
 * start (bank_mount), and mark the bank this boot came from good once they are ready (bank_commit).
 * The boot state lives on the EFI system partition in two copies (bootbank/bank.h), changed only
 * through the boot-state commit (bootbank/bootstate.h): the copy that is not current is rewritten
 * in place (vfat overwrites a file's clusters where they are) and flushed, so a cut at any moment
 * leaves the other copy in force. */
#define _GNU_SOURCE
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bank.h"
#include "bootstate.h"
#include "gpt.h"

#define ESP_DIR "/run/esp"
#define WAIT_MS 10000 /* disks appear a moment after their driver loads */

/* A copy of the boot state on the mounted ESP (bank.h), or where disks made before the copies had
 * folders of their own keep it. */
static int copy_open(int i)
{
	static const char *const paths[2][2] = {{ESP_DIR BANK_ENV_PATH_A, ESP_DIR BANK_ENV_OLD_PATH_A},
						{ESP_DIR BANK_ENV_PATH_B, ESP_DIR BANK_ENV_OLD_PATH_B}};
	int fd = open(paths[i][0], O_RDWR | O_CLOEXEC);

	return fd >= 0 ? fd : open(paths[i][1], O_RDWR | O_CLOEXEC);
}

/* Set bank `bank` good in the state on the mounted ESP, through the boot-state commit. */
static const char *state_mark_good(int bank)
{
	struct bootstate_copies c = {{copy_open(0), copy_open(1)}, {0, 0}};
	bool fresh = false;
	int r = bootstate_mark_good(&c, bank, &fresh);

	/* Both copies damaged: this bank just proved itself, so a fresh state starts from it rather
	 * than every boot failing. The other bank's state is unknown: not to be trusted. */
	if (fresh)
		log_error("neither copy of the boot state on the ESP was valid; %s a fresh one (bank %c good, the "
			  "other bad), check the disk", r == 0 ? "wrote" : "tried to write", bank_letter(bank));
	for (int i = 0; i < 2; i++)
		if (c.fd[i] >= 0)
			close(c.fd[i]);
	if (r == 0)
		return NULL;
	log_error("cannot write the boot state on the ESP: %s; the bank stays on trial",
		  r == -EILSEQ ? "it did not read back as written" : strerror(-r));
	return "state-write-failed";
}

static const char *esp_mark_good(int bank)
{
	char dev[64];
	const char *reason;

	if (!gpt_part_dev(/* disk= */ NULL, "esp", dev, sizeof(dev))) {
		log_error("the partition named 'esp' is gone; check the disk");
		return "no-esp";
	}
	mkdir(ESP_DIR, 0700);
	if (mount(dev, ESP_DIR, "vfat", MS_NOSUID | MS_NODEV | MS_NOEXEC, "") < 0) {
		log_error("cannot mount the ESP %s: %s; check the vfat modules", dev, strerror(errno));
		return "esp-mount-failed";
	}
	reason = state_mark_good(bank);
	if (umount(ESP_DIR) < 0)
		log_error("cannot unmount the ESP: %s, ignoring", strerror(errno));
	return reason;
}

/* As on ESXi: the running bank at /bootbank, the other at /altbootbank, both read-only. */
static void banks_mount(int bank)
{
	static const char *const names[2] = {"bank-a", "bank-b"};
	const char *dirs[2] = {"/bootbank", "/altbootbank"};
	char dev[64];

	for (int i = 0; i < 2; i++) {
		int which = i == 0 ? bank : !bank;
		mkdir(dirs[i], 0755);
		if (gpt_part_dev(/* disk= */ NULL, names[which], dev, sizeof(dev)) &&
		    mount(dev, dirs[i], "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "") < 0 && errno != EINVAL)
			log_error("cannot mount %s on %s: %s, ignoring", dev, dirs[i], strerror(errno));
	}
}

/* Run argv; its exit status, or -1 when it did not run or was killed. */
static int run_wait(char *const argv[])
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * The saved configuration (/bootbank/state.tgz), before the session reads /etc: `hostcfg restore`
 * (packages/hostcfg) unpacks it and applies it, or on bank A's first boot applies the installer's
 * settings; a damaged archive is reported by it and the defaults stay. A profile without hostcfg
 * unpacks the archive with busybox tar, as backup.sh's archives were.
 */
static void state_restore(void)
{
	char *hostcfg[] = {"/usr/sbin/hostcfg", "restore", NULL};
	char *tar[] = {"/bin/tar", "-xzf", "/bootbank/state.tgz", "-C", "/", NULL};
	int status;

	if (access(hostcfg[0], X_OK) == 0) {
		if ((status = run_wait(hostcfg)) != 0)
			log_error("hostcfg restore failed (exit %d); the configuration may be the defaults, see its "
				  "message above", status);
		return;
	}
	if (access(tar[2], F_OK) < 0)
		return;
	if ((status = run_wait(tar)) != 0)
		log_error("cannot unpack the saved configuration %s (tar exit %d); the defaults stay, run backup.sh to "
			  "save it again", tar[2], status);
}

/* Before the services: the disk's partitions, both banks mounted, the saved configuration restored. */
const char *bank_mount(struct boot_state *st)
{
	int bank = bank_index(st->bank);
	char dev[64];

	if (bank < 0) {
		state_restore(); /* the live image: no banks; hostcfg applies the defaults (users, host name) */
		return NULL;
	}
	if (!gpt_part_wait(/* disk= */ NULL, "esp", dev, sizeof(dev), WAIT_MS)) {
		log_error("no partition named 'esp' appeared; the disk driver may be missing from the profile's modules");
		return "no-esp";
	}
	banks_mount(bank);
	state_restore();
	return NULL;
}

/* Once the essential services are ready: the booted bank is good. */
const char *bank_commit(struct boot_state *st)
{
	int bank = bank_index(st->bank);

	if (bank < 0)
		return NULL; /* the live image: nothing to mark */
	return esp_mark_good(bank);
}
