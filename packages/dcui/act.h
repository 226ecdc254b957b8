/* What the DCUI does to the host: logins checked with packages/auth, the configuration changed
 * through hostcfg's model and host_commit (the same code as `hostcfg set` and hostd's PATCH), the
 * management agent restarted, the network tested, the host powered off or restarted. Each returns
 * 0 or -1 with msg saying what is wrong and what to do (a field's host.conf name first). */
#ifndef DCUI_ACT_H
#define DCUI_ACT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "host.h"

struct dcui_host {
	struct host h;        /* root "/" on the host; a folder with --root (a test: nothing is signalled) */
	struct auth_paths ap; /* the shadow file and failure counts under the root */
};

/* The network form's fields, in order, with their host.conf keys. */
enum { NF_MODE, NF_ADDRESS, NF_GATEWAY, NF_DNS, NF_HOSTNAME, NF_N };
extern const char *const act_net_keys[NF_N];

/* A file under the root, or "" when it cannot be read; owned by the caller. */
char *act_file(const struct dcui_host *dh, const char *rel);
/* The running configuration's value of a host.conf key into out ("" when unreadable). */
void act_conf_value(const struct dcui_host *dh, const char *key, char *out, size_t size);
/* A login: the password checked (the lockout counted), then the role: an administrator of the
 * configuration model or a member of the group localadmin. 1: let in, but the user has no
 * password set (as the console's login, which says to set one). */
int act_login(const struct dcui_host *dh, const char *user, const char *password, char *msg, size_t size);
/* root's password set through the model and committed. */
int act_password(struct dcui_host *dh, const char *password, char *msg, size_t size);
/* The network form's values (NF_*) set through the model, checked together and committed. */
int act_network(struct dcui_host *dh, char *const val[NF_N], char *msg, size_t size);
/* hostcfg restore-defaults: the saved state removed, the defaults applied. */
int act_defaults(struct dcui_host *dh, char *msg, size_t size);
/* hostd ended with SIGTERM and waited for (at most 40 s) to be started again by init. */
int act_restart_hostd(const struct dcui_host *dh, char *msg, size_t size);
/* busybox poweroff or reboot (init's signals); in a test, only a message. */
int act_power(const struct dcui_host *dh, bool reboot, char *msg, size_t size);
/* The output of argv (stdout and stderr), at most timeout seconds; owned by the caller. */
char *act_run(char *const argv[], int timeout);
/* The addresses name resolves to, one a line, or why not; owned by the caller. */
char *act_resolve(const char *name);
/* The host's management addresses (IPv4, global IPv6; not loopback), blank-separated. */
void act_addresses(char *out, size_t size);
/* Run /usr/sbin/login on this terminal and wait for it (the DCUI's curses are ended first). */
void act_shell(void);

#endif
