/* Step 6: on an installed disk, mark the bank this boot came from good, and mount the banks.
 * The boot state lives on the EFI system partition in two copies (bootbank/bank.h); the copy
 * that is not current is rewritten in place (vfat overwrites a file's clusters where they are)
 * and flushed, so a cut at any moment leaves the other copy in force. */
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

#define ESP_DIR "/run/esp"
#define WAIT_MS 10000 /* disks appear a moment after their driver loads */

/* The /dev path of the partition whose GPT name is partname, or false. */
static bool part_find(const char *partname, char *dev, size_t size)
{
	DIR *dp = opendir("/sys/class/block");
	struct dirent *e;
	char path[300], text[1024], want[64];
	/* Block device names are short (sda1, nvme0n1p2); a longer one is not ours. */
	bool found = false;

	snprintf(want, sizeof(want), "PARTNAME=%s\n", partname);
	while (dp && !found && (e = readdir(dp))) {
		snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", e->d_name);
		if (e->d_name[0] != '.' && strlen(e->d_name) < 32 && file_read(path, text, sizeof(text)) > 0 &&
		    strstr(text, want)) {
			snprintf(dev, size, "/dev/%.31s", e->d_name);
			found = true;
		}
	}
	if (dp)
		closedir(dp);
	return found;
}

static bool part_wait(const char *partname, char *dev, size_t size)
{
	struct timespec tick = {0, 100 * 1000 * 1000};

	for (int waited = 0; waited < WAIT_MS; waited += 100) {
		if (part_find(partname, dev, size))
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

static bool copy_read(const char *path, struct bank_env *env)
{
	char block[BANK_ENV_SIZE + 1];

	return file_read(path, block, sizeof(block)) == BANK_ENV_SIZE && bank_env_parse(block, BANK_ENV_SIZE, env) == 0;
}

static const char *copy_write(const char *path, const struct bank_env *env)
{
	char block[BANK_ENV_SIZE];
	int fd = open(path, O_WRONLY | O_CLOEXEC); /* no O_TRUNC: rewrite the same clusters */
	int err = 0;

	bank_env_format(env, block);
	if (fd < 0 || pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block) || fsync(fd) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (!err)
		return NULL;
	log_error("cannot write the boot state %s: %s; the bank stays on trial", path, strerror(err));
	return "state-write-failed";
}

/* Set bank `bank` good in the state on the mounted ESP. */
static const char *state_mark_good(int bank)
{
	static const char *const paths[2] = {ESP_DIR "/grub/envA", ESP_DIR "/grub/envB"};
	struct bank_env c[2], cur;
	bool ok0 = copy_read(paths[0], &c[0]), ok1 = copy_read(paths[1], &c[1]);
	int which = bank_env_pick(ok0 ? &c[0] : NULL, ok1 ? &c[1] : NULL, &cur);

	if (which < 0) {
		/* Both copies damaged: this bank just proved itself, so start a fresh state from it
		 * rather than fail every boot. The other bank's state is unknown: not to be trusted. */
		log_error("neither copy of the boot state on the ESP is valid; writing a fresh one (bank %c good, "
			  "the other bad), check the disk", bank_letter(bank));
		cur = (struct bank_env){.seq = 2};
		cur.bank[!bank] = (struct bank){BANK_BAD, 0, 0};
		cur.bank[bank].gen = 1;
		which = 1; /* the write goes to envA */
	}
	if (cur.bank[bank].state == BANK_GOOD)
		return NULL;
	cur.bank[bank].state = BANK_GOOD;
	cur.bank[bank].tries = 0;
	cur.seq = bank_env_next_seq(cur.seq);
	return copy_write(paths[!which], &cur);
}

static const char *esp_mark_good(int bank)
{
	char dev[64];
	const char *reason;

	if (!part_wait("esp", dev, sizeof(dev))) {
		log_error("no partition named 'esp' appeared; the disk driver may be missing from the profile's modules");
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
		if (part_find(names[which], dev, sizeof(dev)) &&
		    mount(dev, dirs[i], "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "") < 0 && errno != EINVAL)
			log_error("cannot mount %s on %s: %s, ignoring", dev, dirs[i], strerror(errno));
	}
}

/* The saved configuration (/bootbank/state.tgz, written by backup.sh) unpacked over the root,
 * before the session reads /etc. A damaged archive is reported and the defaults stay. */
static void state_restore(void)
{
	char *argv[] = {"/bin/tar", "-xzf", "/bootbank/state.tgz", "-C", "/", NULL};
	int status = 0;
	pid_t pid;

	if (access(argv[2], F_OK) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_error("cannot unpack the saved configuration %s (tar exit %d); the defaults stay, run backup.sh to "
			  "save it again", argv[2], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

const char *bank_commit(struct boot_state *st)
{
	int bank = bank_index(st->bank);
	const char *reason;

	if (bank < 0)
		return NULL; /* the live image: nothing to mark */
	reason = esp_mark_good(bank);
	if (!reason) {
		banks_mount(bank);
		state_restore();
	}
	return reason;
}
