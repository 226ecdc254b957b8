/* hostd's TLS certificate: made at the first start when missing (docs/api.md). */
#ifndef HOSTD_CERT_H
#define HOSTD_CERT_H

#include <stddef.h>

#include "diag.h"

/* When cert or key is missing: a new EC P-256 key (key, mode 0600) and a self-signed certificate
 * for 10 years (cert), CN and subjectAltName DNS the host name, each written atomically. 0 when
 * both exist or are made, -errno with d filled. */
int cert_ensure(const char *cert, const char *key, const char *hostname, struct diag *d);

struct cert_info {
	char subject[512];
	char not_after[32]; /* 2036-01-01T00:00:00Z */
};

/* text (PEM: the certificate, its chain, an unencrypted private key) checked with OpenSSL (the
 * key is the certificate's, not expired) and written over cert and key, each atomically. 0, or
 * -EINVAL with d filled (path "body") and nothing written. */
int cert_replace(const char *cert, const char *key, const char *text, size_t len, struct cert_info *info, struct diag *d);

/* After a host name change: when cert is hostd's own (self-signed, CN the old name), a new
 * key and certificate for hostname. 1 made, 0 left (not ours), -1 with d filled. */
int cert_renew(const char *cert, const char *key, const char *old_hostname, const char *hostname, struct diag *d);

#endif
