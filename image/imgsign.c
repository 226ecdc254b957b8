/* imgsign: make signing keys, sign files, verify signatures and bundles, show who signed. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle.h"
#include "signing.h"
#include "util.h"

static const char usage[] =
	"Usage: imgsign COMMAND [OPTIONS] ARGS\n"
	"\n"
	"Commands:\n"
	"  keygen [--cn NAME] [--days N] [--not-before T] [--not-after T] [--certify-with KEY] OUT\n"
	"         make an RSA-3072 signing key OUT.key (PEM, mode 0600) and its X.509 certificate\n"
	"         OUT.crt; self-signed, or certified by KEY (KEY.key, KEY.crt): a rotated key.\n"
	"         T is Unix seconds (default: now - 1 day, and --days later; --days 3650)\n"
	"  sign --key KEY [--cert CRT] [--chain PEM] [--epoch T] [-o SIG] FILE\n"
	"         sign FILE into SIG (default FILE.sig): a detached CMS signature (DER) with the\n"
	"         signer's certificate, the --chain certificates, and signingTime T (default\n"
	"         $SOURCE_DATE_EPOCH). KEY is a path (KEY.key and KEY.crt) or a PKCS#11 URI\n"
	"         (pkcs11:..., with --cert)\n"
	"  verify --keyring PEM [--learned PEM] [--revoked FILE] FILE [SIG]\n"
	"         verify SIG (default FILE.sig) of FILE against the keyring's certificates; a\n"
	"         .bundle FILE is verified whole: its manifest's signature, then every byte of its\n"
	"         bank image against the manifest\n"
	"  show SIG   print the signer, its fingerprint, the signing time and the certificates carried\n"
	"\n"
	"Signatures are standard: openssl cms -verify -binary -inform DER -in SIG -content FILE\n"
	"-CAfile KEYRING.pem -purpose any verifies them. See docs/signing.md.\n"
	"\n"
	"Exit status: 0 done (verify: trusted and intact); 1 failed or refused (the message says\n"
	"why and what to do); 2 bad usage.\n";

struct args {
	const char *cn, *certify, *key, *cert, *chain, *out, *keyring, *learned, *revoked;
	long long days, not_before, not_after, epoch;
	char *pos[2];
	int npos;
};

static void usage_error(const char *what)
{
	fprintf(stderr, "imgsign: %s; try 'imgsign --help'\n", what);
	exit(2);
}

static long long number(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end)
		usage_error("expected a number of seconds or days");
	return v;
}

static void parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"cn", 1, NULL, 'n'}, {"days", 1, NULL, 'd'}, {"not-before", 1, NULL, 'b'}, {"not-after", 1, NULL, 'a'},
		{"certify-with", 1, NULL, 'c'}, {"key", 1, NULL, 'k'}, {"cert", 1, NULL, 'C'}, {"chain", 1, NULL, 'H'},
		{"epoch", 1, NULL, 'e'}, {"keyring", 1, NULL, 'r'}, {"learned", 1, NULL, 'l'}, {"revoked", 1, NULL, 'R'},
		{"help", 0, NULL, 'h'}, {0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1)
		switch (ch) {
		case 'n': a->cn = optarg; break;
		case 'd': a->days = number(optarg); break;
		case 'b': a->not_before = number(optarg); break;
		case 'a': a->not_after = number(optarg); break;
		case 'c': a->certify = optarg; break;
		case 'k': a->key = optarg; break;
		case 'C': a->cert = optarg; break;
		case 'H': a->chain = optarg; break;
		case 'e': a->epoch = number(optarg); break;
		case 'r': a->keyring = optarg; break;
		case 'l': a->learned = optarg; break;
		case 'R': a->revoked = optarg; break;
		case 'o': a->out = optarg; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: usage_error("bad option");
		}
	while (optind < argc && a->npos < 2)
		a->pos[a->npos++] = argv[optind++];
	if (optind < argc)
		usage_error("too many arguments");
}

static int cmd_keygen(const struct args *a, struct diag *d)
{
	long long now = (long long)time(NULL);
	char *ik = a->certify ? xasprintf("%s.key", a->certify) : NULL, *ic = a->certify ? xasprintf("%s.crt", a->certify) : NULL;
	struct keygen_opts o = {.out = a->pos[0], .cn = a->cn ? a->cn : "hypervisor signing key",
				.not_before = a->not_before ? a->not_before : now - 86400, .issuer_key = ik, .issuer_cert = ic};
	int r;

	o.not_after = a->not_after ? a->not_after : o.not_before + (a->days ? a->days : 3650) * 86400;
	r = signing_keygen(&o, d);
	if (r == 0)
		printf("imgsign: made %s.key and %s.crt (%s)\n", o.out, o.out, o.cn);
	free(ik), free(ic);
	return r;
}

static int cmd_sign(const struct args *a, struct diag *d)
{
	struct signer *s = NULL;
	struct buf sig = {0};
	char *data = NULL, *out = a->out ? xstrdup(a->out) : xasprintf("%s.sig", a->pos[0]);
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	long long epoch = a->epoch ? a->epoch : sde ? atoll(sde) : (long long)time(NULL);
	size_t len = 0;
	int r = signing_signer_load(a->key, a->cert, a->chain, &s, d);

	if (r == 0 && (r = util_read_file(a->pos[0], &data, &len)) < 0)
		r = diag_set(d, a->pos[0], 0, "cannot read: %s", strerror(-r));
	if (r == 0)
		r = signing_sign(s, data, len, epoch, &sig, d);
	if (r == 0 && (r = util_write_file_atomic(out, sig.data, sig.len, 0644)) < 0)
		r = diag_set(d, out, 0, "cannot write: %s", strerror(-r));
	free(data), free(out);
	buf_free(&sig);
	signing_signer_free(s);
	return r;
}

/* Add a PEM file's certificates (anchors or learned), or a revocation list's fingerprints. */
static int keyring_file(struct keyring *k, const char *path, int kind, struct diag *d)
{
	char *text = NULL;
	size_t len = 0;
	int r = util_read_file(path, &text, &len);

	if (r < 0)
		return diag_set(d, path, 0, "cannot read: %s", strerror(-r));
	r = kind < 2 ? signing_keyring_add_pem(k, text, len, kind == 0, path, d) : signing_keyring_revoke_list(k, text, path, d);
	free(text);
	return r;
}

static void print_signer(const char *what, const struct signing_info *in)
{
	printf("imgsign: %s: good signature by '%s' (sha256 %.16s...)%s, signed at %lld\n", what, in->subject,
	       in->fingerprint, in->chained ? ", certified by a trusted key" : "", in->signed_at);
}

/* A whole bundle: the manifest's signature, then every byte of the bank image. */
static int verify_bundle(const struct keyring *k, const char *path, struct diag *d)
{
	struct bundle_reader *b = NULL;
	struct signing_info in = {0};
	struct hvimg h = {0};
	static char chunk[1 << 20];
	int r = bundle_open(path, &b, d);

	if (r == 0)
		r = bundle_verify_signature(b, k, &in, d);
	if (r == 0)
		r = bundle_image_open(b, &h, d);
	for (unsigned long long done = 0; r == 0 && done < h.data_bytes;) {
		size_t n = h.data_bytes - done < sizeof(chunk) ? (size_t)(h.data_bytes - done) : sizeof(chunk);
		r = bundle_image_read(b, chunk, n, d);
		done += n;
	}
	if (r == 0)
		r = bundle_image_close(b, d);
	if (r == 0)
		print_signer(path, &in);
	buf_free(&in.new_certs);
	hvimg_free(&h);
	bundle_close(b);
	return r;
}

static int verify_file(const struct keyring *k, const struct args *a, struct diag *d)
{
	char *sigp = a->pos[1] ? xstrdup(a->pos[1]) : xasprintf("%s.sig", a->pos[0]), *data = NULL, *sig = NULL;
	size_t len = 0, slen = 0;
	struct signing_info in = {0};
	int r = util_read_file(a->pos[0], &data, &len);

	if (r < 0)
		r = diag_set(d, a->pos[0], 0, "cannot read: %s", strerror(-r));
	else if ((r = util_read_file(sigp, &sig, &slen)) < 0)
		r = diag_set(d, sigp, 0, "cannot read the signature: %s", strerror(-r));
	if (r == 0)
		r = signing_verify(k, data, len, sig, slen, sigp, &in, d);
	if (r == 0)
		print_signer(a->pos[0], &in);
	buf_free(&in.new_certs);
	free(sigp), free(data), free(sig);
	return r;
}

static int cmd_verify(const struct args *a, struct diag *d)
{
	struct keyring *k = signing_keyring_new();
	size_t n = strlen(a->pos[0]);
	int r = keyring_file(k, a->keyring, 0, d);

	if (r == 0 && a->learned)
		r = keyring_file(k, a->learned, 1, d);
	if (r == 0 && a->revoked)
		r = keyring_file(k, a->revoked, 2, d);
	if (r == 0)
		r = n > 7 && strcmp(a->pos[0] + n - 7, ".bundle") == 0 && !a->pos[1] ? verify_bundle(k, a->pos[0], d)
										      : verify_file(k, a, d);
	signing_keyring_free(k);
	return r;
}

static int cmd_show(const struct args *a, struct diag *d)
{
	char *sig = NULL;
	size_t len = 0;
	struct buf out = {0};
	int r = util_read_file(a->pos[0], &sig, &len);

	if (r < 0)
		r = diag_set(d, a->pos[0], 0, "cannot read: %s", strerror(-r));
	if (r == 0 && (r = signing_show(sig, len, a->pos[0], &out, d)) == 0)
		fputs(out.data, stdout);
	buf_free(&out);
	free(sig);
	return r;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	struct diag d = {{0}, 0};
	const char *cmd = argc > 1 ? argv[1] : "";
	int r;

	util_progname = "imgsign";
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
		fputs(usage, stdout), exit(0);
	parse(argc - 1, argv + 1, &a);
	if (a.npos < 1)
		usage_error("missing the file argument");
	if (strcmp(cmd, "keygen") == 0)
		r = cmd_keygen(&a, &d);
	else if (strcmp(cmd, "sign") == 0)
		r = a.key ? cmd_sign(&a, &d) : (usage_error("sign needs --key"), 0);
	else if (strcmp(cmd, "verify") == 0)
		r = a.keyring ? cmd_verify(&a, &d) : (usage_error("verify needs --keyring"), 0);
	else if (strcmp(cmd, "show") == 0)
		r = cmd_show(&a, &d);
	else
		usage_error("unknown command");
	if (r < 0)
		fprintf(stderr, "imgsign: %s\n", d.msg);
	return r < 0 ? 1 : 0;
}
