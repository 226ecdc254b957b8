/* Step 2b: the drivers the hardware present needs. The image builder lists its driver modules'
 * aliases in /etc/modules.alias and their dependencies in /etc/modules.dep (builder/drivers.h);
 * init matches every device's modalias against the aliases, as modprobe would, and loads what
 * matches, dependencies first. Loading a controller's driver makes new devices appear (virtio
 * devices behind virtio_pci, disks behind virtio_scsi), so it scans again until nothing new loads.
 * The initramfs holds the families that reach the boot medium; the rest (the profile's
 * system-drivers) are in the system payload, with tables of their own under /system/etc: after
 * the payload is mounted, a second pass matches against both tables, and only then is a device
 * that nothing matched reported. */
#define _GNU_SOURCE
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "modalias.h"

#define ALIAS_TABLE "/etc/modules.alias"
#define DEP_TABLE "/etc/modules.dep"
#define MAX_ROUNDS 16
#define MAX_REPORTED 256

static struct modtable table; /* the initramfs's tables, then the payload's appended */
static bool loaded[MODDEP_MAX]; /* table.dep[i] was loaded, or tried, this boot */
static struct devset devices;   /* every device looked at, and what was found (modalias.h) */
/* The storage and network controllers no table matched yet ("bus/device"), for the report after
 * the last pass; one matched or bound later is taken off (its kind NULL). */
static struct unmatched {
	char key[96], what[192];
	const char *kind;
} unmatched[MAX_REPORTED];
static size_t nunmatched;

static const char *read_table(const char *path, char *buf, size_t size,
			      int (*parse)(struct modtable *, char *, int *))
{
	ssize_t len = sysfile_read(path, buf, size);
	int line, r;

	if (len < 0) {
		log_error("cannot read %s: %s; rebuild the image (the builder writes it with the driver families)",
			  path, strerror((int)-len));
		return "driver-tables";
	}
	r = parse(&table, buf, &line);
	if (r < 0) {
		log_error("%s:%d: %s; rebuild the image", path, line,
			  r == -E2BIG ? "too many lines for init's table" : "not a line the image builder writes");
		return "driver-tables";
	}
	return NULL;
}

/* The buses of the devices kind_of() names. */
static bool reportable(const char *bus)
{
	return strcmp(bus, "pci") == 0 || strcmp(bus, "virtio") == 0;
}

/* Note a controller (kind set) that no table matched, or take one off the list (kind NULL). */
static void note_unmatched(const char *bus, const char *dev, const char *what, const char *kind)
{
	char key[96];
	size_t i = 0;

	snprintf(key, sizeof(key), "%.31s/%.63s", bus, dev);
	while (i < nunmatched && strcmp(unmatched[i].key, key) != 0)
		i++;
	if (i == nunmatched) {
		if (!kind || nunmatched == MAX_REPORTED)
			return;
		memcpy(unmatched[nunmatched++].key, key, sizeof(key));
	}
	snprintf(unmatched[i].what, sizeof(unmatched[i].what), "%s", what);
	unmatched[i].kind = kind;
}

/* Load a module of the table after what it needs; true if it was loaded now. */
static bool load_module(const struct moddep_entry *e, const char *what, int depth)
{
	size_t i = (size_t)(e - table.dep);
	int r;

	if (loaded[i] || depth > 16)
		return false;
	loaded[i] = true;
	for (size_t j = 0; j < e->ndeps; j++) {
		const struct moddep_entry *dep = moddep_find(&table, e->deps[j], true);
		if (dep)
			load_module(dep, e->name, depth + 1);
		else
			log_error("%s needs %s, which " DEP_TABLE " lacks; rebuild the image", e->name, e->deps[j]);
	}
	r = module_insert_rel(e->path);
	if (r == 0)
		log_info("loaded %s for %s", e->name, what);
	else if (r < 0)
		log_error("cannot load %s for %s: %s; see the kernel log (dmesg)", e->name, what, strerror(-r));
	return r == 0;
}

/* "pci 0000:00:03.0 (8086:100e)"; a CPU: "cpu cpu0 (cpu:type:x86,ven0002fam0019mod0001)", without
 * its long feature list; other buses: "virtio virtio0 (virtio:d00000008v00001AF4)". */
static void describe(const char *bus, const char *dev, const char *sys, const char *modalias, char *out,
		     size_t size)
{
	char p[PATH_MAX], ven[16] = "", id[16] = "";

	if (strcmp(bus, "pci") == 0) {
		snprintf(p, sizeof(p), "%s/vendor", sys);
		sysfile_read(p, ven, sizeof(ven));
		snprintf(p, sizeof(p), "%s/device", sys);
		sysfile_read(p, id, sizeof(id));
		ven[strcspn(ven, "\n")] = id[strcspn(id, "\n")] = '\0';
		snprintf(out, size, "pci %.64s (%.6s:%.6s)", dev, ven + (ven[0] == '0' && ven[1] == 'x' ? 2 : 0),
			 id + (id[0] == '0' && id[1] == 'x' ? 2 : 0));
	} else if (strcmp(bus, "cpu") == 0) {
		const char *features = strstr(modalias, ":feature:");
		int len = features ? (int)(features - modalias) : 96;
		snprintf(out, size, "cpu %.48s (%.*s)", dev, len < 96 ? len : 96, modalias);
	} else {
		snprintf(out, size, "%.32s %.48s (%.96s)", bus, dev, modalias);
	}
}

/* Whether a device without a driver is worth a line: network and storage controllers (PCI
 * classes 01 and 02) and virtio devices. */
static const char *kind_of(const char *bus, const char *sys)
{
	char p[PATH_MAX], cls[16] = "";

	if (strcmp(bus, "virtio") == 0)
		return "virtio device";
	if (strcmp(bus, "pci") != 0)
		return NULL;
	snprintf(p, sizeof(p), "%s/class", sys);
	sysfile_read(p, cls, sizeof(cls));
	if (strncmp(cls, "0x01", 4) == 0)
		return "storage controller";
	if (strncmp(cls, "0x02", 4) == 0)
		return "network controller";
	return NULL;
}

/* The device's modalias: its modalias file, or the MODALIAS= line of its uevent (a CPU has only
 * that: "cpu:type:x86,ven...:feature:,0000,...", its features, which kvm_intel and kvm_amd match). */
static bool read_modalias(const char *sys, char *out, size_t size)
{
	char p[PATH_MAX], *line;
	size_t len;

	snprintf(p, sizeof(p), "%s/modalias", sys);
	if (sysfile_read(p, out, size) > 0) {
		out[strcspn(out, "\n")] = '\0';
		return true;
	}
	snprintf(p, sizeof(p), "%s/uevent", sys);
	if (sysfile_read(p, out, size) <= 0 || !(line = strstr(out, "MODALIAS=")) ||
	    (line != out && line[-1] != '\n'))
		return false;
	line += strlen("MODALIAS=");
	len = strcspn(line, "\n");
	memmove(out, line, len);
	out[len] = '\0';
	return true;
}

/* A device no driver is bound to (a CPU whatever drives it: its feature modules never bind to
 * it) and no table matched yet: load what its modalias matches. A device done with (bound, no
 * modalias, matched) is not read again in a later round. The modules loaded. */
static int scan_device(const char *bus, const char *dev)
{
	char sys[256], p[PATH_MAX], modalias[4096], what[192];
	const struct modalias_entry *a;
	enum dev_state state = devset_get(&devices, bus, dev);
	bool matched = false;
	size_t next = 0;
	int n = 0;
	struct stat st;

	if (state == DEV_DONE || state == DEV_MATCHED ||
	    (size_t)snprintf(sys, sizeof(sys), "/sys/bus/%s/devices/%s", bus, dev) >= sizeof(sys))
		return 0;
	snprintf(p, sizeof(p), "%s/driver", sys);
	if ((strcmp(bus, "cpu") != 0 && lstat(p, &st) == 0) || !read_modalias(sys, modalias, sizeof(modalias))) {
		devset_set(&devices, bus, dev, DEV_DONE);
		if (reportable(bus))
			note_unmatched(bus, dev, "", NULL); /* bound since: by a module another device needed */
		return 0;
	}
	describe(bus, dev, sys, modalias, what, sizeof(what));
	while ((a = modalias_match(&table, modalias, &next))) {
		const struct moddep_entry *e = moddep_find(&table, a->module, false);
		matched = true;
		if (e)
			n += load_module(e, what, 0);
		else
			log_error("%s of a modules.alias is not in its modules.dep; rebuild the image", a->module);
	}
	devset_set(&devices, bus, dev, matched ? DEV_MATCHED : DEV_UNMATCHED);
	if (reportable(bus))
		note_unmatched(bus, dev, what, matched ? NULL : kind_of(bus, sys));
	return n;
}

/* After the last pass: the storage and network controllers nothing in the image drives. */
static void report_unmatched(void)
{
	for (size_t i = 0; i < nunmatched; i++)
		if (unmatched[i].kind)
			log_info("no driver in the image for %s, a %s; add the driver family that has one to the "
				 "profile's drivers or system-drivers", unmatched[i].what, unmatched[i].kind);
}

static int scan_bus(const char *bus)
{
	char path[PATH_MAX];
	DIR *dp;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/bus/%s/devices", bus);
	if (!(dp = opendir(path)))
		return 0;
	while ((e = readdir(dp)))
		if (e->d_name[0] != '.')
			n += scan_device(bus, e->d_name);
	closedir(dp);
	return n;
}

static int scan_all(void)
{
	DIR *dp = opendir("/sys/bus");
	struct dirent *e;
	int n = 0;

	while (dp && (e = readdir(dp)))
		if (e->d_name[0] != '.')
			n += scan_bus(e->d_name);
	if (dp)
		closedir(dp);
	return n;
}

static int count_entries(const char *path)
{
	DIR *dp = opendir(path);
	struct dirent *e;
	int n = 0;

	while (dp && (e = readdir(dp)))
		n += e->d_name[0] != '.';
	if (dp)
		closedir(dp);
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* USB devices appear some time after their host controller's driver loads (the hub driver
 * enumerates the ports in the background): once, wait until the USB device list has held
 * still for a second (5 s at most). True if there was USB to wait for. */
static bool usb_settle(void)
{
	static bool done;
	int last = count_entries("/sys/bus/usb/devices"), n;
	double start = now(), still = start;

	if (done || last == 0)
		return false;
	done = true;
	while (now() - still < 1.0 && now() - start < 5.0) {
		usleep(100000);
		n = count_entries("/sys/bus/usb/devices");
		if (n != last) {
			last = n;
			still = now();
		}
	}
	return true;
}

/* Append root's tables to the table; false (and nothing read) when root has none. */
static const char *tables_read(const char *root, bool *found)
{
	/* The text stays referenced by the table: one buffer per root. */
	static char alias_text[2][1 << 20], dep_text[2][1 << 17];
	char alias[64], dep[64];
	size_t i = root[0] != '\0';

	snprintf(alias, sizeof(alias), "%s%s", root, ALIAS_TABLE);
	snprintf(dep, sizeof(dep), "%s%s", root, DEP_TABLE);
	*found = access(alias, F_OK) == 0;
	if (!*found) /* a profile without driver families there */
		return NULL;
	const char *reason = read_table(alias, alias_text[i], sizeof(alias_text[i]), modalias_parse);
	return reason ? reason : read_table(dep, dep_text[i], sizeof(dep_text[i]), moddep_parse);
}

static void scan_rounds(void)
{
	for (int round = 0; round < MAX_ROUNDS; round++)
		if (scan_all() == 0 && !usb_settle())
			break;
}

static bool have_tables;

const char *drivers_load(struct boot_state *st)
{
	const char *reason = tables_read("", &have_tables);

	(void)st;
	if (!reason && have_tables)
		scan_rounds();
	return reason;
}

/* The kernel looks for firmware in /lib/firmware, and in the one folder firmware_class.path names. */
static void firmware_path_set(void)
{
	static const char param[] = "/sys/module/firmware_class/parameters/path";
	int fd;

	if (access(SYSTEM_ROOT "/lib/firmware", F_OK) < 0)
		return;
	fd = open(param, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || sysfile_write_all(fd, SYSTEM_ROOT "/lib/firmware", strlen(SYSTEM_ROOT "/lib/firmware")) < 0)
		log_error("cannot set %s: %s; the system payload's firmware will not be found (the kernel "
			  "needs FW_LOADER built in)", param, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The payload's modules.load (KVM, the bridge) is independent of the devices' drivers, and under
 * emulation each of the two takes a good part of a second: a child loads the list while init
 * matches the devices (modules both need are loaded once: the kernel makes the second loader wait
 * and answers EEXIST). The child's reason, if any, comes back through a pipe; -1 if it could not
 * start (the caller then loads the list itself). */
static pid_t list_load_start(int *fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		const char *reason = system_modules_load();
		if (reason)
			sysfile_write_all(p[1], reason, strlen(reason));
		_exit(reason ? 1 : 0);
	}
	close(p[1]);
	if (pid < 0)
		close(p[0]);
	*fd = p[0];
	return pid;
}

static const char *list_load_wait(pid_t pid, int fd)
{
	static char reason[48];
	ssize_t n = read(fd, reason, sizeof(reason) - 1);
	int status = 0;

	close(fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n > 0) {
		reason[n] = '\0';
		return reason;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_error("the process loading " SYSTEM_ROOT "/etc/modules.load ended abnormally (status %d); "
			  "see the kernel log", status);
		return "module-load-failed";
	}
	return NULL;
}

const char *system_drivers_load(struct boot_state *st)
{
	const char *reason, *list_reason;
	bool found = false;
	int fd = -1;
	pid_t pid;

	(void)st;
	firmware_path_set();
	pid = list_load_start(&fd);
	if (pid < 0 && (reason = system_modules_load()))
		return reason;
	reason = tables_read(SYSTEM_ROOT, &found);
	if (!reason && (found || have_tables))
		scan_rounds();
	list_reason = pid > 0 ? list_load_wait(pid, fd) : NULL;
	if (reason || list_reason)
		return reason ? reason : list_reason;
	report_unmatched();
	return NULL;
}
