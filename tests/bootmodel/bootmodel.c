/*
 * bootmodel: the A/B boot model (bootbank/bank.c) against the real GRUB script.
 *
 *   bootmodel list              every case, with what the model predicts
 *   bootmodel table             the model as a markdown table (the one in docs/ab-boot.md)
 *   bootmodel run DIR [-j N]    run every case in grub-emu (DIR made by setup.sh) and print TAP:
 *                               one line per category; the differing cases as comments, all of
 *                               them in DIR/mismatches.txt
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "run.h"

static const char usage[] = "usage: bootmodel list | table | run DIR [-j JOBS]\n";

static const char *bank_word(int b)
{
	return b == 0 ? "A" : b == 1 ? "B" : "none";
}

static int cmd_list(const struct bm_case *cases, size_t n)
{
	char d[512], ea[96], eb[96];
	struct bm_outcome o;

	for (size_t i = 0; i < n; i++) {
		bm_predict(&cases[i], &o);
		bm_case_describe(&cases[i], d, sizeof(d));
		bm_env_describe(o.env[0], ea, sizeof(ea));
		bm_env_describe(o.env[1], eb, sizeof(eb));
		printf("%s -> boots %s; envA [%s]; envB [%s]\n", d, bank_word(o.boot), ea, eb);
	}
	return 0;
}

/* ---- the table ------------------------------------------------------------------------------ */

/* What changed in bank i between two states, e.g. "B: tries 3→2", or "" when nothing did. */
static void bank_change(int i, const struct bank *from, const struct bank *to, char *out, size_t size)
{
	out[0] = '\0';
	if (from->state != to->state)
		snprintf(out, size, "%c: %s→%s", bank_letter(i), bank_state_name(from->state), bank_state_name(to->state));
	else if (from->tries != to->tries)
		snprintf(out, size, "%c: tries %u→%u", bank_letter(i), from->tries, to->tries);
}

/* The boot and the write of one situation, as two table cells. */
static void cells(struct bank a, enum bm_files fa, struct bank b, enum bm_files fb, char *boot, char *write, size_t size)
{
	struct bm_case c = {.category = "table", .files = {fa, fb}};
	struct bank_env before = {.seq = 1, .bank = {a, b}}, stale = {0}, after;
	struct bank_choice ch;
	struct bm_outcome o;
	bool present[2] = {fa != BM_FILES_MISSING && fa != BM_FILES_BAD_CFG, fb != BM_FILES_MISSING && fb != BM_FILES_BAD_CFG};
	char x[64], y[64];

	bank_env_format(&before, c.env[0]);
	bank_env_format(&stale, c.env[1]);
	bm_predict(&c, &o);
	bank_choose(&before, present, &ch);
	snprintf(boot, size, "%s%s%s", bank_word(o.boot), o.boot != ch.boot ? " (" : "",
		 o.boot != ch.boot ? (o.boot < 0 ? "nothing loads)" : "fallback)") : "");
	if (o.boot == ch.boot && ch.last_resort)
		snprintf(boot, size, "%s (last resort)", bank_word(o.boot));
	if (memcmp(o.env[1], c.env[1], BANK_ENV_SIZE) == 0 || bank_env_parse(o.env[1], BANK_ENV_SIZE, &after) < 0) {
		snprintf(write, size, "—");
		return;
	}
	bank_change(0, &a, &after.bank[0], x, sizeof(x));
	bank_change(1, &b, &after.bank[1], y, sizeof(y));
	snprintf(write, size, "%s%s%s", x, x[0] && y[0] ? ", " : "", y);
}

static int cmd_table(void)
{
	static const struct bank rows[] = {
		{BANK_EMPTY, 0, 2}, {BANK_GOOD, 0, 2}, {BANK_TRIAL, 3, 2}, {BANK_TRIAL, 2, 2},
		{BANK_TRIAL, 1, 2}, {BANK_TRIAL, 0, 2}, {BANK_BAD, 0, 2},
	};
	static const enum bm_files files[] = {BM_FILES_OK, BM_FILES_MISSING, BM_FILES_BAD_CFG, BM_FILES_BAD_KERNEL};
	static const struct bank a_good = {BANK_GOOD, 0, 1}, a_bad = {BANK_BAD, 0, 1};
	char b1[160], w1[160], b2[160], w2[160], tries[8];

	printf("| B's state | B's tries | B's files | A good: boots | A good: writes | A bad: boots | A bad: writes |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
		for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
			cells(a_good, BM_FILES_OK, rows[r], files[f], b1, w1, sizeof(b1));
			cells(a_bad, BM_FILES_OK, rows[r], files[f], b2, w2, sizeof(b2));
			snprintf(tries, sizeof(tries), "%u", rows[r].tries);
			printf("| %s | %s | %s | %s | %s | %s | %s |\n", bank_state_name(rows[r].state),
			       rows[r].state == BANK_TRIAL ? tries : "–", bm_files_name(files[f]), b1, w1, b2, w2);
		}
	return 0;
}

/* ---- run ------------------------------------------------------------------------------------ */

struct tally {
	const char *category;
	unsigned cases, failed, shown, second; /* second: agreed only on a second run */
};

static struct tally *tally_of(struct tally *t, const char *category)
{
	while (t->category && strcmp(t->category, category) != 0)
		t++;
	return t;
}

/* Read the workers' result files; count per category; print and keep the differing cases. */
static int read_results(const char *dir, int jobs, const struct bm_case *cases, size_t n, struct tally *t, FILE *mis)
{
	char path[4096], line[8192], d[512];
	size_t seen = 0;

	for (int k = 0; k < jobs; k++) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/results.%d", dir, k);
		if (!(f = fopen(path, "r")))
			return -1;
		while (fgets(line, sizeof(line), f)) {
			unsigned id;
			int r, off = 0;
			if (sscanf(line, "%u %d%n", &id, &r, &off) < 2 || id == 0 || id > n)
				continue;
			struct tally *x = tally_of(t, cases[id - 1].category);
			x->cases++;
			seen++;
			if (r == 0 && strstr(line + off, "agreed on a second run")) {
				x->second++;
				printf("# %.*s: %s", 12, cases[id - 1].category, line + off);
			}
			if (r == 0)
				continue;
			x->failed++;
			bm_case_describe(&cases[id - 1], d, sizeof(d));
			fprintf(mis, "%s:%s", d, line + off);
			if (x->shown++ < 10)
				printf("# %s:%s", d, line + off);
		}
		fclose(f);
	}
	return seen == n ? 0 : -1;
}

static int cmd_run(const char *dir, int jobs, const struct bm_case *cases, size_t n)
{
	struct tally t[4] = {{"choice", 0, 0, 0, 0}, {"signatures", 0, 0, 0, 0}, {"copies", 0, 0, 0, 0}, {NULL, 0, 0, 0, 0}};
	char err[8192], path[4096];
	time_t start = time(NULL);
	int failed = 0;
	FILE *mis;

	if (bm_run(dir, cases, n, jobs, err, sizeof(err)) < 0) {
		fprintf(stderr, "bootmodel: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/mismatches.txt", dir);
	if (!(mis = fopen(path, "w")) || read_results(dir, jobs, cases, n, t, mis) < 0) {
		fprintf(stderr, "bootmodel: %s/results.0:1: a worker's results are missing or short; run again\n", dir);
		return 1;
	}
	fclose(mis);
	for (int i = 0; i < 3; i++) {
		printf("%sok %d - %s: %u cases, GRUB boots and writes what bootbank/bank.c predicts%s\n",
		       t[i].failed ? "not " : "", i + 1, t[i].category, t[i].cases, t[i].failed ? "" : "");
		if (t[i].failed)
			printf("#   %u of them differ (all in %s)\n", t[i].failed, path);
		if (t[i].second)
			printf("#   %u agreed only when run a second time (grub-emu's run, not the model)\n", t[i].second);
		failed |= t[i].failed != 0;
	}
	printf("# %zu cases in %ld s with %d jobs\n1..3\n", n, (long)(time(NULL) - start), jobs);
	return failed;
}

int main(int argc, char **argv)
{
	struct bm_case *cases = NULL;
	size_t n = bm_cases(&cases);
	int r = 2, jobs = 1;

	if (n == 0) {
		fprintf(stderr, "bootmodel: out of memory\n");
		return 1;
	}
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		r = cmd_list(cases, n);
	else if (argc == 2 && strcmp(argv[1], "table") == 0)
		r = cmd_table();
	else if ((argc == 3 || (argc == 5 && strcmp(argv[3], "-j") == 0 && (jobs = atoi(argv[4])) > 0 && jobs <= 64)) &&
		 strcmp(argv[1], "run") == 0)
		r = cmd_run(argv[2], jobs, cases, n);
	else
		fputs(usage, stderr);
	free(cases);
	return r;
}
