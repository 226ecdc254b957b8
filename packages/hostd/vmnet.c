/* The VMs' virtual NICs: taps in the bridge vSwitch0 (vmnet.h). */
#define _GNU_SOURCE
#include "vmnet.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct vmnet {
	char *tun;    /* /dev/net/tun */
	char *bridge; /* /sys/class/net/vSwitch0/bridge: there when the bridge is */
	char *ipv6;   /* /proc/sys/net/ipv6/conf */
	bool waited;  /* vmnet_wait waited once */
};

struct vmnet *vmnet_new(const struct host *h)
{
	struct vmnet *n = xmalloc(sizeof(*n));

	n->tun = host_path(h, "dev/net/tun");
	n->bridge = host_path(h, "sys/class/net/" VMNET_BRIDGE "/bridge");
	n->ipv6 = host_path(h, "proc/sys/net/ipv6/conf");
	n->waited = false;
	return n;
}

void vmnet_free(struct vmnet *n)
{
	if (n)
		free(n->tun), free(n->bridge), free(n->ipv6);
	free(n);
}

bool vmnet_wait(struct vmnet *n, int ms)
{
	const struct timespec tick = {0, 100 * 1000000L};

	if (n->waited)
		ms = 0;
	n->waited = true;
	for (; access(n->bridge, F_OK) != 0; ms -= 100) {
		if (ms <= 0)
			return false;
		nanosleep(&tick, NULL);
	}
	return true;
}

static int fail(struct api_error *e, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct api_error *e, int status, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	snprintf(e->field, sizeof(e->field), "nics");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* The tap named name opened (made when it is not there), its fd; -1 with errno. The flags are
 * vmm's (virtio-net headers), which it sets again when it attaches. */
static int tap_open(const struct vmnet *n, const char *name)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
	int fd = open(n->tun, O_RDWR | O_CLOEXEC), saved;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	return fd;
}

/* Make the tap persistent (on) or remove it (off: it goes when fd closes); 0 or -1 with errno. */
static int tap_persist(int fd, bool on)
{
	int r = ioctl(fd, TUNSETPERSIST, on ? 1L : 0L), saved = errno;

	close(fd);
	errno = saved;
	return r;
}

/* The tap carries no addresses of the host (a port of the bridge, as the uplink): no IPv6
 * link-local address, no router solicitations. Best effort. */
static void tap_no_ipv6(const struct vmnet *n, const char *name)
{
	char *path = xasprintf("%s/%s/disable_ipv6", n->ipv6, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1\n", 2) != 2)
			syslog(LOG_WARNING, "%s: %s", path, strerror(errno));
		close(fd);
	}
	free(path);
}

/* The tap into the bridge and up; 0 or -1 with errno, *what the step that failed. */
static int tap_attach(const char *name, const char **what)
{
	struct ifreq ifr = {0};
	int s = socket(AF_LOCAL, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1, saved;

	*what = "a socket for the bridge's ioctls";
	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", VMNET_BRIDGE);
	ifr.ifr_ifindex = (int)if_nametoindex(name);
	*what = "adding it to the bridge " VMNET_BRIDGE;
	if (ifr.ifr_ifindex > 0 && ioctl(s, SIOCBRADDIF, &ifr) == 0) {
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		*what = "setting it up";
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags |= IFF_UP;
			r = ioctl(s, SIOCSIFFLAGS, &ifr);
		}
	}
	saved = errno;
	close(s);
	errno = saved;
	return r;
}

/* Remove the tap name; 0 when it is gone (or never was), -1 with errno (EBUSY: a process has it). */
static int tap_remove(const struct vmnet *n, const char *name)
{
	int fd;

	if (if_nametoindex(name) == 0)
		return 0;
	if ((fd = tap_open(n, name)) < 0)
		return -1;
	return tap_persist(fd, false);
}

/* NIC i's tap: any stale one removed, then made, persistent, in the bridge and up. */
static int nic_up(const struct vmnet *n, const struct vm_def *d, int i, struct api_error *e)
{
	char tap[VM_TAP_SIZE], mac[VM_MAC_SIZE];
	const char *what = "removing a stale tap of that name";
	int fd, r;

	vm_tap_name(d->name, i, tap);
	if ((r = tap_remove(n, tap)) == 0) {
		what = "creating it with TUNSETIFF and TUNSETPERSIST";
		if ((fd = tap_open(n, tap)) < 0 || tap_persist(fd, true) < 0)
			r = -1;
		else
			tap_no_ipv6(n, tap), r = tap_attach(tap, &what);
	}
	if (r == 0) {
		vm_nic_mac(d, i, mac);
		syslog(LOG_INFO, "VM %s: NIC %d: tap %s, MAC %s, in %s", d->name, i, tap, mac, VMNET_BRIDGE);
		return 0;
	}
	return fail(e, 500, "NIC %d: cannot make its tap device %s: %s: %s%s; see the host's log", i, tap, what,
		    strerror(errno), errno == EBUSY ? " (a process has it open: another VM's?)" : "");
}

int vmnet_up(const struct vmnet *n, const struct vm_def *d, struct api_error *e)
{
	if (d->nics == 0)
		return 0;
	if (access(n->bridge, F_OK) != 0)
		return fail(e, 409,
			    "the virtual switch %s is missing, so the VM's NICs would have no network: the network service "
			    "makes it at boot with the host's NIC as its uplink (docs/network.md; GET /api/logs shows its "
			    "lines); power on with nics 0 until it is there",
			    VMNET_BRIDGE);
	if (access(n->tun, R_OK | W_OK) != 0)
		return fail(e, 500, "%s: %s: no tap devices can be made for the VM's NICs (is the tun module loaded?); "
				    "see the host's log", n->tun, strerror(errno));
	for (int i = 0; i < d->nics; i++)
		if (nic_up(n, d, i, e) < 0) {
			syslog(LOG_ERR, "VM %s: %s", d->name, e->msg);
			vmnet_down(n, d->name);
			return -1;
		}
	return 0;
}

void vmnet_down(const struct vmnet *n, const char *name)
{
	char tap[VM_TAP_SIZE];

	for (int i = 0; i < VM_NICS_MAX; i++) {
		vm_tap_name(name, i, tap);
		if (tap_remove(n, tap) < 0)
			syslog(LOG_WARNING, "VM %s: cannot remove its tap device %s: %s", name, tap, strerror(errno));
	}
}
