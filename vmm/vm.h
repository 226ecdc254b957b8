/* One virtual machine: KVM handles, RAM, buses, vCPUs and devices, and how it ended. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>

#include "bus.h"
#include "config.h"
#include "devices/serial.h"
#include "devices/virtio-blk.h"
#include "devices/virtio-net.h"
#include "mem.h"

/* How a VM ended; also vmm's exit status (docs/vmm.md). */
enum vm_state {
	VM_RUNNING = -1,
	VM_POWEROFF = 0, /* the guest powered off or halted */
	VM_ERROR = 1,    /* vmm could not start the VM */
	VM_REBOOT = 2,   /* the guest asked for a reset: start it again to reboot */
	VM_STOPPED = 3,  /* SIGTERM, SIGINT or SIGHUP stopped it */
	VM_CRASHED = 4,  /* KVM could not run the guest any further */
};

struct vm;

struct vcpu {
	struct vm *vm;
	int id, fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
	int check_gen; /* the halt check asked for (written by the main thread) */
	int done_gen;  /* the halt check last done (written by the vCPU thread) */
	int dead;      /* at done_gen: 2 halted with interrupts off, 1 never started, 0 running */
};

struct vm {
	int kvm, fd;
	size_t run_size;
	struct kvm_cpuid2 *cpuid; /* what KVM supports, owned */
	struct mem mem;
	struct bus pio, mmio;
	int ncpus;
	struct vcpu cpu[CONFIG_MAX_CPUS];
	int state;           /* enum vm_state, set once by vm_stop */
	char why[256];       /* for VM_CRASHED: what happened */
	pthread_t main;      /* woken with SIGUSR2 when the state changes */
	struct serial serial;
	int nblk, nnet;
	struct virtio_blk blk[CONFIG_MAX_DISKS];
	struct virtio_net net[CONFIG_MAX_NICS];
};

/* End the VM with state (the first caller wins) and wake the main thread. */
void vm_stop(struct vm *vm, enum vm_state state, const char *why);
/* The VM's state (VM_RUNNING until vm_stop). */
int vm_state(struct vm *vm);

/* Open /dev/kvm, create the VM with an in-kernel IRQ chip and PIT, and map RAM; -1 with err. */
int kvm_create(struct vm *vm, uint64_t mem, char *err, size_t errlen);
/* Drive a guest IRQ line (an irq_line callback; ctx is the struct vm). */
void kvm_irq(void *ctx, int irq, int level);
/* Close the VM and free its RAM. */
void kvm_destroy(struct vm *vm);

/* Create vCPU id with its CPUID; the boot CPU (0) starts at entry with boot_params at params. */
int cpu_create(struct vm *vm, int id, uint64_t entry, uint64_t params, char *err, size_t errlen);
/* Start the vCPU's thread; -1 on failure. */
int cpu_start(struct vcpu *c);
/* Make the vCPU leave KVM_RUN soon (to see a state change or do a halt check). */
void cpu_kick(struct vcpu *c);
/* Wait for the vCPU's thread and close it. */
void cpu_destroy(struct vcpu *c);

#endif
