/* /init of the nested test guest (50-vmm.*): prints a marker, runs the check named by the
 * kernel parameter vmmtest= (an environment variable for init), then powers off or reboots.
 *   vmmtest=poweroff  marker and CPU count, then poweroff     vmmtest=reboot  ... then reboot
 *   vmmtest=disk      write a pattern to /dev/vda, flush, read it back, then poweroff
 *   vmmtest=net       eth0 10.0.2.15/24 (vmmip=A.B.C.D another address), send a UDP datagram to
 *                     10.0.2.2:5555 (vmmport=N another port), wait for a reply
 *   vmmtest=wait      stay up (the test stops vmm with a signal)
 *   vmmtest=echo      read a line from the console and print it back
 *   vmmtest=bench     time reading and writing 32 MiB of /dev/vda (O_DIRECT), then stay up
 * The same binary serves the outer (TCG) side: `vmm-guest-init peer [ADDR [PORT]]` answers the
 * net check on 10.0.2.2:5555 (or ADDR:PORT, e.g. 127.0.0.1 of a build host behind QEMU's user
 * network, which 10.0.2.2 reaches), and
 * `vmm-guest-init check-disk FILE` checks the pattern the disk check wrote, and
 * `vmm-guest-init console SOCKET` attaches to vmm's console socket, types a line after the marker
 * and copies the console to stdout until vmm closes it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DISK_BYTES (1 << 20)

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + 3 + (i >> 9));
}

static int disk_check(void)
{
	static unsigned char buf[DISK_BYTES];
	int fd = open("/dev/vda", O_RDWR);

	if (fd < 0)
		return printf("VMMTEST disk: cannot open /dev/vda\n"), 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = pattern(i);
	if (pwrite(fd, buf, sizeof(buf), 4096) != (ssize_t)sizeof(buf) || fsync(fd))
		return printf("VMMTEST disk: write or flush failed\n"), 1;
	memset(buf, 0, sizeof(buf));
	/* Drop the page cache so that the read comes from the device. */
	int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (dc >= 0 && write(dc, "3", 1) == 1)
		close(dc);
	if (pread(fd, buf, sizeof(buf), 4096) != (ssize_t)sizeof(buf))
		return printf("VMMTEST disk: read failed\n"), 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != pattern(i))
			return printf("VMMTEST disk: byte %zu differs\n", i), 1;
	printf("VMMTEST disk-ok %d bytes written, flushed and read back\n", DISK_BYTES);
	close(fd);
	return 0;
}

static int net_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = {0};
	struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;

	const char *ip = getenv("vmmip");

	strcpy(ifr.ifr_name, "eth0");
	a->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip ? ip : "10.0.2.15", &a->sin_addr) != 1)
		return printf("VMMTEST net: vmmip=%s is not an IPv4 address\n", ip), -1;
	if (ioctl(s, SIOCSIFADDR, &ifr))
		return printf("VMMTEST net: no eth0\n"), -1;
	inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
	ioctl(s, SIOCSIFNETMASK, &ifr);
	ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ioctl(s, SIOCSIFFLAGS, &ifr);
	return s;
}

static int net_check(void)
{
	int s = net_up();
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(5556)};
	const char *port = getenv("vmmport");
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(port ? (uint16_t)atoi(port) : 5555)};
	struct timeval tv = {1, 0};
	char buf[128];

	if (s < 0)
		return 1;
	bind(s, (struct sockaddr *)&me, sizeof(me));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	inet_pton(AF_INET, "10.0.2.2", &peer.sin_addr);
	for (int i = 0; i < 60; i++) {
		sendto(s, "hello-from-guest\n", 17, 0, (struct sockaddr *)&peer, sizeof(peer));
		ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = 0;
			printf("VMMTEST net-rx %s\n", strtok(buf, "\n"));
			return 0;
		}
	}
	return printf("VMMTEST net: no reply\n"), 1;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Sequential O_DIRECT throughput of /dev/vda, 1 MiB requests, 32 MiB each way. */
static void disk_bench(void)
{
	int fd = open("/dev/vda", O_RDWR | O_DIRECT);
	void *buf = aligned_alloc(4096, 1 << 20);
	double t;

	if (fd < 0 || !buf) {
		printf("VMMTEST bench: cannot open /dev/vda\n");
		return;
	}
	memset(buf, 0x5a, 1 << 20);
	t = now();
	for (int i = 0; i < 32; i++)
		if (pwrite(fd, buf, 1 << 20, (off_t)i << 20) != 1 << 20)
			return (void)printf("VMMTEST bench: write failed\n");
	fsync(fd);
	printf("VMMTEST bench write-MBps %.1f\n", 32 / (now() - t));
	t = now();
	for (int i = 0; i < 32; i++)
		if (pread(fd, buf, 1 << 20, (off_t)i << 20) != 1 << 20)
			return (void)printf("VMMTEST bench: read failed\n");
	printf("VMMTEST bench read-MBps %.1f\n", 32 / (now() - t));
	close(fd);
	free(buf);
}

/* The outer side of the net check: answer one datagram on addr:port (10.0.2.2:5555), to where
 * it came from (the guest's port 5556, or QEMU's user network's socket standing for it). */
static int peer(const char *addr, const char *port)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))}, from;
	socklen_t fl = sizeof(from);
	char buf[128];

	if (inet_pton(AF_INET, addr, &me.sin_addr) != 1 || bind(s, (struct sockaddr *)&me, sizeof(me)))
		return printf("VMMHOST peer: cannot bind %s:%s\n", addr, port), 1;
	ssize_t n = recvfrom(s, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	printf("VMMHOST net-got %s from %s\n", strtok(buf, "\n"), inet_ntoa(from.sin_addr));
	sendto(s, "hello-from-host\n", 16, 0, (struct sockaddr *)&from, sizeof(from));
	return 0;
}

static int console_client(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s = -1, typed = 0;
	char buf[512], seen[4096] = "";
	ssize_t n;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	for (int i = 0; i < 100 && s < 0; i++) {
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
			close(s);
			s = -1;
			usleep(100000);
		}
	}
	if (s < 0)
		return printf("VMMHOST console: cannot connect to %s\n", path), 1;
	while ((n = read(s, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = 0;
		fputs(buf, stdout);
		strncat(seen, buf, sizeof(seen) - strlen(seen) - 1);
		if (!typed && strstr(seen, "marker")) {
			typed = write(s, "typed-into-socket\n", 18) == 18;
		}
	}
	return 0;
}

static int check_disk(const char *file)
{
	static unsigned char buf[DISK_BYTES];
	int fd = open(file, O_RDONLY);

	if (fd < 0 || pread(fd, buf, sizeof(buf), 4096) != (ssize_t)sizeof(buf))
		return printf("VMMHOST disk-bytes: cannot read %s\n", file), 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != pattern(i))
			return printf("VMMHOST disk-bytes: byte %zu differs\n", i), 1;
	return printf("VMMHOST disk-bytes-ok\n"), 0;
}

int main(int argc, char **argv)
{
	const char *t = getenv("vmmtest");

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1)
		return !strcmp(argv[1], "peer") ? peer(argc > 2 ? argv[2] : "10.0.2.2", argc > 3 ? argv[3] : "5555")
		       : argc < 3		  ? 2
		       : !strcmp(argv[1], "console") ? console_client(argv[2])
						     : check_disk(argv[2]);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("proc", "/proc", "proc", 0, NULL);
	int con = open("/dev/console", O_RDWR);
	if (con >= 0) {
		dup2(con, 0);
		dup2(con, 1);
		dup2(con, 2);
	}
	printf("VMMTEST marker cpus=%ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	if (t && !strcmp(t, "disk"))
		disk_check();
	if (t && !strcmp(t, "net"))
		net_check();
	if (t && !strcmp(t, "echo")) {
		char line[128];
		if (fgets(line, sizeof(line), stdin))
			printf("VMMTEST got %s", line);
	}
	if (t && !strcmp(t, "bench")) {
		disk_bench();
		t = "wait";
	}
	while (t && !strcmp(t, "wait"))
		pause();
	sync();
	reboot(t && !strcmp(t, "reboot") ? RB_AUTOBOOT : RB_POWER_OFF);
	return 0;
}
