/* hostctl's command line: the options, the datastore paths in URLs, the body of `config set`.
 * Pure (no I/O, no environment): the unit tests call them. */
#ifndef HOSTCTL_ARGS_H
#define HOSTCTL_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The command options, as bits of args.set (each command says which it takes). */
enum {
	O_ROLE = 1 << 0,
	O_MEMORY = 1 << 1,
	O_CPUS = 1 << 2,
	O_KERNEL = 1 << 3,
	O_INITRD = 1 << 4,
	O_CMDLINE = 1 << 5,
	O_DISK = 1 << 6,
	O_NICS = 1 << 7,
	O_AUTOSTART = 1 << 8,
	O_LINES = 1 << 9,
	O_NEWPW = 1 << 10,
};
#define MAX_DISKS 16

struct args {
	/* where and who */
	const char *host, *socket, *user, *password_file, *ca, *fingerprint, *server_name;
	bool insecure, json, help;
	/* the command's options */
	const char *role, *kernel, *initrd, *cmdline, *new_password_file;
	long memory, cpus, nics, lines;
	bool autostart;
	const char *disk[MAX_DISKS];
	int ndisks;
	unsigned set; /* O_* given */
	/* the words after the options: the command, its subcommand and operands */
	char **pos;
	int npos;
};

/* Parse argv (options may come anywhere before "--"; GNU getopt reorders argv). 0, or -1 with
 * the usage error in err. */
int args_parse(int argc, char **argv, struct args *a, char *err, size_t errlen);

/* The name of an O_* option ("--role"). */
const char *args_option_name(unsigned bit);

/* Split HOST[:PORT] ("[v6]:PORT" for an IPv6 address; the port defaults to 443). 0 or -1. */
int host_port(const char *spec, char *host, size_t hostlen, char *port, size_t portlen);

/* "/api/datastore/" and PATH with every byte but letters, digits, "-._~/" percent-encoded;
 * leading slashes dropped ("/vms/a" = "vms/a"). malloc'ed; NULL when out of memory. */
char *datastore_url(const char *path);

/* A name (of a user, a VM) as one URL path segment: "/" encoded too. malloc'ed. */
char *url_name(const char *name);

/* Whether KEY of the configuration is a list (dns-servers, dns-search, syslog-servers,
 * ntp-servers and their short names dns, syslog, ntp). */
bool config_list_key(const char *key);

/* The PATCH body for `config set KEY=VALUE...`: lists as arrays of their words (split at
 * blanks and commas), the rest as strings. NULL with err set on a word without '=' or a key
 * given twice. */
json_t *config_patch(char *const *kv, int n, char *err, size_t errlen);

#endif
