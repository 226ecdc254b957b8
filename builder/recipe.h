/* Recipes: one declarative file per component, recipes/<name>/<name>.recipe (docs/recipes.md). */
#ifndef RECIPE_H
#define RECIPE_H

#include <stddef.h>

#include "kv.h"
#include "util.h"

enum source_kind {
	SOURCE_FILE, /* file:PATH, a file or folder of this repository */
	SOURCE_DEB,  /* deb:NAME=VERSION, a Debian package fetched with apt */
	SOURCE_TAR,  /* tar:PATH-OR-URL sha256=HEX, a tarball checked against its hash */
};

struct source {
	enum source_kind kind;
	char *ref;     /* path (resolved against the recipe folder or the repository), URL, or package name */
	char *version; /* SOURCE_DEB only */
	char *sha256;  /* SOURCE_TAR: the declared hash; NULL otherwise */
	char *place;   /* where it goes under $SRC: file://PATH keeps PATH (so that the project's own
			* Makefile finds its folders there), other sources their base name */
	int line;
};

struct install {
	char *from; /* relative to the work dir */
	char *to;   /* absolute path in the image */
	int mode;   /* -1 keeps the file's mode */
	int line;
};

struct step {
	char *cmd;
	int line;
};

struct recipe {
	char *name; /* the folder name */
	char *path; /* the recipe file, as given */
	char *text; /* the whole file, hashed into the package key */
	size_t text_len;
	char *version, *description, *license;
	struct source *sources;
	size_t nsources;
	struct strv deps;
	int *dep_lines;
	struct step *steps;
	size_t nsteps;
	struct install *installs;
	size_t ninstalls;
	/* A driver family (named by a profile's 'drivers'): its kernel modules and the firmware
	 * files they load, which the builder takes from the kernel package and from this one. */
	struct strv modules, firmware;
	int *module_lines, *firmware_lines;
};

/*
 * Parse a recipe from text[0..len). path names it in messages and gives the recipe its name
 * (the folder holding it); repo_root resolves "//" file sources. On success *ret is owned by the
 * caller (recipe_free()); on failure returns -EINVAL and fills d.
 */
int recipe_parse(const char *path, const char *repo_root, const char *text, size_t len,
		 struct recipe **ret, struct diag *d);
/* Read and parse a recipe file. */
int recipe_load(const char *path, const char *repo_root, struct recipe **ret, struct diag *d);
/* Free a recipe; accepts NULL. */
void recipe_free(struct recipe *r);
/* The recipe name a path implies: the name of the folder that holds it. Owned by the caller. */
char *recipe_name_from_path(const char *path);

#endif
