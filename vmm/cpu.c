/* vCPUs: one thread each running KVM_RUN, dispatching I/O and MMIO exits to the buses. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm.h"
#include "x86/boot.h"

#define CPUID_HYPERVISOR (1u << 31)
#define CPUID_TSC_DEADLINE (1u << 24)
#define RFLAGS_IF 0x200
#define LAPIC_LVT0 0x350
#define LAPIC_LVT1 0x360

/* Give the vCPU what KVM supports, with its own APIC id and the hypervisor bit. */
static int cpu_set_cpuid(struct vcpu *c)
{
	struct vm *vm = c->vm;
	size_t size = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *id = malloc(size);
	int deadline = ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0, r;

	if (!id)
		return -1;
	memcpy(id, vm->cpuid, size);
	for (uint32_t i = 0; i < id->nent; i++) {
		struct kvm_cpuid_entry2 *e = &id->entries[i];

		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffff) | ((uint32_t)c->id << 24);
			e->ecx |= CPUID_HYPERVISOR | (deadline ? CPUID_TSC_DEADLINE : 0);
		}
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = (uint32_t)c->id;
	}
	r = ioctl(c->fd, KVM_SET_CPUID2, id);
	free(id);
	return r;
}

/* LINT0 delivers ExtINT (the PIC), LINT1 NMI: the wiring the MP table describes. */
static int cpu_set_lint(struct vcpu *c)
{
	struct kvm_lapic_state l;
	uint32_t v;

	if (ioctl(c->fd, KVM_GET_LAPIC, &l))
		return -1;
	memcpy(&v, l.regs + LAPIC_LVT0, 4);
	v = (v & ~0x700u) | (7u << 8);
	memcpy(l.regs + LAPIC_LVT0, &v, 4);
	memcpy(&v, l.regs + LAPIC_LVT1, 4);
	v = (v & ~0x700u) | (4u << 8);
	memcpy(l.regs + LAPIC_LVT1, &v, 4);
	return ioctl(c->fd, KVM_SET_LAPIC, &l);
}

static void cpu_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	*s = (struct kvm_segment){.base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
				  .dpl = 0, .db = !code, .s = 1, .l = code, .g = 1};
}

/* Long mode, paging on the identity map, at the kernel's 64-bit entry (boot protocol). */
static int cpu_set_boot(struct vcpu *c, uint64_t entry, uint64_t params)
{
	struct kvm_sregs s;
	struct kvm_regs r = {.rip = entry, .rsi = params, .rflags = 2};
	struct kvm_fpu f = {.fcw = 0x37f, .mxcsr = 0x1f80};

	if (ioctl(c->fd, KVM_GET_SREGS, &s))
		return -1;
	cpu_segment(&s.cs, 0x10, 0xb, 1);
	cpu_segment(&s.ds, 0x18, 0x3, 0);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.gdt.base = BOOT_GDT;
	s.gdt.limit = 4 * 8 - 1;
	s.cr0 = 0x80050033;  /* PG, AM, WP, NE, ET, MP, PE */
	s.cr3 = BOOT_PML4;
	s.cr4 = 0x20;        /* PAE */
	s.efer = 0x500;      /* LME, LMA */
	if (ioctl(c->fd, KVM_SET_SREGS, &s) || ioctl(c->fd, KVM_SET_REGS, &r) || ioctl(c->fd, KVM_SET_FPU, &f))
		return -1;
	return 0;
}

int cpu_create(struct vm *vm, int id, uint64_t entry, uint64_t params, char *err, size_t errlen)
{
	struct vcpu *c = &vm->cpu[id];

	c->vm = vm;
	c->id = id;
	c->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (c->fd >= 0) {
		c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (c->run == MAP_FAILED)
			c->run = NULL;
	}
	if (c->fd < 0 || !c->run || cpu_set_cpuid(c) || cpu_set_lint(c) ||
	    (id == 0 && cpu_set_boot(c, entry, params))) {
		snprintf(err, errlen, "cannot set up vCPU %d: %s; check the host's KVM", id, strerror(errno));
		return -1;
	}
	return 0;
}

static void cpu_io(struct vcpu *c)
{
	struct kvm_run *r = c->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	bool write = r->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size)
		bus_access(&c->vm->pio, r->io.port, data, r->io.size, write);
}

static void cpu_mmio(struct vcpu *c)
{
	struct kvm_run *r = c->run;
	uint32_t len = r->mmio.len <= 8 ? r->mmio.len : 8;

	bus_access(&c->vm->mmio, r->mmio.phys_addr, r->mmio.data, len, r->mmio.is_write);
}

/* Record whether this vCPU can never run again: halted with interrupts off, or never started. */
static void cpu_check_halt(struct vcpu *c, int gen)
{
	struct kvm_mp_state mp;
	struct kvm_regs r;
	int dead = 0;

	if (ioctl(c->fd, KVM_GET_MP_STATE, &mp) == 0) {
		if (mp.mp_state == KVM_MP_STATE_HALTED && ioctl(c->fd, KVM_GET_REGS, &r) == 0 &&
		    !(r.rflags & RFLAGS_IF))
			dead = 2;
		else if (mp.mp_state == KVM_MP_STATE_UNINITIALIZED || mp.mp_state == KVM_MP_STATE_INIT_RECEIVED)
			dead = 1;
	}
	c->dead = dead;
	__atomic_store_n(&c->done_gen, gen, __ATOMIC_RELEASE);
}

/* Handle one exit; returns 0 to go on running. */
static int cpu_exit(struct vcpu *c)
{
	char why[160];

	switch (c->run->exit_reason) {
	case KVM_EXIT_IO: cpu_io(c); return 0;
	case KVM_EXIT_MMIO: cpu_mmio(c); return 0;
	case KVM_EXIT_SHUTDOWN: vm_stop(c->vm, VM_REBOOT, "triple fault"); return 1;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_stop(c->vm, c->run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ? VM_POWEROFF : VM_REBOOT, NULL);
		return 1;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "vCPU %d: KVM could not enter the guest (reason 0x%llx)", c->id,
			 (unsigned long long)c->run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "vCPU %d: KVM internal error %u", c->id, c->run->internal.suberror);
		break;
	default:
		snprintf(why, sizeof(why), "vCPU %d: unexpected KVM exit %u", c->id, c->run->exit_reason);
		break;
	}
	vm_stop(c->vm, VM_CRASHED, why);
	return 1;
}

static void *cpu_thread(void *arg)
{
	struct vcpu *c = arg;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	while (vm_state(c->vm) == VM_RUNNING) {
		int gen = __atomic_load_n(&c->check_gen, __ATOMIC_ACQUIRE);

		if (gen != c->done_gen)
			cpu_check_halt(c, gen);
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno != EINTR && errno != EAGAIN) {
				vm_stop(c->vm, VM_CRASHED, "KVM_RUN failed");
				break;
			}
			__atomic_store_n(&c->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			continue;
		}
		if (cpu_exit(c))
			break;
	}
	return NULL;
}

int cpu_start(struct vcpu *c)
{
	c->started = pthread_create(&c->thread, NULL, cpu_thread, c) == 0;
	return c->started ? 0 : -1;
}

void cpu_kick(struct vcpu *c)
{
	if (!c->started)
		return;
	__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(c->thread, SIGUSR1);
}

void cpu_destroy(struct vcpu *c)
{
	if (c->started)
		pthread_join(c->thread, NULL);
	c->started = 0;
	if (c->run)
		munmap(c->run, c->vm->run_size);
	if (c->fd >= 0)
		close(c->fd);
	c->run = NULL;
	c->fd = -1;
}
