#include <string.h>

#include "recipe.h"
#include "tap.h"

static int parse(const char *text, struct recipe **r, struct diag *d)
{
	return recipe_parse("recipes/busybox/busybox.recipe", "/repo", text, strlen(text), r, d);
}

static void test_recipe_parses_every_key_when_valid(void)
{
	struct recipe *r = NULL;
	struct diag d = {{0}, 0};
	int e = parse("# comment\nversion = 1.2\ndescription = x y\nsource = file:a.c\n"
		      "source = file://lib\nsource = deb:busybox-static=1:1.35\n"
		      "source = tar:z.tar.gz sha256=" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
		      "depends = a b\n  depends = c\nbuild = make \\\n  all\nbuild = true\ninstall = bin/x /bin/x 0755\n",
		      &r, &d);

	ok(e == 0, "recipe: a valid recipe parses (%s)", d.msg);
	if (e)
		return;
	ok(strcmp(r->name, "busybox") == 0, "recipe: the name is the folder's");
	ok(strcmp(r->version, "1.2") == 0, "recipe: version read");
	ok(r->nsources == 4, "recipe: four sources");
	ok(strcmp(r->sources[0].ref, "recipes/busybox/a.c") == 0, "recipe: file source relative to the recipe");
	ok(strcmp(r->sources[1].ref, "/repo/lib") == 0, "recipe: // source relative to the repository");
	ok(r->sources[2].kind == SOURCE_DEB && strcmp(r->sources[2].version, "1:1.35") == 0,
	   "recipe: deb source keeps its epoch");
	ok(r->sources[3].kind == SOURCE_TAR && r->sources[3].sha256, "recipe: tar source has its sha256");
	ok(r->deps.n == 3 && r->dep_lines[2] == 9, "recipe: depends across lines, with line numbers");
	ok(r->nsteps == 2 && strstr(r->steps[0].cmd, "all") && r->steps[0].line == 10,
	   "recipe: continued build line joined, numbered by its first line");
	ok(r->ninstalls == 1 && r->installs[0].mode == 0755, "recipe: install with octal mode");
	recipe_free(r);
}

static void expect_error(const char *text, const char *want, const char *what)
{
	struct recipe *r = NULL;
	struct diag d = {{0}, 0};
	int e = parse(text, &r, &d);

	ok(e < 0 && strstr(d.msg, want), "recipe: %s (got: %s)", what, d.msg);
	recipe_free(r);
}

static void test_recipe_rejects_bad_input(void)
{
	expect_error("version = 1\nverison = 2\n",
		     "recipes/busybox/busybox.recipe:2: unknown key 'verison'; did you mean 'version'?",
		     "unknown key names the line and the nearest key");
	expect_error("description = x\n", "busybox.recipe: missing 'version'", "missing version is an error");
	expect_error("version = 1\nversion = 2\n", ":2: 'version' given twice", "duplicate version");
	expect_error("version = 1\nsource = deb:busybox\n", ":2: Debian source 'busybox' needs a pinned version",
		     "deb source without a version");
	expect_error("version = 1\nsource = tar:x.tgz sha256=abc\n", ":2: tarball source needs its hash",
		     "tar source with a short hash");
	expect_error("version = 1\nsource = http://x\n", ":2: unknown source", "unknown source kind");
	expect_error("version = 1\ninstall = /abs /x\n", ":2: install source '/abs' must be relative",
		     "absolute install source");
	expect_error("version = 1\ninstall = a ../x\n", ":2: install target '../x' must be an absolute",
		     "install target escaping the image");
	expect_error("version = 1\ninstall = a /x 999\n", ":2: mode '999' is not octal", "bad mode");
	expect_error("version = 1\ndepends = Foo\n", ":2: 'Foo' is not a recipe name", "bad dependency name");
	expect_error("version = 1\n= x\n", ":2: expected 'key = value'", "line without a key");
	expect_error("version = 1\nbuild\n", ":2: expected '=' after the key", "key without '='");
	expect_error("version = 1\nbuild =\n", ":2: empty build step", "empty build step");
	expect_error("version = 1\nmodules = e1000 kernel/tg3.ko\n", ":2: 'kernel/tg3.ko' is not a module name",
		     "a module given as a path");
	expect_error("version = 1\nfirmware = ../etc/shadow\n", ":2: '../etc/shadow' must be relative to /lib/firmware",
		     "firmware escaping /lib/firmware");
}

static void test_recipe_names_a_driver_familys_modules_and_firmware(void)
{
	struct recipe *r = NULL;
	struct diag d = {{0}, 0};
	int e = parse("version = 1\nmodules = tg3 bnx2\nmodules = bnxt_en\nfirmware = tigon/tg3.bin\n", &r, &d);

	ok(e == 0 && r->modules.n == 3 && strcmp(r->modules.v[2], "bnxt_en") == 0 && r->module_lines[2] == 3 &&
	   r->firmware.n == 1 && strcmp(r->firmware.v[0], "tigon/tg3.bin") == 0,
	   "recipe: a driver family's modules (with their lines) and firmware (%s)", d.msg);
	recipe_free(r);
}

static void test_recipe_rejects_file_named_unlike_its_folder(void)
{
	struct recipe *r = NULL;
	struct diag d = {{0}, 0};
	int e = recipe_parse("recipes/a/b.recipe", ".", "version = 1\n", 12, &r, &d);

	ok(e < 0 && strstr(d.msg, "rename it to a.recipe"), "recipe: file named unlike its folder (%s)", d.msg);
	recipe_free(r);
}

int main(void)
{
	test_recipe_names_a_driver_familys_modules_and_firmware();
	test_recipe_parses_every_key_when_valid();
	test_recipe_rejects_bad_input();
	test_recipe_rejects_file_named_unlike_its_folder();
	return tap_done();
}
