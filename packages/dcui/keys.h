/* The DCUI's keys: the bytes a terminal sends (the Linux console, a VT100/VT220 or an xterm on the
 * serial line, tmux) decoded to one key each, by the DCUI itself rather than by terminfo, so that
 * F2, F12 and Alt-F1 work whatever TERM says. Pure: no I/O. */
#ifndef DCUI_KEYS_H
#define DCUI_KEYS_H

#include <stddef.h>

enum {
	/* 1..255: that byte typed (printable characters, Ctrl-letters) */
	DK_NONE = 0,
	DK_ENTER = 0x100,
	DK_ESC,
	DK_BACKSPACE,
	DK_TAB,
	DK_BACKTAB,
	DK_UP,
	DK_DOWN,
	DK_LEFT,
	DK_RIGHT,
	DK_HOME,
	DK_END,
	DK_PGUP,
	DK_PGDN,
	DK_INS,
	DK_DEL,
	DK_F1, /* DK_F1 + n - 1 is Fn, n = 1..12 */
	DK_F12 = DK_F1 + 11,
	DK_ALT_F1,
	DK_REDRAW,  /* Ctrl-L */
	DK_UNKNOWN, /* an escape sequence this decoder does not know: ignored */
};

/* The key at the start of buf[0..len): *used is how many bytes it took. When buf holds only the
 * start of a sequence (ESC, ESC [ 1 ...) and more may follow, returns DK_NONE with *used = 0
 * unless final is set (no more bytes came in time: then ESC alone is DK_ESC). len 0: DK_NONE. */
int key_decode(const unsigned char *buf, size_t len, int final, size_t *used);
/* A short name of a key for the help lines and the tests ("F2", "Up", "a"); static storage. */
const char *key_name(int key);

#endif
