#define _POSIX_C_SOURCE 200809L
#include "bank.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {"empty", "good", "trial", "bad"};
static const char signature[] = "# GRUB Environment Block\n";

const char *bank_state_name(enum bank_state_kind s)
{
	return (unsigned)s < 4 ? state_names[s] : "?";
}

int bank_state_parse(const char *word)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(word, state_names[i]) == 0)
			return i;
	return -1;
}

char bank_letter(int i)
{
	return i == 0 ? 'A' : 'B';
}

int bank_index(const char *name)
{
	if (strcmp(name, "A") == 0 || strcmp(name, "a") == 0)
		return 0;
	if (strcmp(name, "B") == 0 || strcmp(name, "b") == 0)
		return 1;
	return -1;
}

/* Digits only, at most max_digits of them: the patterns GRUB's script accepts. */
static int parse_number(const char *s, size_t max_digits, unsigned long *ret)
{
	size_t n = strspn(s, "0123456789");

	/* No leading zeros: GRUB's test -gt would read "010" as octal. */
	if (n == 0 || n > max_digits || s[n] != '\0' || (s[0] == '0' && n > 1))
		return -EINVAL;
	*ret = strtoul(s, NULL, 10);
	return 0;
}

struct seen {
	bool seq, seqend, state[2], tries[2], gen[2];
	unsigned long seqend_value;
};

static int set_bank_var(struct bank_env *env, struct seen *seen, int i, const char *field, const char *value)
{
	unsigned long v;
	int s;

	if (strcmp(field, "state") == 0) {
		if ((s = bank_state_parse(value)) < 0)
			return -EINVAL;
		env->bank[i].state = (enum bank_state_kind)s;
		seen->state[i] = true;
		return 0;
	}
	if (parse_number(value, strcmp(field, "gen") == 0 ? 9 : 1, &v) < 0)
		return -EINVAL;
	if (strcmp(field, "tries") == 0 && v <= BANK_TRIES) {
		env->bank[i].tries = (unsigned)v;
		seen->tries[i] = true;
	} else if (strcmp(field, "gen") == 0) {
		env->bank[i].gen = v;
		seen->gen[i] = true;
	} else {
		return -EINVAL;
	}
	return 0;
}

/* One "name=value" line. Names other than ours are ignored, as GRUB's whitelist does. */
static int parse_var(struct bank_env *env, struct seen *seen, const char *name, const char *value)
{
	unsigned long v;

	if (strcmp(name, "seq") == 0 || strcmp(name, "seqend") == 0) {
		if (parse_number(value, 1, &v) < 0 || v > 2)
			return -EINVAL;
		if (name[3] == '\0')
			env->seq = (unsigned)v, seen->seq = true;
		else
			seen->seqend_value = v, seen->seqend = true;
		return 0;
	}
	if ((name[0] == 'A' || name[0] == 'B') && name[1] == '_')
		return set_bank_var(env, seen, name[0] - 'A', name + 2, value);
	return 0;
}

static int parse_lines(char *text, struct bank_env *env, struct seen *seen)
{
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(l, '=');
		if (l[0] == '#')
			continue;
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		if (parse_var(env, seen, l, eq + 1) < 0)
			return -EINVAL;
	}
	return 0;
}

int bank_env_parse(const char *block, size_t len, struct bank_env *ret)
{
	struct bank_env env = {0};
	struct seen seen = {0};
	char text[BANK_ENV_SIZE + 1];
	int r;

	/* A NUL ends the text (a copy whose last sector reads as zeros): GRUB reads such a copy too. */
	if (len != BANK_ENV_SIZE || memcmp(block, signature, sizeof(signature) - 1) != 0)
		return -EINVAL;
	memcpy(text, block + sizeof(signature) - 1, len - (sizeof(signature) - 1));
	text[len - (sizeof(signature) - 1)] = '\0';
	r = parse_lines(text, &env, &seen);
	if (r < 0 || !seen.seq || !seen.seqend || seen.seqend_value != env.seq)
		return -EINVAL;
	for (int i = 0; i < 2; i++)
		if (!seen.state[i] || !seen.tries[i] || !seen.gen[i])
			return -EINVAL;
	*ret = env;
	return 0;
}

void bank_env_format(const struct bank_env *env, char out[BANK_ENV_SIZE])
{
	int n = snprintf(out, BANK_ENV_SIZE, "%sseq=%u\n", signature, env->seq);

	for (int i = 0; i < 2; i++)
		n += snprintf(out + n, (size_t)(BANK_ENV_SIZE - n), "%c_state=%s\n%c_tries=%u\n%c_gen=%lu\n",
			      'A' + i, bank_state_name(env->bank[i].state), 'A' + i, env->bank[i].tries, 'A' + i,
			      env->bank[i].gen);
	n += snprintf(out + n, (size_t)(BANK_ENV_SIZE - n), "seqend=%u\n", env->seq);
	memset(out + n, '#', (size_t)(BANK_ENV_SIZE - n));
}

int bank_env_pick(const struct bank_env *c0, const struct bank_env *c1, struct bank_env *ret)
{
	int which;

	if (!c0 && !c1)
		return -ENOENT;
	which = !c0 ? 1 : !c1 ? 0 : (c1->seq == bank_env_next_seq(c0->seq) ? 1 : 0);
	*ret = which ? *c1 : *c0;
	return which;
}

unsigned bank_env_next_seq(unsigned seq)
{
	return (seq + 1) % 3;
}

static bool bootable(const struct bank *b, bool present)
{
	return present && (b->state == BANK_GOOD || (b->state == BANK_TRIAL && b->tries > 0));
}

/* Of the banks allowed by ok[], the one with the higher generation (A on a tie), or -1. */
static int newest(const struct bank_env *env, const bool ok[2])
{
	if (ok[0] && ok[1])
		return env->bank[1].gen > env->bank[0].gen ? 1 : 0;
	return ok[0] ? 0 : ok[1] ? 1 : -1;
}

void bank_choose(const struct bank_env *env, const bool present[2], struct bank_choice *ret)
{
	bool ok[2], any[2];

	*ret = (struct bank_choice){.boot = -1, .mark_bad = -1, .fallback = -1};
	for (int i = 0; i < 2; i++) {
		ok[i] = bootable(&env->bank[i], present[i]);
		any[i] = present[i];
		ret->out_of_tries[i] = env->bank[i].state == BANK_TRIAL && env->bank[i].tries == 0;
		if (ret->out_of_tries[i])
			ret->mark_bad = i;
	}
	ret->boot = newest(env, ok);
	if (ok[0] && ok[1])
		ret->fallback = !ret->boot;
	if (ret->boot < 0) {
		ret->boot = newest(env, any);
		ret->last_resort = ret->boot >= 0;
		if (any[0] && any[1])
			ret->fallback = !ret->boot;
	}
	ret->take_try = ret->boot >= 0 && env->bank[ret->boot].state == BANK_TRIAL && env->bank[ret->boot].tries > 0;
}

void bank_apply(struct bank_env *env, const struct bank_choice *c)
{
	if (c->boot < 0)
		return;
	for (int i = 0; i < 2; i++)
		if (c->out_of_tries[i])
			env->bank[i].state = BANK_BAD;
	if (c->take_try)
		env->bank[c->boot].tries--;
}
