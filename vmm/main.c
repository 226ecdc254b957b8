/* vmm: a KVM virtual machine monitor, one process per VM (docs/vmm.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "devices/i8042.h"
#include "vm.h"
#include "x86/boot.h"
#include "x86/mptable.h"

#define VMM_VERSION "0.1.0"
#define VIRTIO_BASE 0xd0000000ull
#define VIRTIO_IRQ 5
#define FILE_MAX (512ull << 20)
#define TICK_MS 100

static const char usage[] =
	"Usage: vmm --kernel FILE [OPTIONS]\n"
	"       vmm --config FILE\n"
	"\n"
	"Runs one virtual machine on /dev/kvm until the guest powers off or reboots.\n"
	"\n"
	"Options:\n"
	"  --kernel FILE      the guest's Linux kernel: an x86-64 bzImage (64-bit boot protocol)\n"
	"  --initrd FILE      an initramfs for the kernel\n"
	"  --cmdline STRING   the kernel command line (default: console=ttyS0); virtio-mmio\n"
	"                     devices are appended as virtio_mmio.device=...\n"
	"  --mem SIZE         guest RAM, e.g. 256M or 2G (default 256M; at least 16M)\n"
	"  --cpus N           vCPUs, 1 to 8 (default 1), one host thread each\n"
	"  --disk FILE        a virtio-blk disk backed by a raw image (repeatable, up to 8)\n"
	"  --net TAP[,mac=MAC]\n"
	"                     a virtio-net NIC on tap device TAP (repeatable, up to 8)\n"
	"  --console SPEC     the serial console (ttyS0): stdio (default), none, or unix:PATH\n"
	"                     (a socket a client such as 'socat - UNIX-CONNECT:PATH' attaches to)\n"
	"  --config FILE      take the VM from a configuration file (keys: name, cpus, memory,\n"
	"                     kernel, initrd, cmdline, disk, nic, console); no other VM options\n"
	"  -h, --help         show this help\n"
	"  --version          show vmm's version\n"
	"\n"
	"SIGTERM, SIGINT (Ctrl-C) and SIGHUP stop the guest and exit.\n"
	"\n"
	"Exit status:\n"
	"  0  the guest powered off (or halted)\n"
	"  1  bad usage or configuration, or the VM could not be started (the message says why)\n"
	"  2  the guest rebooted: start vmm again to boot it again\n"
	"  3  stopped by a signal\n"
	"  4  the guest crashed in a way KVM cannot continue (the message says how)\n";

static int vmm_error(const char *msg)
{
	fprintf(stderr, "vmm: %s\n", msg);
	return VM_ERROR;
}

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS, OPT_DISK, OPT_NET, OPT_CONSOLE, OPT_CONFIG,
       OPT_VERSION };

static const struct option options[] = {
	{"kernel", 1, 0, OPT_KERNEL}, {"initrd", 1, 0, OPT_INITRD}, {"cmdline", 1, 0, OPT_CMDLINE},
	{"mem", 1, 0, OPT_MEM}, {"cpus", 1, 0, OPT_CPUS}, {"disk", 1, 0, OPT_DISK}, {"net", 1, 0, OPT_NET},
	{"console", 1, 0, OPT_CONSOLE}, {"config", 1, 0, OPT_CONFIG}, {"help", 0, 0, 'h'},
	{"version", 0, 0, OPT_VERSION}, {0, 0, 0, 0},
};

/* Apply one command-line option; -1 with err on a bad value. */
static int vmm_option(struct config *c, int opt, const char *v, char *err, size_t errlen)
{
	char *end;
	long n;
	char **once[] = {[OPT_KERNEL - OPT_KERNEL] = &c->kernel, [OPT_INITRD - OPT_KERNEL] = &c->initrd,
			 [OPT_CMDLINE - OPT_KERNEL] = &c->cmdline, [OPT_CONSOLE - OPT_KERNEL] = &c->console};

	switch (opt) {
	case OPT_KERNEL: case OPT_INITRD: case OPT_CMDLINE: case OPT_CONSOLE:
		free(*once[opt - OPT_KERNEL]);
		*once[opt - OPT_KERNEL] = strdup(v);
		return 0;
	case OPT_MEM:
		if (!config_parse_size(v, &c->mem))
			return 0;
		snprintf(err, errlen, "--mem '%.40s' is not a size; give e.g. --mem 256M", v);
		return -1;
	case OPT_CPUS:
		n = strtol(v, &end, 10);
		c->cpus = *v && !*end && n >= 1 && n <= CONFIG_MAX_CPUS ? (int)n : 0;
		if (c->cpus)
			return 0;
		snprintf(err, errlen, "--cpus '%.40s' is not a number from 1 to %d; give e.g. --cpus 2", v,
			 CONFIG_MAX_CPUS);
		return -1;
	case OPT_DISK:
		if (c->ndisks < CONFIG_MAX_DISKS) {
			c->disk[c->ndisks++] = strdup(v);
			return 0;
		}
		snprintf(err, errlen, "more than %d --disk options; give fewer", CONFIG_MAX_DISKS);
		return -1;
	default: /* OPT_NET */
		if (c->nnics == CONFIG_MAX_NICS) {
			snprintf(err, errlen, "more than %d --net options; give fewer", CONFIG_MAX_NICS);
			return -1;
		}
		if (config_parse_nic(v, &c->nic[c->nnics], err, errlen))
			return -1;
		c->nnics++;
		return 0;
	}
}

/* Parse argv into c; returns -1 to exit with status 1, 1 to exit 0 (help, version), 0 to run. */
static int vmm_args(int argc, char **argv, struct config *c, char *err, size_t errlen)
{
	const char *config = NULL;
	int opt, vm_opts = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == 'h' || opt == OPT_VERSION) {
			fputs(opt == 'h' ? usage : "vmm " VMM_VERSION "\n", stdout);
			return 1;
		}
		if (opt == '?' || opt == ':') {
			snprintf(err, errlen, opt == ':' ? "option '%.60s' needs a value; see vmm --help"
							  : "bad option '%.60s'; see vmm --help", argv[optind - 1]);
			return -1;
		}
		if (opt == OPT_CONFIG)
			config = optarg;
		else if (vmm_option(c, opt, optarg, err, errlen))
			return -1;
		vm_opts += opt != OPT_CONFIG;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%.60s'; see vmm --help", argv[optind]);
		return -1;
	}
	if (config && vm_opts) {
		snprintf(err, errlen, "--config cannot be mixed with other VM options; put them in the file");
		return -1;
	}
	if (config && config_load(c, config, err, errlen))
		return -1;
	return config_validate(c, err, errlen) ? -1 : 0;
}

/* Read a whole file into a new buffer; NULL with err. */
static uint8_t *vmm_read(const char *what, const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) || (uint64_t)st.st_size > FILE_MAX || !(buf = malloc(st.st_size + 1))) {
		snprintf(err, errlen, "cannot read %s %s: %s; check the file", what, path,
			 fd < 0 || errno ? strerror(errno) : "larger than 512 MiB");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

/* The command line the guest gets: the user's, then one virtio_mmio.device= per device. */
static char *vmm_cmdline(const struct config *c, int ndev)
{
	size_t len = strlen(c->cmdline ? c->cmdline : "console=ttyS0") + 1 + ndev * 64;
	char *s = malloc(len);

	if (!s)
		return NULL;
	int n = snprintf(s, len, "%s", c->cmdline ? c->cmdline : "console=ttyS0");
	for (int i = 0; i < ndev; i++)
		n += snprintf(s + n, len - n, " virtio_mmio.device=4K@0x%llx:%d",
			      VIRTIO_BASE + 0x1000ull * i, VIRTIO_IRQ + i);
	return s;
}

static struct irq_line vmm_irq(struct vm *vm, int irq)
{
	return (struct irq_line){.set = kvm_irq, .ctx = vm, .irq = irq};
}

/* Attach disks and NICs as virtio-mmio devices 0, 1, ... at VIRTIO_BASE, IRQ 5 on. */
static int vmm_virtio(struct vm *vm, const struct config *c, char *err, size_t errlen)
{
	int dev = 0;

	for (int i = 0; i < c->ndisks; i++, dev++) {
		if (virtio_blk_open(&vm->blk[i], c->disk[i], err, errlen))
			return -1;
		vm->nblk++;
		virtio_blk_attach(&vm->blk[i], &vm->mem, vmm_irq(vm, VIRTIO_IRQ + dev));
		bus_add(&vm->mmio, VIRTIO_BASE + 0x1000ull * dev, VIRTIO_MMIO_SIZE, virtio_mmio_access, &vm->blk[i].mmio);
	}
	for (int i = 0; i < c->nnics; i++, dev++) {
		uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + i)};

		if (virtio_net_open(&vm->net[i], c->nic[i].tap, c->nic[i].has_mac ? c->nic[i].mac : mac, err, errlen))
			return -1;
		vm->nnet++;
		virtio_net_attach(&vm->net[i], &vm->mem, vmm_irq(vm, VIRTIO_IRQ + dev));
		bus_add(&vm->mmio, VIRTIO_BASE + 0x1000ull * dev, VIRTIO_MMIO_SIZE, virtio_mmio_access, &vm->net[i].mmio);
	}
	return 0;
}

/* What the guest boots from, read and checked before any KVM call. */
struct boot_files {
	uint8_t *kernel, *initrd;
	size_t klen, ilen;
	char *cmdline;
};

static void vmm_files_free(struct boot_files *f)
{
	free(f->kernel);
	free(f->initrd);
	free(f->cmdline);
}

/* Read the kernel and initrd and check that they and the command line fit the VM's memory, so bad
 * input is refused on a host without /dev/kvm too. */
static int vmm_files(struct boot_files *f, const struct config *c, char *err, size_t errlen)
{
	struct mem plan;
	struct boot_info bi;

	memset(f, 0, sizeof(*f));
	if (!(f->kernel = vmm_read("kernel", c->kernel, &f->klen, err, errlen)) ||
	    boot_check(f->kernel, f->klen, c->kernel, err, errlen))
		return -1;
	if (c->initrd && !(f->initrd = vmm_read("initrd", c->initrd, &f->ilen, err, errlen)))
		return -1;
	if (!(f->cmdline = vmm_cmdline(c, c->ndisks + c->nnics))) {
		snprintf(err, errlen, "out of memory; give the VMM more memory");
		return -1;
	}
	mem_plan(&plan, c->mem);
	return boot_plan(&plan, f->kernel, f->ilen, f->cmdline, &bi, err, errlen);
}

/* Load the kernel, initrd, command line and MP table, and create the vCPUs. */
static int vmm_boot(struct vm *vm, const struct config *c, const struct boot_files *f, char *err, size_t errlen)
{
	struct boot_info bi;
	int r = 0;

	if (boot_load(&vm->mem, f->kernel, f->klen, f->initrd, f->ilen, f->cmdline, &bi, err, errlen))
		return -1;
	if (mptable_write(&vm->mem, c->cpus)) {
		snprintf(err, errlen, "no room for the MP table; give fewer vCPUs");
		return -1;
	}
	for (; r == 0 && vm->ncpus < c->cpus; vm->ncpus++)
		r = cpu_create(vm, vm->ncpus, bi.entry, bi.params, err, errlen);
	return r;
}

/* Ask every vCPU whether it can still run; 2 answers in a row of "all halted with interrupts
 * off" (Linux's poweroff and halt without ACPI) power the VM off. */
static void vmm_halt_check(struct vm *vm, int *gen, int *streak)
{
	int dead = vm->cpu[0].dead == 2;

	for (int i = 0; i < vm->ncpus; i++)
		dead &= __atomic_load_n(&vm->cpu[i].done_gen, __ATOMIC_ACQUIRE) == *gen && vm->cpu[i].dead;
	*streak = dead ? *streak + 1 : 0;
	if (*streak >= 2) {
		vm_stop(vm, VM_POWEROFF, NULL);
		return;
	}
	++*gen;
	for (int i = 0; i < vm->ncpus; i++) {
		__atomic_store_n(&vm->cpu[i].check_gen, *gen, __ATOMIC_RELEASE);
		cpu_kick(&vm->cpu[i]);
	}
}

/* Run until the VM stops; signals end it too. */
static void vmm_loop(struct vm *vm)
{
	sigset_t set;
	struct timespec tick = {0, TICK_MS * 1000000L};
	int gen = 0, streak = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	while (vm_state(vm) == VM_RUNNING) {
		int sig = sigtimedwait(&set, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
			vm_stop(vm, VM_STOPPED, NULL);
		else if (sig < 0 && errno == EAGAIN)
			vmm_halt_check(vm, &gen, &streak);
	}
	for (int i = 0; i < vm->ncpus; i++)
		cpu_kick(&vm->cpu[i]);
}

static int vmm_start(struct vm *vm, struct console *con)
{
	for (int i = 0; i < vm->ncpus; i++)
		if (cpu_start(&vm->cpu[i]))
			return -1;
	for (int i = 0; i < vm->nnet; i++)
		if (virtio_net_start(&vm->net[i]))
			return -1;
	return console_start(con);
}

static void vmm_noop(int sig)
{
	(void)sig;
}

/* Block the signals the main thread waits for, in every thread; SIGUSR1 kicks vCPUs. */
static void vmm_signals(void)
{
	struct sigaction sa = {.sa_handler = vmm_noop, .sa_flags = SA_RESTART};
	sigset_t set;

	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void vmm_teardown(struct vm *vm, struct console *con)
{
	for (int i = 0; i < vm->ncpus; i++)
		cpu_destroy(&vm->cpu[i]);
	console_close(con);
	for (int i = 0; i < vm->nnet; i++)
		virtio_net_close(&vm->net[i]);
	for (int i = 0; i < vm->nblk; i++)
		virtio_blk_close(&vm->blk[i]);
	serial_destroy(&vm->serial);
	kvm_destroy(vm);
}

static int vmm_report(struct vm *vm)
{
	int st = vm_state(vm);

	if (st == VM_REBOOT)
		fprintf(stderr, "vmm: the guest rebooted%s%s%s\n", *vm->why ? " (" : "", vm->why, *vm->why ? ")" : "");
	else if (st == VM_STOPPED)
		fprintf(stderr, "vmm: stopped by a signal\n");
	else if (st == VM_CRASHED)
		fprintf(stderr, "vmm: the guest crashed: %s; see its console output\n", vm->why);
	else if (st == VM_POWEROFF)
		fprintf(stderr, "vmm: the guest powered off\n");
	return st;
}

static int vmm_run(struct vm *vm, const struct config *c, char *err, size_t errlen)
{
	struct console con;
	struct boot_files f;
	int r = -1;

	memset(&con, 0, sizeof(con));
	con.in = con.client = con.stop = -1;
	vm->kvm = vm->fd = -1;
	if (vmm_files(&f, c, err, errlen) || kvm_create(vm, c->mem, err, errlen))
		goto out;
	serial_init(&vm->serial, vmm_irq(vm, SERIAL_IRQ), 1);
	bus_add(&vm->pio, SERIAL_PORT, 8, serial_access, &vm->serial);
	bus_add(&vm->pio, I8042_DATA, I8042_CMD - I8042_DATA + 1, i8042_access, vm);
	if (vmm_virtio(vm, c, err, errlen) || vmm_boot(vm, c, &f, err, errlen) ||
	    console_open(&con, c->console, &vm->serial, err, errlen))
		goto out;
	if (vmm_start(vm, &con)) {
		snprintf(err, errlen, "cannot start threads: %s; raise the thread limit", strerror(errno));
		vm_stop(vm, VM_ERROR, NULL);
	}
	vmm_loop(vm);
	r = 0;
out:
	vmm_files_free(&f);
	if (r)
		vm_stop(vm, VM_ERROR, NULL);
	vmm_teardown(vm, &con);
	return vm_state(vm) == VM_ERROR ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct vm vm;
	struct config c;
	char err[CONFIG_ERR_LEN] = "";
	int r;

	config_init(&c);
	r = vmm_args(argc, argv, &c, err, sizeof(err));
	if (r) {
		config_free(&c);
		return r > 0 ? 0 : vmm_error(err);
	}
	vmm_signals();
	vm.state = VM_RUNNING;
	vm.main = pthread_self();
	for (int i = 0; i < CONFIG_MAX_CPUS; i++)
		vm.cpu[i].fd = -1;
	r = vmm_run(&vm, &c, err, sizeof(err));
	config_free(&c);
	if (r)
		return vmm_error(*err ? err : "cannot start the VM; see the messages above");
	return vmm_report(&vm);
}
