/* The VMs' virtual NICs (docs/vms.md, "Networking"): as ESXi's VMs sit on the "VM Network" of
 * vSwitch0, whose uplink is the host's physical NIC, each NIC of a powered-on VM is a persistent
 * tap device (vm_tap_name) that hostd makes, attaches to the bridge vSwitch0 (made by the network
 * service with the first NIC in it, docs/network.md) and sets up before vmm starts; vmm opens it
 * (--net TAP,mac=MAC). The taps are removed when vmm has ended. */
#ifndef HOSTD_VMNET_H
#define HOSTD_VMNET_H

#include "api.h"
#include "host.h"
#include "vmdef.h"

#define VMNET_BRIDGE "vSwitch0"

struct vmnet;

/* The NICs of host h: /dev/net/tun and /sys/class/net under its root (a --root test tree has
 * neither unless the test makes them: power-on of a VM with NICs then fails with the reason).
 * Never NULL. */
struct vmnet *vmnet_new(const struct host *h);
void vmnet_free(struct vmnet *n);
/* Wait at most ms for the bridge to appear (hostd's autostart at boot may come before the network
 * service made it), the first time only (later calls do not wait); whether it is there. */
bool vmnet_wait(struct vmnet *n, int ms);
/* The taps of d's NICs made, in the bridge and up; a stale tap of the same name (a hostd that was
 * killed) is replaced. 0, or -1 with e (409: no bridge; 500: a tap could not be made, named with
 * the reason) and none of d's taps left. */
int vmnet_up(const struct vmnet *n, const struct vm_def *d, struct api_error *e);
/* Remove every tap of the VM name that exists (vmm has ended: they are not in use). */
void vmnet_down(const struct vmnet *n, const char *name);

#endif
