/* Virtual machines in hostd (docs/vms.md): definitions on the datastore, each powered-on VM its
 * own vmm process in its own cgroup v2 group, its serial console captured in a bounded file, the
 * calls under /api/vms (routes.def). */
#ifndef HOSTD_VMS_H
#define HOSTD_VMS_H

#include <event2/event.h>

#include "host.h"
#include "hostconfig.h"
#include "server.h"

struct vms;

/* The VMs of host h (its root/vmfs/volumes/datastore1) on base; on the live host also cgroup2
 * mounted at /sys/fs/cgroup when it is not, and the vms group made. vmm is $HOSTD_VMM or
 * /usr/bin/vmm. Never NULL. */
struct vms *vms_new(struct event_base *base, const struct host *h);
/* Power on every VM marked autostart (after hostd starts: at boot, or after a restart). */
void vms_autostart(struct vms *v);
/* Stop every running VM (SIGTERM, SIGKILL after 3 s) and free v. */
void vms_free(struct vms *v);
/* The calls under /api/vms are routes of routes.def, answered in vms.c (hostd.h). */

#endif
