/* Small files of /proc, /sys and /etc, and terminals. libc only, no allocation: linked by the
 * host tools and by the static target programs (init, the installer; musl). */
#ifndef SYSFILE_H
#define SYSFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Read a small file whole into buf (NUL-terminated); its length or -errno (-EFBIG if too big). */
ssize_t sysfile_read(const char *path, char *buf, size_t size);
/* Exactly len bytes at offset off of the file or device path into buf; false if it cannot. */
bool sysfile_read_at(const char *path, off_t off, void *buf, size_t len);
/* write() all of buf, retrying short writes; 0 or -errno. */
int sysfile_write_all(int fd, const char *buf, size_t len);
/* The next line of *cursor with surrounding blanks removed, or NULL at the end; modifies the text. */
char *sysfile_line_next(char **cursor);
/* The last value of KEY=value in os-release style text, quotes removed; false if absent or too long. */
bool sysfile_osrelease_value(const char *text, const char *key, char *out, size_t size);
/* The last value of word key=value in kernel command line text; false if absent or too long. */
bool sysfile_cmdline_value(const char *text, const char *key, char *out, size_t size);
/* The bank booted, from kernel command line text: "A" or "B" (bootbank=A|B, the last one wins),
 * else "live" (none, another value, or NULL text). */
const char *sysfile_bank(const char *text);
/* Whether the kernel command line text has the bare word flag. */
bool sysfile_cmdline_flag(const char *text, const char *flag);
/* Open a terminal for writing or reading without waiting for modem carrier; -1 with errno on error. */
int sysfile_tty_open(const char *path, int flags);

#endif
