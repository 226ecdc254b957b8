/*
 * The case space and the predictions: see model.h. The case space, and why it is cut where it
 * is, is described in docs/ab-boot.md ("The model, tested against GRUB").
 */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char signature[] = "# GRUB Environment Block\n";

static const char *const files_names[] = {"ok", "kernel missing", "bad boot.cfg sig", "bad kernel sig",
					  "bad initrd sig"};

const char *bm_files_name(enum bm_files f)
{
	return (unsigned)f < BM_FILES_KINDS ? files_names[f] : "?";
}

/* ---- building blocks ------------------------------------------------------------------------ */

static struct bank_env env2(struct bank a, struct bank b, unsigned seq)
{
	return (struct bank_env){.seq = seq, .bank = {a, b}};
}

static void put_valid(struct bm_case *c, int slot, struct bank_env e)
{
	bank_env_format(&e, c->env[slot]);
	snprintf(c->env_desc[slot], sizeof(c->env_desc[slot]), "valid seq=%u", e.seq);
}

/* The current state in copy cur with seq, and an older, different state in the other copy with
 * the seq before it: so that GRUB reading the wrong copy shows in what it boots or writes. */
static void put_pair(struct bm_case *c, int cur, unsigned seq, struct bank_env cur_env)
{
	struct bank stale = {BANK_EMPTY, 0, 0};

	cur_env.seq = seq;
	put_valid(c, cur, cur_env);
	put_valid(c, !cur, env2(stale, stale, (seq + 2) % 3));
}

/* The six ways the current state can sit in the copies: envA or envB current, seq 0, 1 or 2
 * (so 2 -> 0 wraps), taken in turn by consecutive cases. */
static void put_arranged(struct bm_case *c, unsigned n, struct bank_env e)
{
	put_pair(c, (int)(n % 2), (n / 2) % 3, e);
}

static struct bm_case *next_case(struct bm_case *all, size_t *n, const char *category)
{
	struct bm_case *c = &all[*n];

	memset(c, 0, sizeof(*c));
	c->id = (unsigned)++*n;
	c->category = category;
	return c;
}

/* ---- category "choice": states x tries x generations x files present or missing ---------- */

static const struct bank choice_states[] = {
	{BANK_EMPTY, 0, 0}, {BANK_EMPTY, 3, 0}, {BANK_GOOD, 0, 0}, {BANK_GOOD, 3, 0}, {BANK_BAD, 0, 0},
	{BANK_BAD, 3, 0},   {BANK_TRIAL, 0, 0}, {BANK_TRIAL, 1, 0}, {BANK_TRIAL, 2, 0}, {BANK_TRIAL, 3, 0},
};
#define N_CHOICE_STATES (sizeof(choice_states) / sizeof(choice_states[0]))

/* Equal, A newer, B newer (10 against 9: numbers, not strings), and at the top of the range. */
static const unsigned long gens[][2] = {{3, 3}, {10, 9}, {9, 10}, {999999998, BANK_GEN_MAX}};
#define N_GENS (sizeof(gens) / sizeof(gens[0]))

static size_t add_choice(struct bm_case *all, size_t n)
{
	static const enum bm_files fk[] = {BM_FILES_OK, BM_FILES_MISSING};

	for (size_t a = 0; a < N_CHOICE_STATES; a++)
		for (size_t b = 0; b < N_CHOICE_STATES; b++)
			for (size_t g = 0; g < N_GENS; g++)
				for (int f = 0; f < 4; f++) {
					struct bm_case *c = next_case(all, &n, "choice");
					struct bank ba = choice_states[a], bb = choice_states[b];
					ba.gen = gens[g][0];
					bb.gen = gens[g][1];
					put_arranged(c, (unsigned)n, env2(ba, bb, 0));
					c->files[0] = fk[f / 2];
					c->files[1] = fk[f % 2];
				}
	return n;
}

/* ---- category "signatures": every files kind on both banks, for the states that matter ---- */

static const struct bank sig_states[] = {
	{BANK_EMPTY, 0, 0}, {BANK_GOOD, 0, 0}, {BANK_TRIAL, 2, 0}, {BANK_TRIAL, 0, 0}, {BANK_BAD, 0, 0},
};
#define N_SIG_STATES (sizeof(sig_states) / sizeof(sig_states[0]))

static size_t add_signatures(struct bm_case *all, size_t n)
{
	for (size_t a = 0; a < N_SIG_STATES; a++)
		for (size_t b = 0; b < N_SIG_STATES; b++)
			for (int fa = 0; fa < BM_FILES_KINDS; fa++)
				for (int fb = 0; fb < BM_FILES_KINDS; fb++) {
					struct bm_case *c = next_case(all, &n, "signatures");
					struct bank ba = sig_states[a], bb = sig_states[b];
					ba.gen = 9;
					bb.gen = 10;
					put_arranged(c, (unsigned)n, env2(ba, bb, 0));
					c->files[0] = (enum bm_files)fa;
					c->files[1] = (enum bm_files)fb;
				}
	return n;
}

/* ---- category "copies": each copy valid (any seq), torn or garbage ------------------------- */

/* Two scenarios, each a state for copy A and a different one for copy B, so that which copy
 * GRUB takes shows: in the first, envA's state boots trial B (a write) and envB's boots good A
 * (no write); in the second, envA's marks trial A bad and envB's takes one of A's tries. */
static const struct bank scenarios[2][2][2] = {
	{{{BANK_GOOD, 0, 1}, {BANK_TRIAL, 3, 2}}, {{BANK_GOOD, 0, 3}, {BANK_TRIAL, 1, 2}}},
	{{{BANK_TRIAL, 0, 2}, {BANK_GOOD, 0, 1}}, {{BANK_TRIAL, 2, 2}, {BANK_GOOD, 0, 1}}},
};

enum copy_variant {
	CV_SEQ0, CV_SEQ1, CV_SEQ2,                   /* valid, with this seq */
	CV_TORN28, CV_TORN45, CV_TORN70, CV_TORN512, /* a write of the other state cut after N bytes */
	CV_ZERO_TAIL,                                /* valid text, second sector reads as zeros */
	CV_ZEROS, CV_RANDOM, CV_JUNK_TEXT, CV_LEADING_ZERO,
	CV_KINDS
};

static void put_text(struct bm_case *c, int slot, const char *text, const char *desc)
{
	size_t n = strlen(text);

	memcpy(c->env[slot], text, n);
	memset(c->env[slot] + n, '#', BANK_ENV_SIZE - n);
	snprintf(c->env_desc[slot], sizeof(c->env_desc[slot]), "%s", desc);
}

static void put_random(struct bm_case *c, int slot, unsigned seed)
{
	unsigned x = seed * 2654435761u + 1;

	for (size_t i = 0; i < BANK_ENV_SIZE; i++) {
		x = x * 1103515245u + 12345u;
		c->env[slot][i] = (char)(x >> 16);
	}
	snprintf(c->env_desc[slot], sizeof(c->env_desc[slot]), "random bytes");
}

static void put_torn(struct bm_case *c, int slot, struct bank_env old, struct bank_env new, size_t cut)
{
	char n[BANK_ENV_SIZE];

	old.seq = 1;
	new.seq = 2;
	bank_env_format(&old, c->env[slot]);
	bank_env_format(&new, n);
	memcpy(c->env[slot], n, cut);
	snprintf(c->env_desc[slot], sizeof(c->env_desc[slot]), "torn at %zu", cut);
}

static void put_variant(struct bm_case *c, int slot, enum copy_variant v, const struct bank s[2][2])
{
	struct bank_env mine = env2(s[slot][0], s[slot][1], 1), other = env2(s[!slot][0], s[!slot][1], 2);
	static const size_t cuts[] = {28, 45, 70, 512};
	char text[BANK_ENV_SIZE];

	switch (v) {
	case CV_SEQ0: case CV_SEQ1: case CV_SEQ2:
		mine.seq = (unsigned)(v - CV_SEQ0);
		put_valid(c, slot, mine);
		return;
	case CV_TORN28: case CV_TORN45: case CV_TORN70: case CV_TORN512:
		put_torn(c, slot, mine, other, cuts[v - CV_TORN28]);
		return;
	case CV_ZERO_TAIL:
		put_valid(c, slot, mine);
		memset(c->env[slot] + 512, 0, BANK_ENV_SIZE - 512);
		snprintf(c->env_desc[slot], sizeof(c->env_desc[slot]), "seq=1, 2nd sector zeros");
		return;
	case CV_ZEROS:
		memset(c->env[slot], 0, BANK_ENV_SIZE);
		snprintf(c->env_desc[slot], sizeof(c->env_desc[slot]), "zeros");
		return;
	case CV_RANDOM:
		put_random(c, slot, c->id);
		return;
	case CV_JUNK_TEXT:
		snprintf(text, sizeof(text), "%sthis is not a boot state\n", signature);
		put_text(c, slot, text, "signature, then junk text");
		return;
	case CV_LEADING_ZERO:
		snprintf(text, sizeof(text), "%sseq=1\nA_state=%s\nA_tries=%u\nA_gen=0%lu\nB_state=%s\nB_tries=%u\n"
			 "B_gen=%lu\nseqend=1\n", signature, bank_state_name(mine.bank[0].state), mine.bank[0].tries,
			 mine.bank[0].gen, bank_state_name(mine.bank[1].state), mine.bank[1].tries, mine.bank[1].gen);
		put_text(c, slot, text, "seq=1, A_gen with a leading 0");
		return;
	case CV_KINDS:
		break;
	}
}

static size_t add_copies(struct bm_case *all, size_t n)
{
	for (int s = 0; s < 2; s++)
		for (int va = 0; va < CV_KINDS; va++)
			for (int vb = 0; vb < CV_KINDS; vb++) {
				struct bm_case *c = next_case(all, &n, "copies");
				put_variant(c, 0, (enum copy_variant)va, scenarios[s]);
				put_variant(c, 1, (enum copy_variant)vb, scenarios[s]);
			}
	return n;
}

size_t bm_cases(struct bm_case **ret)
{
	size_t max = N_CHOICE_STATES * N_CHOICE_STATES * N_GENS * 4 +
		     N_SIG_STATES * N_SIG_STATES * BM_FILES_KINDS * BM_FILES_KINDS + 2 * CV_KINDS * CV_KINDS;
	struct bm_case *all = calloc(max, sizeof(*all));
	size_t n = 0;

	if (!all)
		return 0;
	n = add_choice(all, n);
	n = add_signatures(all, n);
	n = add_copies(all, n);
	*ret = all;
	return n;
}

/* ---- the prediction ------------------------------------------------------------------------- */

/* grub_envblk_set() on one variable of text (len bytes of text, then '#' padding up to
 * BANK_ENV_SIZE): the value of the first line "name=..." replaced, or "name=value" appended. */
static bool envblk_set(char *text, size_t *len, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), p = sizeof(signature) - 1;
	char line[64];

	while (p < *len && !(strncmp(text + p, name, nl) == 0 && text[p + nl] == '='))
		p += strcspn(text + p, "\n") + 1;
	if (p < *len) {
		size_t old = strcspn(text + p + nl + 1, "\n"), rest = p + nl + 1 + old;
		if (*len - old + vl > BANK_ENV_SIZE)
			return false;
		memmove(text + p + nl + 1 + vl, text + rest, *len - rest);
		memcpy(text + p + nl + 1, value, vl);
		*len = *len - old + vl;
		return true;
	}
	snprintf(line, sizeof(line), "%s=%s\n", name, value);
	if (*len + strlen(line) > BANK_ENV_SIZE)
		return false;
	memcpy(text + *len, line, strlen(line));
	*len += strlen(line);
	return true;
}

/*
 * GRUB's save_env of the boot state into block: it edits the copy in place, variable by
 * variable, and refuses a copy without GRUB's signature or whose text before the '#' padding
 * does not end in a newline (e.g. one ending in zeros). Returns false when it refuses.
 */
static bool grub_save_env(char block[BANK_ENV_SIZE], const struct bank_env *e)
{
	char text[BANK_ENV_SIZE + 1], v[8][24];
	static const char *const names[8] = {"seq", "A_state", "A_tries", "A_gen", "B_state", "B_tries", "B_gen", "seqend"};
	size_t len = BANK_ENV_SIZE;

	if (memcmp(block, signature, sizeof(signature) - 1) != 0)
		return false;
	while (len > 0 && block[len - 1] == '#')
		len--;
	if (len == 0 || block[len - 1] != '\n')
		return false;
	memcpy(text, block, BANK_ENV_SIZE);
	text[BANK_ENV_SIZE] = '\0';
	snprintf(v[0], sizeof(v[0]), "%u", e->seq);
	snprintf(v[7], sizeof(v[7]), "%u", e->seq);
	for (int i = 0; i < 2; i++) {
		snprintf(v[1 + 3 * i], sizeof(v[0]), "%s", bank_state_name(e->bank[i].state));
		snprintf(v[2 + 3 * i], sizeof(v[0]), "%u", e->bank[i].tries);
		snprintf(v[3 + 3 * i], sizeof(v[0]), "%lu", e->bank[i].gen);
	}
	for (int i = 0; i < 8; i++)
		if (!envblk_set(text, &len, names[i], v[i]))
			return false;
	memset(text + len, '#', BANK_ENV_SIZE - len);
	memcpy(block, text, BANK_ENV_SIZE);
	return true;
}

/* GRUB's env_commit: save, then read the copy back; it counts only if it reads back as e. */
static bool grub_commit(char block[BANK_ENV_SIZE], const struct bank_env *e)
{
	struct bank_env back;

	if (!grub_save_env(block, e) || bank_env_parse(block, BANK_ENV_SIZE, &back) < 0 || back.seq != e->seq)
		return false;
	for (int i = 0; i < 2; i++)
		if (back.bank[i].state != e->bank[i].state || back.bank[i].tries != e->bank[i].tries ||
		    back.bank[i].gen != e->bank[i].gen)
			return false;
	return true;
}

/* The state GRUB reads: the current copy (bank_env_pick), or with none valid, no state (all
 * empty, seq 2: the next write would be seq 0 into envA). Returns the current copy or -1. */
static int read_state(const struct bm_case *c, struct bank_env *env)
{
	struct bank_env e[2];
	bool valid[2];
	int cur;

	for (int i = 0; i < 2; i++)
		valid[i] = bank_env_parse(c->env[i], BANK_ENV_SIZE, &e[i]) == 0;
	cur = bank_env_pick(valid[0] ? &e[0] : NULL, valid[1] ? &e[1] : NULL, env);
	if (cur < 0) {
		memset(env, 0, sizeof(*env));
		env->seq = 2;
	}
	return cur;
}

void bm_predict(const struct bm_case *c, struct bm_outcome *out)
{
	struct bank_env env;
	struct bank_choice ch;
	int cur = read_state(c, &env), sel, alt, target = cur == 0 ? 1 : 0;
	bool present[2], loads[2];

	for (int i = 0; i < 2; i++) {
		present[i] = c->files[i] != BM_FILES_MISSING && c->files[i] != BM_FILES_BAD_CFG;
		loads[i] = c->files[i] == BM_FILES_OK;
	}
	bank_choose(&env, present, &ch);
	memcpy(out->env, c->env, sizeof(out->env));
	sel = ch.boot;
	alt = ch.fallback;
	/* GRUB writes only when it boots something: with no bank it reboots first */
	if (sel >= 0 && (ch.mark_bad >= 0 || ch.take_try)) {
		bank_apply(&env, &ch);
		env.seq = bank_env_next_seq(env.seq);
		if (!grub_commit(out->env[target], &env) && ch.take_try && alt >= 0) {
			/* the try is not on disk: GRUB boots the fallback, so that a trial cannot loop */
			sel = alt;
			alt = ch.boot;
		}
	}
	out->boot = sel < 0 ? -1 : loads[sel] ? sel : alt >= 0 && loads[alt] ? alt : -1;
}

/* ---- descriptions --------------------------------------------------------------------------- */

static void describe_bank(const struct bank *b, char *out, size_t size)
{
	snprintf(out, size, "%s/%u/%lu", bank_state_name(b->state), b->tries, b->gen);
}

void bm_env_describe(const char *block, char *out, size_t size)
{
	struct bank_env e;
	char a[40], b[40];

	if (bank_env_parse(block, BANK_ENV_SIZE, &e) < 0) {
		snprintf(out, size, "not valid (starts \"%.24s\")", block[0] == '#' ? block + 25 : "?");
		for (char *p = out; *p; p++)
			if (*p == '\n' || (unsigned char)*p < ' ')
				*p = '|';
		return;
	}
	describe_bank(&e.bank[0], a, sizeof(a));
	describe_bank(&e.bank[1], b, sizeof(b));
	snprintf(out, size, "seq=%u A=%s B=%s", e.seq, a, b);
}

void bm_case_describe(const struct bm_case *c, char *out, size_t size)
{
	char ea[96], eb[96];

	bm_env_describe(c->env[0], ea, sizeof(ea));
	bm_env_describe(c->env[1], eb, sizeof(eb));
	snprintf(out, size, "case %u (%s): files A: %s, B: %s; envA %s [%s]; envB %s [%s]", c->id, c->category,
		 bm_files_name(c->files[0]), bm_files_name(c->files[1]), c->env_desc[0], ea, c->env_desc[1], eb);
}
