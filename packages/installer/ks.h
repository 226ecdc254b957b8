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
	bool dhcp;                 /* network --bootproto=dhcp (the default) or static */
	char ip[64], netmask[64], gateway[64], nameserver[128], hostname[128];
	enum ks_end end;           /* reboot | poweroff */
};

/*
 * Parse answer-file text. Returns 0, or -1 with err filled as "ks.cfg:<line>: <what>; <what to
 * do>". An unknown command is an error, never a silent skip.
 */
int ks_parse(const char *text, size_t len, struct ks_config *ret, char *err, size_t err_size);

#endif
