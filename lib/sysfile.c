/* Small files of /proc, /sys and /etc: read whole, os-release and kernel command line values,
 * terminals. libc only: linked by the host tools and by the static target programs (musl). */
#define _GNU_SOURCE
#include "sysfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool sysfile_read_at(const char *path, off_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && pread(fd, buf, len, off) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok;
}

int sysfile_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	char extra;

	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		/* A full buffer may be the whole file or a truncated one: a truncated list must not pass. */
		if (len == size - 1) {
			if (read(fd, &extra, 1) > 0)
				return -EFBIG;
			break;
		}
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

ssize_t sysfile_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return -errno;
	len = read_all(fd, buf, size);
	close(fd);
	return len;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static char *text_trim(char *s, char *end)
{
	while (s < end && is_blank(*s))
		s++;
	while (end > s && is_blank(end[-1]))
		end--;
	*end = '\0';
	return s;
}

char *sysfile_line_next(char **cursor)
{
	char *line = *cursor, *end;

	if (!line || *line == '\0')
		return NULL;
	end = strchr(line, '\n');
	*cursor = end ? end + 1 : NULL;
	return text_trim(line, end ? end : line + strlen(line));
}

static bool value_copy(const char *value, size_t len, char *out, size_t size)
{
	if (len >= size)
		return false;
	memcpy(out, value, len);
	out[len] = '\0';
	return true;
}

/* Copy an os-release value ending at end, without trailing blanks or one pair of quotes. */
static bool value_unquote(const char *v, const char *end, char *out, size_t size)
{
	while (end > v && is_blank(end[-1]))
		end--;
	if (end - v >= 2 && (*v == '"' || *v == '\'') && end[-1] == *v) {
		v++;
		end--;
	}
	return value_copy(v, (size_t)(end - v), out, size);
}

bool sysfile_osrelease_value(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	bool found = false;

	/* Later assignments win, as when the file is sourced by a shell. */
	for (const char *line = text, *eol; *line; line = *eol ? eol + 1 : eol) {
		eol = strchrnul(line, '\n');
		if (strncmp(line, key, klen) == 0 && line[klen] == '=')
			found = value_unquote(line + klen + 1, eol, out, size);
	}
	return found;
}

/* The next blank-separated word of the command line and its length, or NULL at the end. */
static const char *word_next(const char **cursor, size_t *len)
{
	const char *p = *cursor + strspn(*cursor, " \t\n");

	*len = strcspn(p, " \t\n");
	*cursor = p + *len;
	return *len ? p : NULL;
}

bool sysfile_cmdline_value(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key), len;
	bool found = false;

	/* The kernel lets the last of repeated parameters win; do the same. */
	for (const char *w; (w = word_next(&text, &len));)
		if (len > klen && strncmp(w, key, klen) == 0 && w[klen] == '=')
			found = value_copy(w + klen + 1, len - klen - 1, out, size);
	return found;
}

const char *sysfile_bank(const char *text)
{
	char v[4];

	if (!text || !sysfile_cmdline_value(text, "bootbank", v, sizeof(v)))
		return "live";
	return strcmp(v, "A") == 0 ? "A" : strcmp(v, "B") == 0 ? "B" : "live";
}

bool sysfile_cmdline_flag(const char *text, const char *flag)
{
	size_t flen = strlen(flag), len;

	for (const char *w; (w = word_next(&text, &len));)
		if (len == flen && strncmp(w, flag, flen) == 0)
			return true;
	return false;
}

int sysfile_tty_open(const char *path, int flags)
{
	/* O_NONBLOCK so a serial port without CLOCAL does not wait for a carrier that never comes. */
	int fd = open(path, flags | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}
