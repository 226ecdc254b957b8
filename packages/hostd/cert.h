/* hostd's TLS certificate: made at the first start when missing (docs/api.md). */
#ifndef HOSTD_CERT_H
#define HOSTD_CERT_H

#include "diag.h"

/* When cert or key is missing: a new EC P-256 key (key, mode 0600) and a self-signed certificate
 * for 10 years (cert), CN and subjectAltName DNS the host name, each written atomically. 0 when
 * both exist or are made, -errno with d filled. */
int cert_ensure(const char *cert, const char *key, const char *hostname, struct diag *d);

#endif
