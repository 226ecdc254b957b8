/* The host's configuration: one model used by every interface (the hostcfg CLI, later the console
 * UI and the HTTPS API), stored as one "key = value" text file, /etc/hostcfg/host.conf (lib/kv.h format;
 * docs/configuration.md lists every key and its rules). Every value is validated when it is set
 * or loaded; a refused value changes nothing. Built on lib/ only. */
#ifndef HOSTCFG_HOSTCONFIG_H
#define HOSTCFG_HOSTCONFIG_H

#include <stddef.h>

#include "diag.h"

/* The single-valued keys, in the order host.conf lists them. */
enum hc_key {
	HC_HOSTNAME,
	HC_NET_MODE,      /* dhcp | static */
	HC_NET_ADDRESS,   /* A.B.C.D/PREFIX, the static IPv4 address */
	HC_NET_GATEWAY,   /* A.B.C.D in the address's subnet, or empty */
	HC_DNS_SERVERS,   /* up to 3 IPv4/IPv6 addresses, blank-separated */
	HC_DNS_SEARCH,    /* up to 6 domain names */
	HC_IPV6_AUTOCONF, /* on | off */
	HC_SYSLOG,        /* up to 4 URLs udp|tcp|tls://HOST:PORT */
	HC_NTP,           /* up to 8 host names or addresses */
	HC_LOCALADMIN,    /* the members of the group localadmin (the DCUI lets them in): user names */
	HC_NKEYS
};

enum hc_role { HC_ADMINISTRATOR, HC_OPERATOR, HC_READ_ONLY };

struct hc_user {
	char *name;       /* owned */
	enum hc_role role;
	unsigned uid;     /* 0 for root, 1000.. for the others; kept in host.conf so it never moves */
	char *hash;       /* owned: "$6$salt$hash", or "!" (no password: locked) */
};

struct hc_config {
	char *val[HC_NKEYS];      /* owned, canonical text; "" when unset */
	struct hc_user *user;     /* owned array; user[0] is always root */
	size_t nuser;
};

/* The host.conf name of a key, and the key of a name (-1 when unknown). */
const char *hc_key_name(enum hc_key k);
int hc_key_find(const char *name);
const char *hc_role_name(enum hc_role r);
int hc_role_find(const char *name);

/* The defaults (hostname "localhost", DHCP, root locked). *c is overwritten; free with hc_free(). */
void hc_defaults(struct hc_config *c);
void hc_free(struct hc_config *c);
/* A deep copy of src into *dst (for all-or-nothing edits). */
void hc_copy(struct hc_config *dst, const struct hc_config *src);

/*
 * Parse host.conf text that came from path into *ret (overwritten only on success). Strict: an
 * unknown or repeated key, a bad value or settings that disagree (a gateway outside the address's
 * subnet) are refused with d naming the line and the key. Keys left out keep their defaults.
 */
int hc_parse(const char *path, const char *text, size_t len, struct hc_config *ret, struct diag *d);
/* hc_parse() with the keys left out taken from base instead of the defaults (an image's own
 * defaults); the users are the text's, root base's unless the text has a root line. */
int hc_parse_over(const char *path, const char *text, size_t len, const struct hc_config *base, struct hc_config *ret,
		  struct diag *d);
/* hc_parse() of the file at path; a missing file gives the defaults. */
int hc_load(const char *path, struct hc_config *ret, struct diag *d);
/* hc_parse_over() of the file at path; a missing file gives a copy of base. */
int hc_load_over(const char *path, const struct hc_config *base, struct hc_config *ret, struct diag *d);
/* The host.conf text of c (owned by the caller). */
char *hc_format(const struct hc_config *c);
/* hc_check(), then c's text written to path atomically (mode 0600: it holds the hashes). */
int hc_save(const struct hc_config *c, const char *path, struct diag *d);

/* The value of a key by name, owned by the caller; -EINVAL with d filled for an unknown key. */
int hc_get(const struct hc_config *c, const char *name, char **ret, struct diag *d);
/* Set one key by name after checking the value alone; c is unchanged on error. The rules between
 * keys are checked by hc_check(), once every key of an edit is set. */
int hc_set(struct hc_config *c, const char *name, const char *value, struct diag *d);
/* The rules between keys: a static mode needs an address; the gateway lies in its subnet; each
 * member of localadmin is a user. */
int hc_check(const struct hc_config *c, struct diag *d);

/* Users: add one with a password (hashed here, sha512-crypt; the text is never kept), remove one
 * (never root), or change a password. c is unchanged on error. */
int hc_user_add(struct hc_config *c, const char *name, const char *role, const char *password, struct diag *d);
/* Whether hc_user_add() would take name and role (before asking for a password). */
int hc_user_check_new(const struct hc_config *c, const char *name, const char *role, struct diag *d);
/* Removes the user from localadmin too. */
int hc_user_del(struct hc_config *c, const char *name, struct diag *d);
int hc_user_passwd(struct hc_config *c, const char *name, const char *password, struct diag *d);
/* Set a user's hash as given (an installer's --iscrypted password); checked to be sha512-crypt. */
int hc_user_set_hash(struct hc_config *c, const char *name, const char *hash, struct diag *d);
struct hc_user *hc_user_find(const struct hc_config *c, const char *name);

/* Hash password with sha512-crypt and a fresh salt into out; 0 or -errno with d filled. */
int hc_hash_password(const char *password, char *out, size_t size, struct diag *d);

#endif
