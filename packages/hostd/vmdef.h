/* A virtual machine's definition (docs/vms.md): what POST /api/vms takes and hostd keeps as
 * /vmfs/volumes/datastore1/NAME/NAME.json. Pure: parsing and checking JSON, the JSON of a
 * definition, vmm's arguments and the cgroup limits; for hostd's vms.c, the unit tests and the
 * fuzz target. */
#ifndef HOSTD_VMDEF_H
#define HOSTD_VMDEF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api.h"

#define VM_NAME_MAX 63
#define VM_PATH_MAX 255
#define VM_CMDLINE_MAX 1023
#define VM_DISKS_MAX 8
#define VM_MEM_MIN 16
#define VM_MEM_MAX (256 * 1024)
#define VM_CPUS_MAX 8
#define VM_NICS_MAX 8
/* A NIC's tap device name (at most IFNAMSIZ - 1) and MAC ("02:..", 17 characters) with their NULs. */
#define VM_TAP_SIZE 16
#define VM_MAC_SIZE 18
/* What the cgroup allows above the guest's RAM: vmm's own memory, its threads' stacks, page
 * tables and the kernel's KVM structures. */
#define VM_MEM_OVERHEAD_MIB 64

struct vm_def {
	char name[VM_NAME_MAX + 1];
	int memory_mib, cpus, nics;
	char kernel[VM_PATH_MAX + 1], initrd[VM_PATH_MAX + 1]; /* datastore paths; initrd "" for none */
	char cmdline[VM_CMDLINE_MAX + 1];
	char disks[VM_DISKS_MAX][VM_PATH_MAX + 1];
	int ndisks;
	char macs[VM_NICS_MAX][VM_MAC_SIZE]; /* NIC i's MAC ("xx:..", lower case), for i < nmacs */
	int nmacs;
	bool autostart;
};

/* A VM's name: 1 to 63 of letters, digits, '.', '_', '-', not starting with '.' or '-'. */
bool vm_name_valid(const char *s);
/* A datastore path: relative, '/'-separated, no empty, "." or ".." component, printable ASCII. */
bool vm_path_valid(const char *s);

/*
 * A definition from JSON text (not NUL-terminated; at most API_BODY_MAX bytes): an object with
 * "name" and "kernel" required and "memory_mib" (default 256), "cpus" (1), "initrd" (none),
 * "cmdline" ("console=ttyS0"), "disks" ([]), "nics" (0), "macs" (the NICs' MACs: unicast, at most
 * "nics" of them; the others are made by vm_macs_fill()), "autostart" (false). When base is not
 * NULL the text is a change to base (PATCH: any key but "name", which must match if given; fewer
 * "nics" drop the MACs of the NICs gone).
 * 0, or -1 with e a 400 naming the field; *out is written only on success.
 */
int vm_def_parse(const char *text, size_t len, const struct vm_def *base, struct vm_def *out, struct api_error *e);
/* The definition as JSON, every key. New reference. */
json_t *vm_def_json(const struct vm_def *d);

/*
 * NIC i (0 to VM_NICS_MAX - 1) of the VM name: its tap device, "vm-NAME-I" for a name of at most
 * 10 characters, else "vm" + 8 hex digits of a hash of the name + "-I" (the two forms differ in
 * their third character, '-' or a hex digit, so short names never clash).
 */
void vm_tap_name(const char *name, int i, char out[VM_TAP_SIZE]);
/* NIC i's MAC: the one kept in d (as ESXi keeps a VM's generated address in its .vmx), or for a
 * definition saved before MACs were kept, 02 (locally administered, unicast), 4 bytes of the
 * name's hash and i. */
void vm_nic_mac(const struct vm_def *d, int i, char out[VM_MAC_SIZE]);
/* MACs for the NICs that have none yet, from random bytes (6 per NIC; n at least 6 * VM_NICS_MAX):
 * locally administered and unicast (02 in the first byte's low bits), kept in d. */
void vm_macs_fill(struct vm_def *d, const unsigned char *random, size_t n);
/* [{"tap", "mac"}, ...] of d's NICs. New reference. */
json_t *vm_nics_json(const struct vm_def *d);

/* vmm's arguments for d, its datastore at dir (absolute): argv[0] = vmm, "--net TAP,mac=MAC" for
 * each NIC (vm_tap_name, vm_nic_mac), NULL-terminated, in argv (at least VM_ARGV_MAX entries);
 * the strings are owned by the caller (vm_argv_free). */
#define VM_ARGV_MAX (16 + 2 * VM_DISKS_MAX + 2 * VM_NICS_MAX)
void vm_argv(const struct vm_def *d, const char *vmm, const char *dir, char **argv);
void vm_argv_free(char **argv);
/* The cgroup v2 limits: memory.max in bytes, cpu.max as "QUOTA PERIOD". */
unsigned long long vm_memory_max(const struct vm_def *d);
void vm_cpu_max(const struct vm_def *d, char *out, size_t size);

#endif
