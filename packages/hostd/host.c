/* hostd's calls about the host itself: its facts (NICs and disks from sysfs), reboot, shut down,
 * restore the defaults, and the log. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "hostd.h"
#include "util.h"

/* The first line of dir/name/file, trimmed; "" when none. Owned by the caller. */
static char *sys_line(const char *dir, const char *name, const char *file)
{
	char *path = NULL, *data = NULL;
	size_t len;

	if (asprintf(&path, "%s/%s/%s", dir, name, file) < 0)
		return xstrdup("");
	if (util_read_file(path, &data, &len) < 0)
		data = xstrdup("");
	free(path);
	data[strcspn(data, "\n")] = '\0';
	for (size_t n = strlen(data); n && data[n - 1] == ' '; n--)
		data[n - 1] = '\0';
	return data;
}

/* The addresses ("10.0.2.15/24") of interface name. */
static json_t *addresses(const char *name)
{
	json_t *a = json_array();
	struct ifaddrs *ifs = NULL;

	if (getifaddrs(&ifs) < 0)
		return a;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		char addr[INET6_ADDRSTRLEN] = "", *s = NULL;
		const void *in;
		int bits = 0, fam;

		if (!i->ifa_addr || strcmp(i->ifa_name, name) != 0)
			continue;
		fam = i->ifa_addr->sa_family;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		in = fam == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
				    : (void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		inet_ntop(fam, in, addr, sizeof(addr));
		if (i->ifa_netmask) {
			const unsigned char *m = fam == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr
								: (void *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
			for (int b = 0; b < (fam == AF_INET ? 4 : 16); b++)
				bits += __builtin_popcount(m[b]);
		}
		if (asprintf(&s, "%s/%d", addr, bits) >= 0)
			json_array_append_new(a, json_string(s));
		free(s);
	}
	freeifaddrs(ifs);
	return a;
}

/* The last component of the symbolic link dir/name/leaf, in out; "" when there is none. */
static void link_leaf(const char *dir, const char *name, const char *leaf, char *out, size_t size)
{
	char *path = NULL, link[256];
	ssize_t n = -1;

	if (asprintf(&path, "%s/%s/%s", dir, name, leaf) >= 0)
		n = readlink(path, link, sizeof(link) - 1);
	free(path);
	link[n > 0 ? n : 0] = '\0';
	snprintf(out, size, "%s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
}

/* An interface: "driver" that of its device ("" for a virtual one); "bridge" the virtual switch
 * it is a port of (the physical NIC as vSwitch0's uplink, a VM's tap), only when it is one. */
static json_t *nic(const char *dir, const char *name)
{
	char *mac = sys_line(dir, name, "address"), *flags = sys_line(dir, name, "flags"), driver[256], bridge[256];
	json_t *o;

	link_leaf(dir, name, "device/driver", driver, sizeof(driver));
	link_leaf(dir, name, "master", bridge, sizeof(bridge));
	o = json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", name, "mac", mac, "driver", driver, "up",
		      (strtoul(flags, NULL, 16) & IFF_UP) != 0, "addresses", addresses(name));
	if (bridge[0])
		json_object_set_new(o, "bridge", json_string(bridge));
	free(mac), free(flags);
	return o;
}

/* The entries of dir but "." and "..", and those skip() refuses, sorted, each to add(). */
static json_t *each_entry(const char *dir, bool (*skip)(const char *), json_t *(*add)(const char *, const char *))
{
	json_t *a = json_array();
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && !skip(names[i]->d_name))
			json_array_append_new(a, add(dir, names[i]->d_name));
		free(names[i]);
	}
	free(names);
	return a;
}

static bool not_nic(const char *name)
{
	return strcmp(name, "lo") == 0;
}

static bool not_disk(const char *name)
{
	return strncmp(name, "loop", 4) == 0 || strncmp(name, "ram", 3) == 0 || strncmp(name, "zram", 4) == 0 ||
	       strncmp(name, "dm-", 3) == 0;
}

static json_t *disk(const char *dir, const char *name)
{
	char *size = sys_line(dir, name, "size"), *model = sys_line(dir, name, "device/model");
	json_t *o = json_pack("{s:s, s:I, s:s}", "name", name, "size", (json_int_t)strtoull(size, NULL, 10) * 512,
			      "model", model);

	free(size), free(model);
	return o;
}

/* The CPUs online: sysconf() reads /sys each time; counted once a second at most. */
static long cpus_online(void)
{
	static long n;
	static time_t at;
	time_t now = time(NULL);

	if (!n || now != at)
		n = sysconf(_SC_NPROCESSORS_ONLN), at = now;
	return n;
}

/* The RAM's size, read once (it does not change while hostd runs). */
static long long memory_total(void)
{
	static long long total;
	struct sysinfo si;

	if (!total && sysinfo(&si) == 0)
		total = (long long)si.totalram * si.mem_unit;
	return total;
}

void get_host(struct call *c)
{
	struct diag d;
	const struct hc_config *cf = conf_get(c->hd, &d);
	struct timespec up;
	char *net, *block;
	json_t *o;
	struct api_error e;

	if (!cf) {
		logf_(c->hd, LOG_ERR, "%s", d.msg);
		error_set(&e, 500, "the configuration cannot be read; see the host's log");
		return reply_error(c->req, &e);
	}
	net = host_path(&c->hd->h, "sys/class/net"), block = host_path(&c->hd->h, "sys/block");
	o = facts(c->hd);
	json_object_del(o, "status");
	clock_gettime(CLOCK_BOOTTIME, &up); /* the vDSO: sysinfo() walks the block devices each call */
	json_object_set_new(o, "hostname", json_string(cf->val[HC_HOSTNAME]));
	json_object_set_new(o, "uptime", json_integer(up.tv_sec));
	json_object_set_new(o, "cpus", json_integer(cpus_online()));
	json_object_set_new(o, "memory", json_integer(memory_total()));
	json_object_set_new(o, "nics", each_entry(net, not_nic, nic));
	json_object_set_new(o, "disks", each_entry(block, not_disk, disk));
	free(net), free(block);
	reply(c->req, 200, o);
}

/* What a power call does once its reply is sent. */
struct action {
	struct hostd *hd;
	const char *what; /* "reboot", "poweroff", "restore-defaults" */
};

/* hostcfg restore-defaults (packages/hostcfg/hostcfg.c): the saved state removed, the defaults
 * applied, under the configuration's lock. */
static void restore_defaults(struct hostd *hd)
{
	struct hc_config cf, old = {0};
	struct diag d;
	unsigned changed;
	int r = host_lock(&hd->h, &d);

	if (r == 0 && host_conf_load(&hd->h, &old, &d) < 0)
		hc_defaults(&old);
	if (r == 0 && host_has_bank(&hd->h))
		r = host_state_remove(&hd->h, &d);
	host_defaults(&hd->h, &cf);
	if (r == 0 && (r = hc_apply(&cf, hd->h.root, hd->h.live, &changed, &d)) == 0)
		host_reload(&hd->h, changed);
	host_unlock(&hd->h);
	if (r == 0 && old.val[HC_HOSTNAME] && strcmp(old.val[HC_HOSTNAME], cf.val[HC_HOSTNAME]) != 0)
		cert_follow(hd, old.val[HC_HOSTNAME], cf.val[HC_HOSTNAME]);
	hc_free(&cf), hc_free(&old);
	if (r < 0)
		logf_(hd, LOG_ERR, "restore-defaults: %s", d.msg);
}

/* busybox's reboot and poweroff signal init. On a --root tree nothing is done to the build host:
 * root/run/hostd-action says what would have been. */
static void act(evutil_socket_t fd, short what, void *arg)
{
	struct action *a = arg;
	const char *prog = strcmp(a->what, "poweroff") == 0 ? "poweroff" : "reboot";
	char *path;
	pid_t pid;

	(void)fd, (void)what;
	if (strcmp(a->what, "restore-defaults") == 0)
		restore_defaults(a->hd);
	if (!a->hd->h.live) {
		path = host_path(&a->hd->h, "run/hostd-action");
		if (util_write_file_atomic(path, a->what, strlen(a->what), 0644) < 0)
			logf_(a->hd, LOG_ERR, "%s: %s", path, strerror(errno));
		free(path);
	} else if ((pid = fork()) == 0) {
		execlp(prog, prog, (char *)NULL);
		_exit(127);
	} else if (pid > 0) {
		waitpid(pid, NULL, 0);
	}
	logf_(a->hd, LOG_NOTICE, "%s: %s", a->what, a->hd->h.live ? "started" : "recorded in run/hostd-action (--root)");
	free(a);
}

static void power(struct call *c, const char *what, const char *result)
{
	struct action *a = xmalloc(sizeof(*a));

	*a = (struct action){c->hd, what};
	audit(c, "", NULL);
	reply(c->req, 202, json_pack("{s:s}", "result", result));
	/* A second for the reply to leave. */
	event_base_once(c->hd->base, -1, EV_TIMEOUT, act, a, &(struct timeval){1, 0});
}

void post_reboot(struct call *c)
{
	power(c, "reboot", "rebooting");
}

void post_shutdown(struct call *c)
{
	power(c, "poweroff", "shutting down");
}

void post_restore(struct call *c)
{
	power(c, "restore-defaults", "restoring the defaults, then rebooting");
}

/* The last lines of /var/log/messages: its last MiB read. */
void get_logs(struct call *c)
{
	const char *q = sreq_query(c->req);
	long n = api_lines_param(q, 200);
	char *path = host_path(&c->hd->h, "var/log/messages"), *buf = xmalloc(API_BODY_MAX + 1);
	struct api_error e;
	FILE *f = fopen(path, "re");
	size_t len = 0;

	if (n < 0) {
		error_field(&e, "lines", "lines must be a number from 1 to 10000");
		reply_error(c->req, &e);
	} else {
		if (f && fseek(f, 0, SEEK_END) == 0 && ftell(f) > API_BODY_MAX)
			fseek(f, -API_BODY_MAX, SEEK_END);
		else if (f)
			rewind(f);
		len = f ? fread(buf, 1, API_BODY_MAX, f) : 0;
		buf[len] = '\0';
		reply(c->req, 200, json_pack("{s:o}", "lines", api_tail_json(buf, len, n)));
	}
	if (f)
		fclose(f);
	free(path), free(buf);
}

/* PUT /api/host/certificate: PEM certificate chain and key, checked, written, reloaded. */
void put_certificate(struct call *c)
{
	struct cert_info info;
	struct api_error e = {0};
	struct diag d;

	if (cert_replace(c->hd->cert, c->hd->key, c->body, c->len, &info, &d) < 0) {
		const char *msg = strncmp(d.msg, "body: ", 6) == 0 ? d.msg + 6 : d.msg;
		if (d.err)
			error_set(&e, 500, "the certificate cannot be written; see the host's log"), logf_(c->hd, LOG_ERR, "%s", d.msg);
		else
			error_field(&e, "body", msg);
		return refuse(c, "", &e);
	}
	if (tls_reload(c->hd) < 0) {
		error_set(&e, 500, "the new certificate is written but cannot be loaded; see the host's log");
		return refuse(c, "", &e);
	}
	audit(c, info.subject, NULL);
	reply(c->req, 200, json_pack("{s:s, s:s}", "subject", info.subject, "not_after", info.not_after));
}
