/* Step 2b: the drivers the hardware present needs. The image builder lists its driver modules'
 * aliases in /etc/modules.alias and their dependencies in /etc/modules.dep (builder/drivers.h);
 * init matches every device's modalias against the aliases, as modprobe would, and loads what
 * matches, dependencies first. Loading a controller's driver makes new devices appear (virtio
 * devices behind virtio_pci, disks behind virtio_scsi), so it scans again until nothing new loads. */
#define _GNU_SOURCE
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "modalias.h"

#define ALIAS_TABLE "/etc/modules.alias"
#define DEP_TABLE "/etc/modules.dep"
#define MAX_ROUNDS 16
#define MAX_DEVICES 2048

static struct modtable table;
static bool loaded[MODDEP_MAX]; /* table.dep[i] was loaded, or tried, this boot */
static char moddir[128];
/* Devices looked at already ("bus/device"), so that each is reported once. */
static char seen[MAX_DEVICES][96];
static size_t nseen;

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

static bool seen_add(const char *bus, const char *dev)
{
	char key[96];

	snprintf(key, sizeof(key), "%.31s/%.63s", bus, dev);
	for (size_t i = 0; i < nseen; i++)
		if (strcmp(seen[i], key) == 0)
			return false;
	if (nseen < MAX_DEVICES)
		memcpy(seen[nseen++], key, sizeof(key));
	return true;
}

/* Load a module of the table after what it needs; true if it was loaded now. */
static bool load_module(const struct moddep_entry *e, const char *what, int depth)
{
	char path[PATH_MAX];
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
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", moddir, e->path) >= sizeof(path))
		r = -ENAMETOOLONG;
	else
		r = module_insert(path);
	if (r == 0)
		log_info("loaded %s for %s", e->name, what);
	else if (r < 0)
		log_error("cannot load %s for %s: %s; see the kernel log (dmesg)", e->name, what, strerror(-r));
	return r == 0;
}

/* "pci 0000:00:03.0 (8086:100e)"; other buses: "virtio virtio0 (virtio:d00000008v00001AF4)". */
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

/* A device seen for the first time: load what its modalias matches. The modules loaded. */
static int scan_device(const char *bus, const char *dev)
{
	char sys[256], p[PATH_MAX], modalias[256], what[192];
	const struct modalias_entry *a;
	size_t next = 0;
	int n = 0, matched = 0;
	struct stat st;

	if ((size_t)snprintf(sys, sizeof(sys), "/sys/bus/%s/devices/%s", bus, dev) >= sizeof(sys))
		return 0;
	snprintf(p, sizeof(p), "%s/driver", sys);
	if (lstat(p, &st) == 0 || !seen_add(bus, dev)) /* bound (a built-in driver), or done */
		return 0;
	snprintf(p, sizeof(p), "%s/modalias", sys);
	if (sysfile_read(p, modalias, sizeof(modalias)) <= 0)
		return 0;
	modalias[strcspn(modalias, "\n")] = '\0';
	describe(bus, dev, sys, modalias, what, sizeof(what));
	while ((a = modalias_match(&table, modalias, &next))) {
		const struct moddep_entry *e = moddep_find(&table, a->module, false);
		matched++;
		if (e)
			n += load_module(e, what, 0);
		else
			log_error("%s of " ALIAS_TABLE " is not in " DEP_TABLE "; rebuild the image", a->module);
	}
	if (!matched && kind_of(bus, sys))
		log_info("no driver in the image for %s, a %s; add the driver family that has one to the "
			 "profile's drivers", what, kind_of(bus, sys));
	return n;
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

const char *drivers_load(struct boot_state *st)
{
	static char alias_text[1 << 20], dep_text[1 << 17];
	struct utsname un;
	const char *reason;

	(void)st;
	if (access(ALIAS_TABLE, F_OK) < 0) /* a profile without driver families */
		return NULL;
	if ((reason = read_table(ALIAS_TABLE, alias_text, sizeof(alias_text), modalias_parse)) ||
	    (reason = read_table(DEP_TABLE, dep_text, sizeof(dep_text), moddep_parse)))
		return reason;
	uname(&un);
	snprintf(moddir, sizeof(moddir), "/lib/modules/%.64s", un.release);
	for (int round = 0; round < MAX_ROUNDS; round++)
		if (scan_all() == 0 && !usb_settle())
			break;
	return NULL;
}
