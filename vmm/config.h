/* The VM configuration: from the command line or a `key = value` file (docs/vmm.md). */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_CPUS 8
#define CONFIG_MAX_DISKS 8
#define CONFIG_MAX_NICS 8
#define CONFIG_MEM_MIN (16ull << 20)
#define CONFIG_MEM_MAX (64ull << 30)
#define CONFIG_MEM_DEFAULT (256ull << 20)
#define CONFIG_ERR_LEN 512

struct config_nic {
	char *tap;
	uint8_t mac[6];
	int has_mac;
};

struct config {
	char *name, *kernel, *initrd, *cmdline, *console;
	int cpus;
	uint64_t mem;
	char *disk[CONFIG_MAX_DISKS];
	int ndisks;
	struct config_nic nic[CONFIG_MAX_NICS];
	int nnics;
	/* Where each value came from, for errors: the file (NULL: the command line) and lines. */
	char *file;
	int kernel_line, initrd_line, mem_line, cpus_line, disk_line[CONFIG_MAX_DISKS];
};

/* Set the defaults: 1 CPU, 256 MiB, console on stdio, nothing else. */
void config_init(struct config *c);
/* Free every string the configuration owns. */
void config_free(struct config *c);
/* Parse a size such as 256M, 1G, 65536K or 4096 (bytes); 0 on success, -1 if malformed. */
int config_parse_size(const char *s, uint64_t *out);
/* Parse a MAC address aa:bb:cc:dd:ee:ff; 0 on success. */
int config_parse_mac(const char *s, uint8_t mac[6]);
/* Parse `TAP[,mac=MAC]` into a NIC; 0 on success, -1 with a message in err. */
int config_parse_nic(const char *s, struct config_nic *n, char *err, size_t errlen);
/* Parse a configuration file's text; relative paths are taken from dir (may be NULL). On error
 * returns -1 and err holds "FILE:LINE: what; what to do". */
int config_parse(struct config *c, const char *text, size_t len, const char *file, const char *dir,
		 char *err, size_t errlen);
/* Read and parse a configuration file; as config_parse. */
int config_load(struct config *c, const char *file, char *err, size_t errlen);
/* Check values and that the files exist; -1 with a message in err ("what; what to do"). */
int config_validate(const struct config *c, char *err, size_t errlen);

#endif
