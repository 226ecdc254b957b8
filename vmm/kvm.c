/* The VM on /dev/kvm: creation, RAM slots, the in-kernel IRQ chip and PIT, IRQ lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vm.h"

#define KVM_TSS_ADDR 0xfffbd000ull
#define KVM_CPUID_MAX 256

void vm_stop(struct vm *vm, enum vm_state state, const char *why)
{
	int running = VM_RUNNING;

	if (__atomic_compare_exchange_n(&vm->state, &running, state, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		if (why)
			snprintf(vm->why, sizeof(vm->why), "%s", why);
		pthread_kill(vm->main, SIGUSR2);
	}
}

int vm_state(struct vm *vm)
{
	return __atomic_load_n(&vm->state, __ATOMIC_SEQ_CST);
}

static int kvm_fail(char *err, size_t errlen, const char *what, const char *todo)
{
	snprintf(err, errlen, "%s: %s; %s", what, strerror(errno), todo);
	return -1;
}

static int kvm_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
						.userspace_addr = (uint64_t)(uintptr_t)host};
	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static int kvm_supported_cpuid(struct vm *vm, char *err, size_t errlen)
{
	vm->cpuid = calloc(1, sizeof(*vm->cpuid) + KVM_CPUID_MAX * sizeof(struct kvm_cpuid_entry2));
	if (!vm->cpuid)
		return kvm_fail(err, errlen, "out of memory", "free some memory");
	vm->cpuid->nent = KVM_CPUID_MAX;
	if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, vm->cpuid))
		return kvm_fail(err, errlen, "KVM_GET_SUPPORTED_CPUID", "use a newer host kernel");
	return 0;
}

static int kvm_open_dev(struct vm *vm, char *err, size_t errlen)
{
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		return kvm_fail(err, errlen, "cannot open /dev/kvm",
				"load kvm_intel or kvm_amd and check the permissions of /dev/kvm");
	if (ioctl(vm->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm has an unknown API version; use a Linux host with KVM API 12");
		return -1;
	}
	int n = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (n <= 0)
		return kvm_fail(err, errlen, "KVM_GET_VCPU_MMAP_SIZE", "check the host's KVM");
	vm->run_size = (size_t)n;
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return kvm_fail(err, errlen, "cannot create a VM", "check the host's KVM and its limits");
	return 0;
}

int kvm_create(struct vm *vm, uint64_t mem, char *err, size_t errlen)
{
	struct kvm_pit_config pit = {.flags = 0};

	vm->kvm = vm->fd = -1;
	if (kvm_open_dev(vm, err, errlen) || kvm_supported_cpuid(vm, err, errlen))
		return -1;
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) || ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) ||
	    ioctl(vm->fd, KVM_CREATE_PIT2, &pit))
		return kvm_fail(err, errlen, "cannot set up the VM's interrupt controller and timer",
				"use a host whose KVM has an in-kernel IRQ chip");
	if (mem_alloc(&vm->mem, mem))
		return kvm_fail(err, errlen, "cannot allocate guest memory", "give less memory");
	if (kvm_slot(vm, 0, 0, vm->mem.lo_size, vm->mem.host) ||
	    (vm->mem.hi_size && kvm_slot(vm, 1, MEM_HIGH_START, vm->mem.hi_size, vm->mem.host + vm->mem.lo_size)))
		return kvm_fail(err, errlen, "cannot map guest memory into the VM", "give less memory");
	return 0;
}

void kvm_irq(void *ctx, int irq, int level)
{
	struct vm *vm = ctx;
	struct kvm_irq_level l = {.irq = (uint32_t)irq, .level = (uint32_t)level};

	if (ioctl(vm->fd, KVM_IRQ_LINE, &l))
		perror("vmm: KVM_IRQ_LINE");
}

void kvm_destroy(struct vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->kvm >= 0)
		close(vm->kvm);
	vm->fd = vm->kvm = -1;
	free(vm->cpuid);
	vm->cpuid = NULL;
	mem_free(&vm->mem);
}
