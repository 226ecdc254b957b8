/* imgbuild: builds the appliance's packages from recipes and assembles its images. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "graph.h"
#include "hash.h"
#include "image.h"
#include "profile.h"
#include "run.h"
#include "signing.h"
#include "write.h"
#include "util.h"
#include "verify.h"

#define IMGBUILD_VERSION "0.1.0"
#define DEFAULT_PROFILE "recipes/images/hypervisor.image"

static const char usage[] =
	"Usage: imgbuild [OPTIONS] [COMMAND] [PROFILE]\n"
	"\n"
	"Builds the packages an image profile needs from recipes/, then the image.\n"
	"\n"
	"Commands:\n"
	"  build      build the packages and the ISO out/<name>-<version>.iso (default)\n"
	"  packages   build the packages only\n"
	"  list       print the recipes the profile needs, dependencies first: name, version,\n"
	"             key, whether the package is cached or to-build, and its path in the store\n"
	"  lint       parse every recipe and the profile, and check the dependency graph\n"
	"  verify RELEASE...\n"
	"             rebuild a release (its .iso, and its .img and .bundle if given) from this\n"
	"             checkout without any private key, taking the version, SOURCE_DATE_EPOCH,\n"
	"             public keys and signatures from the release, and compare: prints\n"
	"             'RELEASE: identical' for each, or names the first file that differs and\n"
	"             how (exit 1); run it in a checkout of the release's commit (docs/signing.md)\n"
	"  write IMAGE TARGET [--force]\n"
	"             write a disk image (out/<name>-<version>.img) to a USB stick, SD card or disk\n"
	"             (or a file): only the blocks holding data, then flush and read back;\n"
	"             refuses a mounted device or the disk holding / unless --force\n"
	"\n"
	"PROFILE defaults to " DEFAULT_PROFILE ".\n"
	"\n"
	"Options:\n"
	"  -C DIR               the repository (default: the current folder)\n"
	"  -o DIR               the output folder (default: out)\n"
	"  --store DIR          the package store, which every checkout on the machine may share\n"
	"                       (default: $IMGBUILD_STORE, else $XDG_CACHE_HOME/imgbuild/pkgs, else\n"
	"                       ~/.cache/imgbuild/pkgs); a package is built once per machine\n"
	"  -j N                 build N recipes at once (default: the number of cores)\n"
	"  --image-version V    the image's version (default: the VERSION file)\n"
	"  --signing-key KEY    sign the image's MANIFEST and the bundle with KEY: a path (KEY.key,\n"
	"                       KEY.crt) or a PKCS#11 URI (with --signing-cert); default: a\n"
	"                       development key made on the first build, OUT/keys/dev-signing\n"
	"  --signing-cert CRT   the key's certificate, for a key on a token\n"
	"  --keyring PEM        more certificates the image trusts, besides the signing key's\n"
	"  --revoke FILE        fingerprints the image and its bundles revoke (default:\n"
	"                       signing/revoked)\n"
	"  -h, --help           show this help\n"
	"  --version            show imgbuild's version\n"
	"\n"
	"Environment: SOURCE_DATE_EPOCH fixes every timestamp in the image (default: the time of\n"
	"the last git commit), so that two builds of the same inputs are bit-identical.\n"
	"\n"
	"Exit status: 0 on success, 1 on any error (printed as FILE:LINE: what; what to do),\n"
	"2 on bad usage. Recipes are documented in docs/recipes.md.\n";

struct opts {
	const char *out, *command, *profile, *target;
	char **releases;  /* verify: the release's files */
	int nreleases;
	const char *signing_key, *signing_cert, *keyring, *revoke;
	char *version, *store;
	int jobs;
	bool force;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"image-version", required_argument, NULL, 'v'},
		{"force", no_argument, NULL, 'f'},
		{"signing-key", required_argument, NULL, 'K'},
		{"signing-cert", required_argument, NULL, 'c'},
		{"keyring", required_argument, NULL, 'r'},
		{"revoke", required_argument, NULL, 'R'},
		{"store", required_argument, NULL, 'S'},
		{0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "C:o:j:h", longopts, NULL)) != -1) {
		if (c == 'C' && chdir(optarg) < 0)
			util_die("-C %s: cannot enter the folder:", optarg);
		else if (c == 'o')
			o->out = optarg;
		else if (c == 'j' && (o->jobs = atoi(optarg)) < 1)
			util_die("-j %s: give a number of parallel builds, 1 or more", optarg);
		else if (c == 'v')
			o->version = xstrdup(optarg);
		else if (c == 'f')
			o->force = true;
		else if (c == 'K')
			o->signing_key = optarg;
		else if (c == 'c')
			o->signing_cert = optarg;
		else if (c == 'r')
			o->keyring = optarg;
		else if (c == 'R')
			o->revoke = optarg;
		else if (c == 'S')
			o->store = xstrdup(optarg);
		else if (c == 'h')
			fputs(usage, stdout), exit(0);
		else if (c == 'V')
			puts("imgbuild " IMGBUILD_VERSION), exit(0);
		else if (c == '?')
			fputs("Try 'imgbuild --help'.\n", stderr), exit(2);
	}
	if (optind < argc)
		o->command = argv[optind++];
	if (strcmp(o->command, "verify") == 0) {
		o->releases = argv + optind, o->nreleases = argc - optind, optind = argc;
		if (o->nreleases == 0)
			fputs("imgbuild: verify needs the release's files (RELEASE.iso, .img, .bundle); try 'imgbuild --help'\n",
			      stderr), exit(2);
	}
	if (optind < argc)
		o->profile = argv[optind++];
	if (optind < argc && strcmp(o->command, "write") == 0)
		o->target = argv[optind++];
	if (optind < argc)
		fprintf(stderr, "imgbuild: unexpected argument '%s'; try 'imgbuild --help'\n", argv[optind]), exit(2);
}

/* The package store when --store does not name one. */
static char *default_store(const char *out)
{
	const char *env = getenv("IMGBUILD_STORE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (env && *env)
		return xstrdup(env);
	if (xdg && *xdg == '/')
		return xasprintf("%s/imgbuild/pkgs", xdg);
	if (home && *home == '/')
		return xasprintf("%s/.cache/imgbuild/pkgs", home);
	return xasprintf("%s/pkgs", out);
}

static char *read_version(void)
{
	char *text;

	if (util_read_file("VERSION", &text, NULL) < 0)
		util_die("VERSION: cannot read the image version; create it or pass --image-version");
	text[strcspn(text, " \t\r\n")] = '\0';
	if (!*text)
		util_die("VERSION:1: empty version; write one like 1.0.0");
	return text;
}

static long long source_date_epoch(void)
{
	const char *env = getenv("SOURCE_DATE_EPOCH");
	char *argv[] = {"git", "log", "-1", "--format=%ct", NULL};
	struct buf out = {0};
	long long t = 0;

	if (env && *env) {
		char *end;
		t = strtoll(env, &end, 10);
		if (*end || t < 0)
			util_die("SOURCE_DATE_EPOCH=%s is not a number of seconds; fix or unset it", env);
		return t;
	}
	if (run_argv(argv, NULL, NULL, NULL, &out) == 0 && out.data)
		t = strtoll(out.data, NULL, 10);
	buf_free(&out);
	return t;
}

static struct recipe **order_for(const struct graph *g, const struct profile *p, size_t *n, struct diag *d)
{
	struct strv roots = {0};
	const struct namelist *lists[] = {&p->initramfs, &p->system, &p->drivers, &p->system_drivers};
	size_t nroots = 2; /* the kernel and the bootloader */
	struct recipe **order = NULL;
	int *lines;

	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		nroots += lists[l]->names.n;
	lines = xcalloc(nroots, sizeof(int));

	strv_push(&roots, p->kernel);
	lines[0] = p->kernel_line;
	if (p->bootloader) {
		lines[roots.n] = p->bootloader_line;
		strv_push(&roots, p->bootloader);
	}
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		for (size_t i = 0; i < lists[l]->names.n; i++) {
			lines[roots.n] = lists[l]->lines[i];
			strv_push(&roots, lists[l]->names.v[i]);
		}
	if (graph_order(g, &roots, lines, p->path, &order, n, d) < 0)
		order = NULL;
	strv_free(&roots);
	free(lines);
	return order;
}

/* Without --signing-key: the development key in OUT/keys, made on the first build. */
static int dev_key(const struct opts *o, char **ret, struct diag *d)
{
	char *dir = xasprintf("%s/keys", o->out), *key = xasprintf("%s/dev-signing", dir), *kp = xasprintf("%s.key", key);
	struct keygen_opts k = {.out = key, .cn = "hypervisor development signing key"};
	int r = 0;

	if (access(kp, F_OK) < 0) {
		k.not_before = (long long)time(NULL) - 86400;
		k.not_after = k.not_before + 3650LL * 86400;
		util_mkdir_p(dir, 0700);
		if ((r = signing_keygen(&k, d)) == 0)
			fprintf(stderr, "imgbuild: made a development signing key %s.key (never ship it: name a production "
				"key with --signing-key, make SIGNING_KEY=...)\n", key);
	}
	free(dir), free(kp);
	*ret = key;
	return r;
}

/* The signer, the image's keyring (the signer's certificate and --keyring) and revocations. */
static int load_signing(const struct opts *o, struct image_opts *io, struct signer **ret, struct diag *d)
{
	char *key = NULL, *extra = NULL, *rev = NULL, *save = NULL;
	const char *revoke = o->revoke ? o->revoke : access("signing/revoked", F_OK) == 0 ? "signing/revoked" : NULL;
	int r = o->signing_key ? 0 : dev_key(o, &key, d);

	if (r == 0)
		r = signing_signer_load(o->signing_key ? o->signing_key : key, o->signing_cert, NULL, ret, d);
	if (r == 0 && o->keyring && util_read_file(o->keyring, &extra, NULL) < 0)
		r = diag_set(d, o->keyring, 0, "cannot read the keyring: %s", strerror(errno));
	if (r == 0 && revoke && util_read_file(revoke, &rev, NULL) < 0)
		r = diag_set(d, revoke, 0, "cannot read the revocation list: %s", strerror(errno));
	if (r == 0)
		io->trusted = xasprintf("%s%s", signing_signer_cert_pem(*ret), extra ? extra : "");
	for (char *l = rev ? strtok_r(rev, "\n", &save) : NULL; l && r == 0; l = strtok_r(NULL, "\n", &save))
		if (*l && *l != '#')
			strv_push(&io->revoked, l);
	for (size_t i = 0; r == 0 && i < io->revoked.n; i++)
		if (strlen(io->revoked.v[i]) != 64 || strspn(io->revoked.v[i], "0123456789abcdef") != 64)
			r = diag_set(d, revoke, 0, "'%s' is not a SHA-256 fingerprint (64 lower-case hex digits, as "
				     "imgsign show prints)", io->revoked.v[i]);
	io->signer = *ret;
	free(key), free(extra), free(rev);
	return r;
}

/* How imgbuild draws what its libraries report, on stderr. On a terminal the build's live line
 * "[3/7] building: a b c" stands for the per-package notes; otherwise each package built gets a
 * line. Every other note is an "imgbuild: ..." line either way. */
struct drawer {
	bool tty;
	bool line; /* a live line is shown: clear it before anything else is printed */
};

static void clear_line(struct drawer *dr)
{
	if (dr->line)
		fputs("\r\033[K", stderr);
	dr->line = false;
}

static void draw_build_step(void *ctx, const char *phase, unsigned long long done, unsigned long long total)
{
	struct drawer *dr = ctx;

	if (!dr->tty)
		return;
	fprintf(stderr, "\r\033[K[%llu/%llu] %s", done, total, phase);
	dr->line = true;
	if (done >= total)
		clear_line(dr);
	fflush(stderr);
}

static void draw_note(void *ctx, const char *msg)
{
	clear_line(ctx);
	fprintf(stderr, "imgbuild: %s\n", msg);
}

static void draw_build_note(void *ctx, const char *msg)
{
	struct drawer *dr = ctx;

	if (!dr->tty)
		draw_note(dr, msg);
}

/* After a package failed to build: the end of its log, above the error. */
static void show_failed_log(struct drawer *dr, const struct build *b)
{
	clear_line(dr);
	if (b->failed_log)
		fprintf(stderr, "---- last lines of %s ----\n%s----\n", b->failed_log, b->failed_tail);
}

static void list(const struct build *b)
{
	for (size_t i = 0; i < b->n; i++)
		printf("%-20s %-24s %.16s %-8s %s\n", b->job[i].r->name, b->job[i].r->version, b->job[i].key,
		       access(b->job[i].pkg, F_OK) == 0 ? "cached" : "to-build", b->job[i].pkg);
}


/* `imgbuild verify`: the release taken apart under OUT/verify/, and what its rebuild takes from it. */
struct release {
	char *top, *dir;            /* OUT/verify, OUT/verify/release (builder/verify.h) */
	char **view;                /* each file's parts */
	enum verify_kind *kind;
	char *product, *version, *build_id;
	struct strv notes;
	struct signer *signer;      /* replays the release's CMS signatures */
};

/* "key = value" of the release's MANIFEST, or NULL. */
static char *manifest_field(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, n) == 0 && strncmp(l + n, " = ", 3) == 0)
			return xstrndup(l + n + 3, strcspn(l + n + 3, "\n"));
	return NULL;
}

/* The release's identity (MANIFEST) and keyring (keys/): what the rebuild must be given. */
static int release_inputs(struct release *rel, const struct profile *p, struct image_opts *io, struct diag *d)
{
	char *mpath = xasprintf("%s/tree/MANIFEST", rel->dir), *kpath = xasprintf("%s/tree/keys/trusted.pem", rel->dir);
	char *rpath = xasprintf("%s/tree/keys/revoked", rel->dir), *m = NULL, *epoch = NULL, *rev = NULL, *save = NULL;
	int r = 0;

	if (util_read_file(mpath, &m, NULL) < 0 || !(epoch = manifest_field(m, "source-date-epoch")) ||
	    !(rel->version = manifest_field(m, "version")) || !(rel->product = manifest_field(m, "product")))
		r = diag_set(d, mpath, 0, "the release has no MANIFEST with its version and SOURCE_DATE_EPOCH; give its .iso, "
			     ".img or .bundle as published");
	if (r == 0 && strcmp(rel->product, p->name) != 0)
		r = diag_set(d, p->path, 0, "the release is of product '%s', this profile makes '%s'; give the release's "
			     "profile", rel->product, p->name);
	if (r == 0 && (util_read_file(kpath, &io->trusted, NULL) < 0 || util_read_file(rpath, &rev, NULL) < 0))
		r = diag_set(d, kpath, 0, "the release carries no keyring (keys/trusted.pem, keys/revoked); it cannot be rebuilt");
	for (char *l = rev ? strtok_r(rev, "\n", &save) : NULL; l && r == 0; l = strtok_r(NULL, "\n", &save))
		strv_push(&io->revoked, l);
	if (r == 0) {
		rel->build_id = manifest_field(m, "build-id");
		io->epoch = strtoll(epoch, NULL, 10);
		io->version = rel->version;
		setenv("SOURCE_DATE_EPOCH", epoch, 1);
	}
	free(mpath), free(kpath), free(rpath), free(m), free(epoch), free(rev);
	return r;
}

/* The release's CMS signatures (MANIFEST.sig, bundle.manifest.sig), for the replaying signer. */
static void release_signer(struct release *rel)
{
	const char *names[] = {"tree/MANIFEST.sig", "bundle/bundle.manifest.sig"};
	struct buf sigs[2] = {{0}};
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *path = xasprintf("%s/%s", rel->dir, names[i]), *data = NULL;
		size_t len = 0;
		if (util_read_file(path, &data, &len) == 0)
			buf_add(&sigs[n++], data, len);
		free(path), free(data);
	}
	rel->signer = signing_signer_replay(sigs, n);
	for (size_t i = 0; i < n; i++)
		buf_free(&sigs[i]);
}

static int release_open(const struct opts *o, const struct profile *p, struct release *rel, struct image_opts *io,
			struct diag *d)
{
	int r = 0;

	rel->top = xasprintf("%s/verify", o->out);
	rel->dir = xasprintf("%s/release", rel->top);
	rel->view = xcalloc((size_t)o->nreleases, sizeof(*rel->view));
	rel->kind = xcalloc((size_t)o->nreleases, sizeof(*rel->kind));
	util_rm_rf(rel->top);
	util_mkdir_p(rel->dir, 0755);
	for (int i = 0; i < o->nreleases && r == 0; i++) {
		rel->view[i] = xasprintf("%s/view-%d", rel->top, i);
		if (verify_kind(o->releases[i], &rel->kind[i]) < 0)
			r = diag_set(d, o->releases[i], 0, "not a release file; give the release's .iso, .img or .bundle");
		if (r == 0)
			r = verify_extract(o->releases[i], rel->kind[i], rel->view[i], d);
		if (r == 0)
			r = verify_gather(rel->view[i], rel->kind[i], rel->dir, d);
	}
	/* Every MANIFEST lists the ISO's efi.img, whose signed EFI GRUB only the ISO holds, and the
	 * ISO carries the public keys: without it nothing can be rebuilt. */
	for (int i = 0; r == 0 && i <= o->nreleases; i++)
		if (i == o->nreleases)
			r = diag_set(d, o->releases[0], 0, "a disk image or bundle is verified together with its release's "
				     "ISO, which holds the public keys and the signed EFI GRUB every MANIFEST lists; give it "
				     "too: imgbuild verify %s-VERSION.iso %s", p->name, o->releases[0]);
		else if (rel->kind[i] == VERIFY_ISO)
			break;
	if (r == 0)
		r = release_inputs(rel, p, io, d);
	if (r == 0) {
		release_signer(rel);
		io->out = xasprintf("%s/build", rel->top);
		io->release = rel->dir;
		io->notes = &rel->notes;
		io->signer = rel->signer;
	}
	return r;
}

static void release_close(const struct opts *o, struct release *rel)
{
	for (int i = 0; rel->view && i < o->nreleases; i++)
		free(rel->view[i]);
	free(rel->top), free(rel->dir), free(rel->view), free(rel->kind);
	free(rel->product), free(rel->version), free(rel->build_id);
	strv_free(&rel->notes);
	signing_signer_free(rel->signer);
}

/* Compare each release file with its rebuild; print the verdicts. 0 when all are identical. */
static int release_compare(const struct opts *o, const struct profile *p, struct release *rel, const struct image_opts *io,
			   struct diag *d)
{
	int differ = 0, r = 0;

	for (int i = 0; i < o->nreleases && r >= 0; i++) {
		char *rebuilt = xasprintf("%s/%s-%s.%s", io->out, p->name, rel->version, verify_ext(rel->kind[i]));
		char *bview = xasprintf("%s/rebuilt-%d", rel->top, i);
		struct verify_diff v;
		r = verify_compare(o->releases[i], rel->view[i], rebuilt, bview, rel->kind[i], &v, d);
		if (r == 0)
			printf("%s: identical (%s %s, build %s, rebuilt from this checkout)\n", o->releases[i], p->name,
			       rel->version, rel->build_id ? rel->build_id : "?");
		else if (r > 0)
			fprintf(stderr, "imgbuild: %s: %s %s%s; it is not what this checkout builds: check out the release's "
				"commit, or the file was altered\n", o->releases[i], v.part, v.how,
				v.more ? " (other parts differ too)" : "");
		differ |= r > 0;
		verify_diff_free(&v);
		free(rebuilt), free(bview);
	}
	if (signing_signer_misses(rel->signer))
		strv_push(&rel->notes, "no signature of the release (MANIFEST.sig, bundle.manifest.sig) signs the rebuilt "
			  "manifest: the rebuild's MANIFEST or bundle.manifest differs");
	for (size_t i = 0; differ && i < rel->notes.n; i++)
		fprintf(stderr, "imgbuild: note: %s\n", rel->notes.v[i]);
	if (r < 0)
		return r;
	return differ ? -EILSEQ : 0; /* said above */
}

static int run_command(const struct opts *o, struct graph *g, struct profile *p, struct diag *d)
{
	struct drawer dr = {.tty = isatty(2)};
	struct progress building = {draw_build_step, draw_build_note, &dr}, notes = {NULL, draw_note, &dr};
	struct build b = {.out = o->out, .store = o->store, .jobs = o->jobs, .progress = &building};
	struct image_opts io = {.out = o->out, .version = o->version, .progress = &notes};
	size_t n;
	struct recipe **order = order_for(g, p, &n, d);
	int err = order ? 0 : -EINVAL, verify = strcmp(o->command, "verify") == 0;
	struct release rel = {0};

	if (err == 0 && strcmp(o->command, "lint") == 0) {
		printf("%zu recipes and %s are valid\n", g->n, p->path);
		free(order);
		return 0;
	}
	/* Before any package is built: an image needs a bootloader (the other commands do not). */
	if (err == 0 && (verify || strcmp(o->command, "build") == 0))
		err = profile_check_bootable(p, d);
	/* Verifying: the release first, which says the version and SOURCE_DATE_EPOCH to build. */
	if (err == 0 && verify)
		err = release_open(o, p, &rel, &io, d);
	if (err == 0)
		err = build_prepare(&b, order, n, d);
	if (err == 0 && strcmp(o->command, "list") == 0)
		list(&b);
	else if (err == 0 && (err = build_run(&b, d)) < 0)
		show_failed_log(&dr, &b);
	else if (err == 0 && strcmp(o->command, "build") == 0) {
		struct signer *s = NULL;
		io.epoch = source_date_epoch();
		if ((err = load_signing(o, &io, &s, d)) == 0)
			err = image_build(&io, p, &b, d);
		signing_signer_free(s);
		free(io.trusted);
		strv_free(&io.revoked);
	} else if (err == 0 && verify) {
		if ((err = image_build(&io, p, &b, d)) == 0)
			err = release_compare(o, p, &rel, &io, d);
		free((char *)io.out);
		free(io.trusted);
		strv_free(&io.revoked);
	}
	if (verify)
		release_close(o, &rel);
	build_free(&b);
	free(order);
	return err;
}

/* `imgbuild write IMAGE TARGET`. */
static int cmd_write(const struct opts *o)
{
	struct util_reporter rep;
	struct progress p = util_reporter_init(&rep, "imgbuild", stderr, isatty(2));
	struct write_opts w = {.image = o->profile, .target = o->target, .force = o->force, .progress = &p};
	struct write_result res;
	struct diag d = {{0}, 0};

	if (!o->target || strcmp(o->profile, DEFAULT_PROFILE) == 0)
		fprintf(stderr, "imgbuild: write needs IMAGE and TARGET; try 'imgbuild --help'\n"), exit(2);
	if (write_image(&w, &res, &d) < 0) {
		diag_print("imgbuild", &d);
		return 1;
	}
	progress_note(&p, "wrote %s to %s: %.1f MiB of data in %zu extents (of %.1f MiB), flushed and verified", w.image,
		      w.target, res.data_bytes / 1048576.0, res.extents, res.image_bytes / 1048576.0);
	return 0;
}

/* The hash cache only saves time: failing to save it is said, and not an error. */
static void close_cache(const char *path)
{
	struct diag d = {{0}, 0};
	int r = hash_cache_close();

	if (r < 0) {
		diag_set_errno(&d, -r, path, 0, "cannot save the hash cache; ignoring it");
		diag_print("imgbuild", &d);
	}
}

int main(int argc, char **argv)
{
	struct opts o = {.out = "out", .command = "build", .profile = DEFAULT_PROFILE};
	struct graph g = {0};
	struct profile *p = NULL;
	struct diag d = {{0}, 0};
	int err;

	util_progname = "imgbuild";
	o.jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
	parse_args(argc, argv, &o);
	if (strcmp(o.command, "write") == 0)
		return cmd_write(&o);
	if (strcmp(o.command, "build") && strcmp(o.command, "packages") && strcmp(o.command, "list") &&
	    strcmp(o.command, "lint") && strcmp(o.command, "verify"))
		fprintf(stderr, "imgbuild: unknown command '%s'; try 'imgbuild --help'\n", o.command), exit(2);
	/* A recipe's own make must not join the outer make's job server. */
	unsetenv("MAKEFLAGS"), unsetenv("MFLAGS"), unsetenv("MAKELEVEL");
	if (!o.version)
		o.version = read_version();
	if (!o.store)
		o.store = default_store(o.out);
	util_mkdir_p(o.out, 0755);
	char *cache = xasprintf("%s/hash-cache", o.out);
	hash_cache_open(cache);
	err = graph_load(&g, "recipes", ".", &d);
	if (err == 0)
		err = profile_load(o.profile, &p, &d);
	if (err == 0)
		err = run_command(&o, &g, p, &d);
	close_cache(cache);
	free(cache);
	if (err < 0 && d.msg[0])
		diag_print("imgbuild", &d);
	profile_free(p);
	graph_free(&g);
	free(o.version);
	free(o.store);
	return err < 0 ? 1 : 0;
}
