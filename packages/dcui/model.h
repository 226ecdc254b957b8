/* The DCUI's pure parts (no terminal, no system calls): the host's facts read from the texts of
 * /run/health, /proc/net/route and /etc/group (the bank and os-release's values: lib/sysfile.h,
 * as hostd), and the editing of one text field. */
#ifndef DCUI_MODEL_H
#define DCUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>

/* The first line of /run/health ("ok", "degraded: why"), into out; "unknown" for none. */
void dm_health(const char *text, char *out, size_t size);
/* The IPv4 gateway of the default route in a /proc/net/route text, into out; "" when none. */
void dm_route_gateway(const char *text, char *out, size_t size);
/* Whether user is listed in group's member list in an /etc/group text. */
bool dm_in_group(const char *text, const char *group, const char *user);

/* One line of text being typed: key (keys.h) applied to buf (at most size - 1 bytes, printable
 * ASCII only); returns whether the key was one a field takes (a character or Backspace). */
bool dm_field_key(char *buf, size_t size, int key);

/* A scrolling window over n lines, rows high: the first line shown after key (Up, Down, Page
 * Up/Down, Home, End) from top; always within 0..max(0, n - rows). */
size_t dm_scroll(size_t top, size_t n, size_t rows, int key);

#endif
