/* ks.cfg: the installer's answer file, in ESXi's kickstart syntax so that operators' files carry
 * over. Pure parsing (no I/O): shared by the installer and its fuzz target. */
#ifndef KS_H
#define KS_H

#include <stdbool.h>
#include <stddef.h>

enum ks_disk { KS_DISK_UNSET, KS_DISK_FIRST, KS_DISK_NAMED };
enum ks_end { KS_END_NONE, KS_END_REBOOT, KS_END_POWEROFF };

struct ks_config {
	bool eula;                 /* vmaccepteula */
	char rootpw[256];          /* rootpw [--iscrypted] PASSWORD */
	bool rootpw_crypted;
	enum ks_disk disk;         /* install --firstdisk | --disk=NAME */
	char disk_name[64];
	bool overwrite_datastore;  /* install --overwritevmfs: format an existing datastore1 again */
	bool dhcp;                 /* network --bootproto=dhcp (the default) or static */
	char ip[64], netmask[64], gateway[64], nameserver[128], hostname[128];
	int prefix;                /* of --netmask, for a static network */
	enum ks_end end;           /* reboot | poweroff */
	char firstboot[8192];      /* the %firstboot section's lines, run once at the first boot */
};

/*
 * Parse answer-file text. Returns 0, or -1 with err filled as "ks.cfg:<line>: <what>; <what to
 * do>". An unknown command is an error, never a silent skip. The settings the installed host
 * applies at its first boot (hostcfg, docs/configuration.md) are checked here, so that a value
 * the host would refuse stops the install instead: addresses, a contiguous netmask, the host
 * name (RFC 1123), an --iscrypted password that is sha512-crypt. A %firstboot section (ESXi's,
 * --interpreter=busybox or none) runs to the next %end or the end of the file.
 */
int ks_parse(const char *text, size_t len, struct ks_config *ret, char *err, size_t err_size);
/*
 * The settings of c in host.conf's format (docs/configuration.md), for bank A's firstboot.conf:
 * network-mode, network-address, network-gateway, dns-servers, hostname, and root's password as
 * hash (sha512-crypt; the installer hashes a plain rootpw first). The length written, or a value
 * >= size when it did not fit.
 */
int ks_firstboot_conf(const struct ks_config *c, const char *hash, char *out, size_t size);

#endif
