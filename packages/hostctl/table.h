/* hostctl's tables: any JSON answer printed for people (hostctl without --json). Pure: the
 * unit tests and tests/fuzz/fuzz-hostctl.c call them on any JSON. */
#ifndef HOSTCTL_TABLE_H
#define HOSTCTL_TABLE_H

#include <jansson.h>
#include <stdio.h>

/* An object: "key  value" lines, aligned; a member that is a list of objects follows as a
 * table of its own under its name. A list of objects: a table, one column per key (in the
 * order they first appear), headed by the keys in capitals. A list of other values: one a
 * line. Anything else: the value. */
void table_print(FILE *f, const json_t *v);

/* One value as a table cell: strings as they are (control characters as '?'), true/false as
 * yes/no, null as "-", a list of scalars joined by ", ", anything else as compact JSON. Sizes
 * ("memory", "size" in bytes) get a human unit after them when key says which. Returns a
 * malloc'ed string (the caller frees it), NULL when out of memory. */
char *table_cell(const char *key, const json_t *v);

#endif
