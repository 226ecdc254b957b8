/* The DCUI's pure parts (model.h). */
#include "model.h"

#include <stdio.h>
#include <string.h>

#include "keys.h"

void dm_health(const char *text, char *out, size_t size)
{
	size_t n = text ? strcspn(text, "\n") : 0;

	if (n)
		snprintf(out, size, "%.*s", (int)n, text);
	else
		snprintf(out, size, "unknown");
}

void dm_route_gateway(const char *text, char *out, size_t size)
{
	const char *p = text;

	out[0] = '\0';
	while (p && *p) {
		char ifname[32];
		unsigned dst, gw, flags;
		/* Iface Destination Gateway Flags ...: hexadecimal, in the host's (little-endian) order */
		if (sscanf(p, "%31s %x %x %x", ifname, &dst, &gw, &flags) == 4 && dst == 0 && gw != 0 && (flags & 2)) {
			snprintf(out, size, "%u.%u.%u.%u", gw & 255, gw >> 8 & 255, gw >> 16 & 255, gw >> 24);
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

/* One comma-separated member list (up to the end of the line) holds user. */
static bool member(const char *list, const char *user)
{
	size_t ulen = strlen(user);

	for (const char *p = list; *p && *p != '\n';) {
		size_t n = strcspn(p, ",\n");
		if (n == ulen && strncmp(p, user, n) == 0)
			return true;
		p += n;
		p += *p == ',';
	}
	return false;
}

bool dm_in_group(const char *text, const char *group, const char *user)
{
	size_t glen = strlen(group);
	const char *p = text;

	if (!user[0])
		return false;
	while (p && *p) {
		if (strncmp(p, group, glen) == 0 && p[glen] == ':') {
			/* name:password:gid:members */
			const char *f = p;
			for (int colons = 0; colons < 3 && f; colons++) {
				f = strchr(f, ':');
				if (f && memchr(p, '\n', (size_t)(f - p)))
					f = NULL; /* the line ended first */
				if (f)
					f++;
			}
			if (f && member(f, user))
				return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

bool dm_field_key(char *buf, size_t size, int key)
{
	size_t n = strlen(buf);

	if (key == DK_BACKSPACE) {
		if (n)
			buf[n - 1] = '\0';
		return true;
	}
	if (key < 0x20 || key > 0x7e)
		return false;
	if (n + 1 < size) {
		buf[n] = (char)key;
		buf[n + 1] = '\0';
	}
	return true;
}

size_t dm_scroll(size_t top, size_t n, size_t rows, int key)
{
	size_t max = n > rows ? n - rows : 0, page = rows > 1 ? rows - 1 : 1;

	switch (key) {
	case DK_UP: top = top ? top - 1 : 0; break;
	case DK_DOWN: top++; break;
	case DK_PGUP: top = top > page ? top - page : 0; break;
	case DK_PGDN: case ' ': top += page; break;
	case DK_HOME: case 'g': top = 0; break;
	case DK_END: case 'G': top = max; break;
	default: break;
	}
	return top > max ? max : top;
}
