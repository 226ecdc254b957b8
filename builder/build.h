/* Building packages: the build key of each recipe, the package cache, and parallel jobs. */
#ifndef BUILD_H
#define BUILD_H

#include <sys/types.h>

#include "hash.h"
#include "progress.h"
#include "recipe.h"

/* Bump when what goes into a package changes, so that old packages are not reused. */
#define BUILD_FORMAT "imgbuild-pkg/1"

struct job {
	struct recipe *r;           /* borrowed from the graph */
	struct job **deps;          /* the jobs of r->deps, same order */
	char key[HASH_HEX_LEN];     /* hash of everything that goes into the package */
	char **srcs;                /* resolved path of each source, owned */
	char *pkg;                  /* out/pkgs/<name>-<key>.pkg.tar.zst */
	char *dir;                  /* out/build/<name> */
	char *dest;                 /* out/build/<name>/dest: the package's files, unpacked */
	int state;                  /* JOB_* */
	pid_t pid;
	double started;
};

enum { JOB_WAITING, JOB_RUNNING, JOB_DONE };

struct build {
	const char *out;  /* the output folder, e.g. "out" */
	/* The package store: <store>/<name>-<key>.pkg.tar.zst. It may be shared by every checkout
	 * on a machine: packages are written beside and renamed into place, and a package being
	 * built is locked (<package>.lock), so that a second build of the same key waits and takes
	 * it instead of building it again. */
	const char *store;
	int jobs;         /* parallel builds */
	/* What build_run() is doing, for the program to draw (may be NULL): a step in the phase
	 * "building: NAME NAME" (the jobs running now) with done/total packages to build whenever that
	 * changes, and a note "[N/M] built NAME VERSION (S s)" for each package built. */
	const struct progress *progress;
	struct job *job;  /* one per recipe, in dependency order */
	size_t n;
	unsigned built;   /* how many were built in this run (not from the cache) */
	/* After a job failed: its log and the log's last lines (for the program to show above the
	 * error), owned; NULL otherwise. */
	char *failed_log, *failed_tail;
};

/* Set up jobs for recipes in dependency order: fetch and verify sources, compute keys. */
int build_prepare(struct build *b, struct recipe **order, size_t n, struct diag *d);
/* Build every package that is not in the cache, up to b->jobs at once. 0, or -EINVAL with d set
 * (and b->failed_log and b->failed_tail when a job failed). */
int build_run(struct build *b, struct diag *d);
/* The job of a recipe, or NULL. */
struct job *build_find(const struct build *b, const char *name);
/* Make sure the job's package is unpacked in job->dest (after a cache hit). */
int build_stage(struct job *j, struct diag *d);
/* Free the jobs. */
void build_free(struct build *b);

#endif
