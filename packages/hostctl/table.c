/* JSON printed as tables (table.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "table.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 32
#define MAX_CELL 80 /* columns wider than this are cut, with "..." */

static bool is_size_key(const char *key)
{
	return key && (strcmp(key, "memory") == 0 || strcmp(key, "size") == 0);
}

/* "34359738368 (32.0 GiB)" for sizes of a KiB and more. */
static char *size_text(json_int_t n)
{
	static const char *unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double x = (double)n;
	int u = -1;
	char *s;

	while (x >= 1024 && u < 5)
		x /= 1024, u++;
	if (u < 0 ? asprintf(&s, "%lld", (long long)n) < 0 : asprintf(&s, "%lld (%.1f %s)", (long long)n, x, unit[u]) < 0)
		return NULL;
	return s;
}

/* s with control characters as '?' (a terminal is not told to do anything). */
static char *printable(const char *s, size_t n)
{
	char *o = malloc(n + 1);

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	o[n] = '\0';
	return o;
}

static char *scalar(const json_t *v)
{
	char *s = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return printable(json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0 ? NULL : s;
	case JSON_REAL:
		return asprintf(&s, "%g", json_real_value(v)) < 0 ? NULL : s;
	case JSON_TRUE:
		return strdup("yes");
	case JSON_FALSE:
		return strdup("no");
	case JSON_NULL:
		return strdup("-");
	default:
		return NULL;
	}
}

static bool all_scalars(const json_t *a)
{
	size_t i;
	const json_t *x;

	json_array_foreach(a, i, x) {
		if (json_is_object(x) || json_is_array(x))
			return false;
	}
	return true;
}

static char *joined(const json_t *a)
{
	size_t i, len = 0;
	const json_t *x;
	char *out = strdup("");

	json_array_foreach(a, i, x) {
		char *c = scalar(x), *more;
		size_t cl;

		if (!c || !out) {
			free(c);
			free(out);
			return NULL;
		}
		cl = strlen(c);
		more = realloc(out, len + cl + 3);
		if (!more) {
			free(c);
			free(out);
			return NULL;
		}
		out = more;
		len += (size_t)sprintf(out + len, "%s%s", i ? ", " : "", c);
		free(c);
	}
	if (out && len == 0) {
		free(out);
		out = strdup("-");
	}
	return out;
}

char *table_cell(const char *key, const json_t *v)
{
	char *s, *p;

	if (json_is_integer(v) && is_size_key(key))
		return size_text(json_integer_value(v));
	if (json_is_array(v) && all_scalars(v))
		return joined(v);
	if (!json_is_object(v) && !json_is_array(v))
		return scalar(v);
	s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (!s)
		return NULL;
	p = printable(s, strlen(s));
	free(s);
	return p;
}

/* The cut a cell gets in a table. */
static void cut(char *s)
{
	if (strlen(s) > MAX_CELL)
		strcpy(s + MAX_CELL - 3, "...");
}

static bool is_list_of_objects(const json_t *v)
{
	return json_is_array(v) && json_array_size(v) > 0 && !all_scalars(v);
}

/* The columns of a list of objects: its keys in the order they first appear. */
static size_t columns(const json_t *a, const char **col)
{
	size_t i, n = 0, k;
	const json_t *row, *x;
	const char *key;

	json_array_foreach(a, i, row) {
		if (!json_is_object(row))
			continue;
		json_object_foreach((json_t *)row, key, x) {
			for (k = 0; k < n && strcmp(col[k], key) != 0; k++)
				;
			if (k == n && n < MAX_COLS)
				col[n++] = key;
		}
	}
	return n;
}

static void print_row(FILE *f, char **cell, const size_t *w, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (k + 1 < n)
			fprintf(f, "%-*s  ", (int)w[k], cell[k] ? cell[k] : "?");
		else
			fprintf(f, "%s\n", cell[k] ? cell[k] : "?");
}

static void header_row(FILE *f, const char **col, const size_t *w, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		for (const char *c = col[k]; *c; c++)
			fputc((unsigned char)*c < 0x20 ? '?' : toupper((unsigned char)*c), f);
		fprintf(f, "%*s", k + 1 < n ? (int)(w[k] - strlen(col[k]) + 2) : 0, k + 1 < n ? "" : "\n");
	}
}

/* The cells of a row (a non-object row is one cell in the first column). */
static void row_cells(const json_t *row, const char **col, size_t n, char **cell)
{
	for (size_t k = 0; k < n; k++) {
		const json_t *x = json_is_object(row) ? json_object_get(row, col[k]) : k == 0 ? row : NULL;

		cell[k] = x ? table_cell(col[k], x) : strdup("");
		if (cell[k])
			cut(cell[k]);
	}
}

static void free_cells(char **cell, size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(cell[k]);
}

static void print_rows(FILE *f, const json_t *a)
{
	const char *col[MAX_COLS];
	size_t w[MAX_COLS], n = columns(a, col), i, k;
	const json_t *row;
	char *cell[MAX_COLS];

	if (n == 0)
		return;
	for (k = 0; k < n; k++)
		w[k] = strlen(col[k]);
	json_array_foreach(a, i, row) {
		row_cells(row, col, n, cell);
		for (k = 0; k < n; k++)
			if (cell[k] && strlen(cell[k]) > w[k])
				w[k] = strlen(cell[k]);
		free_cells(cell, n);
	}
	header_row(f, col, w, n);
	json_array_foreach(a, i, row) {
		row_cells(row, col, n, cell);
		print_row(f, cell, w, n);
		free_cells(cell, n);
	}
}

static void print_object(FILE *f, const json_t *o)
{
	const char *key;
	const json_t *x;
	size_t w = 0;

	json_object_foreach((json_t *)o, key, x) {
		if (!is_list_of_objects(x) && strlen(key) > w)
			w = strlen(key) < MAX_CELL ? strlen(key) : MAX_CELL;
	}
	json_object_foreach((json_t *)o, key, x) {
		char *k, *c;

		if (is_list_of_objects(x))
			continue;
		k = printable(key, strlen(key));
		c = table_cell(key, x);
		fprintf(f, "%-*s  %s\n", (int)w, k ? k : "?", c ? c : "?");
		free(k);
		free(c);
	}
	json_object_foreach((json_t *)o, key, x) {
		char *k;

		if (!is_list_of_objects(x))
			continue;
		k = printable(key, strlen(key));
		fprintf(f, "\n%s:\n", k ? k : "?");
		free(k);
		print_rows(f, x);
	}
}

void table_print(FILE *f, const json_t *v)
{
	size_t i;
	const json_t *x;

	if (json_is_object(v)) {
		print_object(f, v);
	} else if (is_list_of_objects(v)) {
		print_rows(f, v);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			char *c = table_cell(NULL, x);

			fprintf(f, "%s\n", c ? c : "?");
			free(c);
		}
	} else {
		char *c = table_cell(NULL, v);

		fprintf(f, "%s\n", c ? c : "?");
		free(c);
	}
}
