/* bankctl: the operator's tool for the boot banks: status, stage, mark-good, rollback, install. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootdisk.h"
#include "gpt.h"
#include "trust.h"
#include "stage.h"
#include "sysfile.h"
#include "write.h"

#define BANKCTL_VERSION "0.1.0"
#define ALTBOOTBANK "/altbootbank"

static const char usage[] =
	"Usage: bankctl [--disk FILE] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  status [--json]        each bank's version, state, tries and generation, and the bank\n"
	"                         GRUB boots next (computed the way GRUB computes it)\n"
	"  stage [--allow-downgrade] [--keyring PEM] BUNDLE\n"
	"                         verify BUNDLE's signature against the keyring (the running image's;\n"
	"                         with --disk, the kept bank's keys/; or PEM) and every byte of it,\n"
	"                         write it into the inactive bank, read it back, and mark the bank\n"
	"                         to be tried on the next boot; names the key that signed it.\n"
	"                         BUNDLE '-' (standard input), a pipe or a device: staged in one\n"
	"                         pass as it streams (the signature first, every byte hashed as read\n"
	"                         back from the disk; a bundle found damaged at its end leaves the\n"
	"                         bank marked empty)\n"
	"  mark-good [A|B]        mark a bank good (default: the running bank; with --disk, the\n"
	"                         bank that boots next)\n"
	"  rollback               boot the other bank next, if it holds a good image\n"
	"  install [--force] IMAGE\n"
	"                         install onto the --disk target (a disk, USB stick or file): write\n"
	"                         the disk image IMAGE (out/<name>-<version>.img) block by block,\n"
	"                         read it back, move the backup GPT to the disk's end; refuses a\n"
	"                         mounted disk or the one holding / unless --force\n"
	"\n"
	"Options:\n"
	"  --disk FILE            work on this disk or disk image file, without root or loop\n"
	"                         devices (default: the disk this host booted from)\n"
	"  -h, --help             show this help\n"
	"  --version              show bankctl's version\n"
	"\n"
	"Exit status: 0 done; 1 refused or failed (the message says why and what to do; the banks\n"
	"and the boot state are as they were, except that a bank being staged stays marked empty\n"
	"if writing it failed); 2 bad usage. See bankctl(8) and docs/ab-boot.md.\n";

struct ctx {
	struct bootdisk bd;
	struct bootstate_copies copies;
	struct bootstate st;
	struct bankinfo info[2];
	int running;          /* the bank this host booted from, -1 when unknown (--disk) */
	bool json;
};

static int running_bank(void)
{
	char *cmdline = NULL;
	const char *bank = "live";

	if (util_read_file("/proc/cmdline", &cmdline, NULL) == 0)
		bank = sysfile_bank(cmdline);
	free(cmdline);
	return *bank == 'A' ? 0 : *bank == 'B' ? 1 : -1;
}

/* Without --disk: the first disk with our partitions. */
static char *find_boot_disk(void)
{
	DIR *dp = opendir("/sys/block");
	struct dirent *e;
	char *found = NULL;

	while (dp && !found && (e = readdir(dp))) {
		struct bootdisk bd;
		struct diag d;
		char *dev = xasprintf("/dev/%s", e->d_name);
		if (e->d_name[0] != '.' && strncmp(e->d_name, "loop", 4) && bootdisk_open(dev, 0, &bd, &d) == 0) {
			found = xstrdup(dev);
			bootdisk_close(&bd);
		}
		free(dev);
	}
	if (dp)
		closedir(dp);
	return found;
}

static int ctx_open(struct ctx *c, const char *disk, bool writable, struct diag *d)
{
	char *found = disk ? NULL : find_boot_disk();
	int r;

	c->running = disk ? -1 : running_bank();
	if (!disk && !found)
		return diag_set(d, "bankctl", 0, "no disk with bank-a and bank-b partitions found; install the "
				"hypervisor first, or name a disk image with --disk FILE");
	r = bootdisk_open(disk ? disk : found, writable, &c->bd, d);
	free(found);
	if (r == 0)
		r = bootdisk_state_load(&c->bd, &c->copies, &c->st, d);
	/* An empty bank is never booted while the state is valid (GRUB's rule): nothing to read there. */
	for (int i = 0; i < 2 && r == 0; i++)
		if (c->st.current < 0 || c->st.env.bank[i].state != BANK_EMPTY)
			r = bankinfo_read(&c->bd, i, &c->info[i], d);
	return r;
}

static void ctx_close(struct ctx *c)
{
	bankinfo_free(&c->info[0]);
	bankinfo_free(&c->info[1]);
	bootdisk_close(&c->bd);
}

static void next_boot(const struct ctx *c, struct bank_choice *ch)
{
	bool present[2] = {c->info[0].files, c->info[1].files};

	bank_choose(&c->st.env, present, ch);
}

static void status_text(const struct ctx *c, const struct bank_choice *ch)
{
	printf("%-5s %-6s %-6s %-5s %-12s %s\n", "bank", "state", "tries", "gen", "version", "build");
	for (int i = 0; i < 2; i++) {
		const struct bank *b = &c->st.env.bank[i];
		char tries[8] = "-";
		if (b->state == BANK_TRIAL)
			snprintf(tries, sizeof(tries), "%u", b->tries);
		printf("%-5c %-6s %-6s %-5lu %-12s %s%s%s\n", bank_letter(i), bank_state_name(b->state), tries, b->gen,
		       c->info[i].version ? c->info[i].version : "-", c->info[i].build ? c->info[i].build : "-",
		       c->running == i ? "  (running)" : "", c->info[i].files || b->state == BANK_EMPTY ? "" : "  (files missing)");
	}
	if (ch->boot < 0)
		printf("next boot: none (no bank holds an image)\n");
	else
		printf("next boot: bank %c%s%s\n", bank_letter(ch->boot),
		       ch->take_try ? " (trial: one try is taken)" : "", ch->last_resort ? " (last resort: no bank is good)" : "");
	for (int i = 0; i < 2; i++)
		if (ch->out_of_tries[i])
			printf("bank %c is out of tries: GRUB marks it bad\n", bank_letter(i));
	if (c->st.current < 0)
		printf("warning: neither copy of the boot state is valid; GRUB boots any bank with files\n");
}

static void json_str(const char *key, const char *v, const char *sep)
{
	printf("\"%s\": ", key);
	if (v)
		printf("\"%s\"%s", v, sep); /* versions and builds are plain words: nothing to escape */
	else
		printf("null%s", sep);
}

static void status_json(const struct ctx *c, const struct bank_choice *ch)
{
	printf("{\"banks\": [");
	for (int i = 0; i < 2; i++) {
		const struct bank *b = &c->st.env.bank[i];
		printf("%s{\"bank\": \"%c\", \"state\": \"%s\", \"tries\": %u, \"gen\": %lu, ", i ? ", " : "",
		       bank_letter(i), bank_state_name(b->state), b->tries, b->gen);
		json_str("product", c->info[i].product, ", ");
		json_str("version", c->info[i].version, ", ");
		json_str("build", c->info[i].build, ", ");
		printf("\"files\": %s, \"running\": %s}", c->info[i].files ? "true" : "false", c->running == i ? "true" : "false");
	}
	printf("], \"next\": ");
	if (ch->boot >= 0)
		printf("\"%c\"", bank_letter(ch->boot));
	else
		printf("null");
	printf(", \"next_is_trial\": %s, \"state_valid\": %s}\n", ch->take_try ? "true" : "false",
	       c->st.current >= 0 ? "true" : "false");
}

static int cmd_status(struct ctx *c)
{
	struct bank_choice ch;

	next_boot(c, &ch);
	if (c->json)
		status_json(c, &ch);
	else
		status_text(c, &ch);
	return 0;
}

/* The bank staging must not touch: the running one, or (--disk) the newest good one. */
static int protected_bank(const struct ctx *c)
{
	const struct bank *b = c->st.env.bank;
	struct bank_choice ch;

	if (c->running >= 0)
		return c->running;
	if (b[0].state == BANK_GOOD && b[1].state == BANK_GOOD)
		return b[1].gen > b[0].gen ? 1 : 0;
	if (b[0].state == BANK_GOOD || b[1].state == BANK_GOOD)
		return b[0].state == BANK_GOOD ? 0 : 1;
	next_boot(c, &ch);
	return ch.boot >= 0 ? ch.boot : 0;
}

/* On the running host the bank being staged is mounted read-only at /altbootbank (as on ESXi):
 * it is unmounted while its blocks are rewritten underneath, and mounted again after. */
static bool alt_unmount(const struct ctx *c)
{
	return c->running >= 0 && umount(ALTBOOTBANK) == 0;
}

static void alt_remount(int bank)
{
	char dev[64];
	bool found = gpt_part_dev(/* disk= */ NULL, bank == 0 ? "bank-a" : "bank-b", dev, sizeof(dev));

	if (!found || mount(dev, ALTBOOTBANK, "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "") < 0)
		fprintf(stderr, "bankctl: cannot mount bank %c on %s again: %s; it is staged all the same\n",
			bank_letter(bank), ALTBOOTBANK, found ? strerror(errno) : "no such partition");
}

/* A bundle file is mapped while it is staged (image/bundle.h): one cut short while its headers
 * are parsed raises SIGBUS where its lost pages are read (bank.img's data is read out with
 * pread, which reports it instead). Before the write the disk is as it was, and the bank being
 * staged is marked empty before it is written: stopping here leaves the kept bank to boot. */
static void bundle_cut_short(int sig)
{
	static const char msg[] = "bankctl: the bundle file was cut short while it was being staged (SIGBUS); "
				  "the bank being staged is not marked to boot (it is empty once its writing began): stage the bundle again\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

static int cmd_stage(struct ctx *c, const char *bundle, bool downgrade, const char *keyring, struct diag *d)
{
	int keep = protected_bank(c);
	struct util_reporter rep;
	struct progress p = util_reporter_init(&rep, "bankctl", stdout, isatty(2));
	struct stage_opts o = {.bundle = bundle, .target = !keep, .allow_downgrade = downgrade, .progress = &p,
			       .keep = &c->info[keep]};
	struct trust_opts t = {.kept = keep, .on_host = c->running >= 0, .keyring = keyring};

	if (c->running >= 0 && c->st.env.bank[keep].state == BANK_TRIAL && c->st.env.bank[!keep].state == BANK_GOOD)
		return diag_set(d, c->bd.path, 0, "bank %c (running) is on trial and bank %c is the fallback; refusing to "
				"stage onto the fallback: run 'bankctl mark-good' or reboot first", bank_letter(keep),
				bank_letter(!keep));
	printf("bankctl: staging %s into bank %c of %s (bank %c is kept)\n", strcmp(bundle, "-") ? bundle : "standard input",
	       bank_letter(o.target), c->bd.path,
	       bank_letter(keep));
	fflush(stdout);
	if (trust_load(&c->bd, &t, &o.keyring, d) < 0)
		return -EBADMSG;
	bool unmounted = alt_unmount(c);
	struct sigaction bus = {.sa_handler = bundle_cut_short}, was;
	sigaction(SIGBUS, &bus, &was);
	int r = stage_run(&c->bd, &c->copies, &c->st, &o, d);
	sigaction(SIGBUS, &was, NULL);
	bootdisk_unmount(&c->bd); /* the staged bank's own mount, before /altbootbank shows it */
	if (unmounted)
		alt_remount(o.target);
	signing_keyring_free(o.keyring);
	return r;
}

static int current_bank(const struct ctx *c)
{
	struct bank_choice ch;

	if (c->running >= 0)
		return c->running;
	next_boot(c, &ch);
	return ch.boot;
}

static int cmd_mark_good(struct ctx *c, const char *which, struct diag *d)
{
	int bank = which ? bank_index(which) : current_bank(c);
	struct bank_env e = c->st.env;

	if (which && bank < 0)
		return diag_set(d, which, 0, "not a bank; write A or B");
	if (bank < 0 || e.bank[bank].state == BANK_EMPTY || !c->info[bank].files)
		return diag_set(d, c->bd.path, 0, "bank %c holds no image; stage one first", bank < 0 ? '?' : bank_letter(bank));
	if (e.bank[bank].state == BANK_GOOD) {
		printf("bankctl: bank %c is already good\n", bank_letter(bank));
		return 0;
	}
	e.bank[bank].state = BANK_GOOD;
	e.bank[bank].tries = 0;
	if (bootdisk_state_commit(&c->bd, &c->copies, &c->st, &e, d) < 0)
		return -EIO;
	printf("bankctl: bank %c (%s) marked good\n", bank_letter(bank), c->info[bank].version ? c->info[bank].version : "?");
	return 0;
}

static int cmd_rollback(struct ctx *c, struct diag *d)
{
	int cur = current_bank(c), other = cur < 0 ? 0 : !cur;
	struct bank_env e = c->st.env;
	unsigned long gen = e.bank[0].gen > e.bank[1].gen ? e.bank[0].gen : e.bank[1].gen;

	if (e.bank[other].state != BANK_GOOD || !c->info[other].files)
		return diag_set(d, c->bd.path, 0, "bank %c is %s%s; there is nothing good to roll back to",
				bank_letter(other), bank_state_name(e.bank[other].state),
				c->info[other].files ? "" : " and holds no image");
	if (gen >= BANK_GEN_MAX)
		return diag_set(d, c->bd.path, 0, "the generation counter is exhausted; reinstall the host");
	e.bank[other].gen = gen + 1;
	if (bootdisk_state_commit(&c->bd, &c->copies, &c->st, &e, d) < 0)
		return -EIO;
	printf("bankctl: rolled back: bank %c (%s) boots next; bank %c is kept as it is\n", bank_letter(other),
	       c->info[other].version ? c->info[other].version : "?", cur < 0 ? '?' : bank_letter(cur));
	return 0;
}

/* Install needs no layout on the target: it writes one. Then the target is opened as any disk. */
static int cmd_install(struct ctx *c, const char *target, const char *image, bool force, struct diag *d)
{
	struct util_reporter rep;
	struct progress p = util_reporter_init(&rep, "bankctl", stderr, isatty(2));
	struct write_opts w = {.image = image, .target = target, .force = force, .progress = &p};
	struct write_result res;
	const char *why;
	int fd, r = write_image(&w, &res, d);
	unsigned long long size = 0;
	struct stat st;

	if (r == 0)
		progress_note(&p, "wrote %s to %s: %.1f MiB of data in %zu extents (of %.1f MiB), flushed and verified",
			      image, target, res.data_bytes / 1048576.0, res.extents, res.image_bytes / 1048576.0);
	if (r == 0 && (fd = open(target, O_RDWR | O_CLOEXEC)) >= 0) {
		if (fstat(fd, &st) == 0)
			size = S_ISBLK(st.st_mode) ? (ioctl(fd, BLKGETSIZE64, &size) == 0 ? size : 0) : (unsigned long long)st.st_size;
		if (!size || gpt_relocate(fd, size, &why) < 0)
			r = diag_set(d, target, 0, "written, but its GPT could not be fitted to the disk (%s); run "
				     "sfdisk --relocate gpt-bak-std %s", size ? why : "no size", target);
		close(fd);
	}
	if (r == 0)
		r = ctx_open(c, target, false, d);
	if (r == 0) {
		printf("bankctl: installed %s onto %s\n", image, target);
		cmd_status(c);
	}
	return r;
}

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "bankctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "; try 'bankctl --help'\n");
	exit(2);
}

struct args {
	const char *disk, *cmd, *arg, *keyring;
	bool json, downgrade, force;
};

static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"disk", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
		{"allow-downgrade", no_argument, NULL, 'a'}, {"force", no_argument, NULL, 'f'},
		{"keyring", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'}, {0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'd')
			a->disk = optarg;
		else if (ch == 'j')
			a->json = true;
		else if (ch == 'a')
			a->downgrade = true;
		else if (ch == 'f')
			a->force = true;
		else if (ch == 'k')
			a->keyring = optarg;
		else if (ch == 'h')
			fputs(usage, stdout), exit(0);
		else if (ch == 'V')
			puts("bankctl " BANKCTL_VERSION), exit(0);
		else
			usage_error("%s", "bad option");
	}
	if (optind >= argc)
		usage_error("%s", "no command given");
	a->cmd = argv[optind++];
	if (optind < argc)
		a->arg = argv[optind++];
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

static int run(struct ctx *c, const struct args *a, struct diag *d)
{
	if (strcmp(a->cmd, "status") == 0)
		return cmd_status(c);
	if (strcmp(a->cmd, "stage") == 0)
		return cmd_stage(c, a->arg, a->downgrade, a->keyring, d);
	if (strcmp(a->cmd, "mark-good") == 0)
		return cmd_mark_good(c, a->arg, d);
	return cmd_rollback(c, d);
}

int main(int argc, char **argv)
{
	struct args a = {0};
	struct ctx c = {.running = -1};
	struct diag d = {{0}, 0};
	int r;

	util_progname = "bankctl";
	setenv("MTOOLS_SKIP_CHECK", "1", 1);
	parse_args(argc, argv, &a);
	if (strcmp(a.cmd, "status") && strcmp(a.cmd, "stage") && strcmp(a.cmd, "mark-good") && strcmp(a.cmd, "rollback") &&
	    strcmp(a.cmd, "install"))
		usage_error("unknown command '%s'", a.cmd);
	if (strcmp(a.cmd, "install") == 0 && (!a.arg || !a.disk))
		usage_error("%s", "install needs --disk TARGET and an IMAGE");
	if (strcmp(a.cmd, "stage") == 0 && !a.arg)
		usage_error("%s", "stage needs a BUNDLE");
	if ((strcmp(a.cmd, "status") == 0 || strcmp(a.cmd, "rollback") == 0) && a.arg)
		usage_error("unexpected argument '%s'", a.arg);
	c.json = a.json;
	if (strcmp(a.cmd, "install") == 0)
		r = cmd_install(&c, a.disk, a.arg, a.force, &d);
	else if ((r = ctx_open(&c, a.disk, strcmp(a.cmd, "status") != 0, &d)) == 0)
		r = run(&c, &a, &d);
	if (r < 0)
		diag_print("bankctl", &d);
	ctx_close(&c);
	return r < 0 ? 1 : 0;
}
