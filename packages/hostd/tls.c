/* hostd's TLS context (hostd.h): made from its certificate and key, made again when the
 * certificate is replaced or follows a new host name. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <syslog.h>

#include "cert.h"
#include "hostd.h"

SSL_CTX *tls_context(const struct hostd *hd)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx) /* a TLS record read with one read(), not its header and then its body */
		SSL_CTX_set_read_ahead(ctx, 1);
	if (ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) &&
	    SSL_CTX_use_certificate_chain_file(ctx, hd->cert) == 1 &&
	    SSL_CTX_use_PrivateKey_file(ctx, hd->key, SSL_FILETYPE_PEM) == 1 && SSL_CTX_check_private_key(ctx) == 1)
		return ctx;
	fprintf(stderr, "hostd: %s, %s: cannot load the certificate and key; remove both to have new ones made\n",
		hd->cert, hd->key);
	ERR_print_errors_fp(stderr);
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_reload(struct hostd *hd)
{
	SSL_CTX *ctx = tls_context(hd), *old = hd->ctx;

	if (!ctx)
		return -1;
	hd->ctx = ctx;
	SSL_CTX_free(old); /* the connections open keep their own reference */
	logf_(hd, LOG_NOTICE, "the TLS certificate is reloaded from %s", hd->cert);
	return 0;
}

/* hostd's own certificate follows a new host name (a certificate put through the API stays). */
void cert_follow(struct hostd *hd, const char *old, const char *name)
{
	struct diag d;
	int r = cert_renew(hd->cert, hd->key, old, name, &d);

	if (r < 0)
		logf_(hd, LOG_ERR, "%s", d.msg);
	else if (r > 0 && tls_reload(hd) == 0)
		logf_(hd, LOG_NOTICE, "a new certificate for %s", name);
}
