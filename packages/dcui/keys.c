/* Key decoding for the DCUI (keys.h). The sequences: ESC [ A-D and ESC O A-D (arrows), ESC [ H/F
 * and ESC O H/F (Home, End), ESC O P-S (F1-F4 of VT100 and xterm), ESC [ [ A-E (F1-F5 of the Linux
 * console), ESC [ N ~ (VT220: 1/7 Home, 2 Insert, 3 Delete, 4/8 End, 5/6 Page Up/Down, 11-15 F1-F5,
 * 17-21 F6-F10, 23-24 F11-F12), each with an optional ";MOD" (xterm's modifiers: 3 is Alt, so
 * ESC [ 1 ; 3 P is Alt-F1), and ESC [ Z (Shift-Tab). */
#include "keys.h"

#include <stdio.h>

#define ESC 0x1b

static int tilde_key(unsigned n)
{
	static const int map[] = {
		[1] = DK_HOME, [2] = DK_INS, [3] = DK_DEL, [4] = DK_END, [5] = DK_PGUP, [6] = DK_PGDN,
		[7] = DK_HOME, [8] = DK_END, [11] = DK_F1, [12] = DK_F1 + 1, [13] = DK_F1 + 2,
		[14] = DK_F1 + 3, [15] = DK_F1 + 4, [17] = DK_F1 + 5, [18] = DK_F1 + 6, [19] = DK_F1 + 7,
		[20] = DK_F1 + 8, [21] = DK_F1 + 9, [23] = DK_F1 + 10, [24] = DK_F12,
	};
	return n < sizeof(map) / sizeof(map[0]) && map[n] ? map[n] : DK_UNKNOWN;
}

/* The final letter of ESC [ ... or ESC O ...: arrows, Home/End, F1-F4. */
static int letter_key(unsigned char c)
{
	switch (c) {
	case 'A': return DK_UP;
	case 'B': return DK_DOWN;
	case 'C': return DK_RIGHT;
	case 'D': return DK_LEFT;
	case 'H': return DK_HOME;
	case 'F': return DK_END;
	case 'P': return DK_F1;
	case 'Q': return DK_F1 + 1;
	case 'R': return DK_F1 + 2;
	case 'S': return DK_F1 + 3;
	case 'Z': return DK_BACKTAB;
	default: return DK_UNKNOWN;
	}
}

/* A key with xterm's modifier: Alt (3) on F1 is Alt-F1; other modifiers are dropped. */
static int with_mod(int key, unsigned mod)
{
	return key == DK_F1 && (mod == 3 || mod == 4) ? DK_ALT_F1 : key;
}

/* ESC [ (params) final: params are digits and at most one ';'. */
static int csi(const unsigned char *buf, size_t len, int final, size_t *used)
{
	unsigned n[2] = {0, 0};
	size_t i = 2, k = 0;

	if (len > 2 && buf[2] == '[') { /* the Linux console's F1-F5: ESC [ [ A-E */
		if (len < 4)
			return final ? (*used = 3, DK_UNKNOWN) : DK_NONE;
		*used = 4;
		return buf[3] >= 'A' && buf[3] <= 'E' ? DK_F1 + (buf[3] - 'A') : DK_UNKNOWN;
	}
	for (; i < len && i < 16; i++) {
		unsigned char c = buf[i];
		if (c >= '0' && c <= '9') {
			if (n[k] < 1000)
				n[k] = n[k] * 10 + (unsigned)(c - '0');
		} else if (c == ';' && k == 0) {
			k = 1;
		} else {
			*used = i + 1;
			if (c == '~')
				return with_mod(tilde_key(n[0]), n[1]);
			if (c >= 0x40 && c <= 0x7e)
				return with_mod(letter_key(c), n[1]);
			*used = i; /* not a sequence: drop ESC [ and what came, keep this byte */
			return DK_UNKNOWN;
		}
	}
	if (i >= 16 || final) {
		*used = i;
		return DK_UNKNOWN;
	}
	return DK_NONE;
}

static int escape(const unsigned char *buf, size_t len, int final, size_t *used)
{
	if (len == 1) {
		if (!final)
			return DK_NONE;
		*used = 1;
		return DK_ESC;
	}
	if (buf[1] == '[')
		return csi(buf, len, final, used);
	if (buf[1] == 'O') {
		if (len == 2) {
			if (!final)
				return DK_NONE;
			*used = 2; /* Alt-O */
			return DK_UNKNOWN;
		}
		*used = 3;
		return letter_key(buf[2]);
	}
	if (buf[1] == ESC) { /* ESC ESC: the first is a plain Escape */
		*used = 1;
		return DK_ESC;
	}
	*used = 2; /* Alt plus a key: not used by the DCUI */
	return DK_UNKNOWN;
}

int key_decode(const unsigned char *buf, size_t len, int final, size_t *used)
{
	*used = 0;
	if (len == 0)
		return DK_NONE;
	if (buf[0] == ESC)
		return escape(buf, len, final, used);
	*used = 1;
	switch (buf[0]) {
	case '\r':
	case '\n':
		return DK_ENTER;
	case 0x7f:
	case 0x08:
		return DK_BACKSPACE;
	case '\t':
		return DK_TAB;
	case 0x0c:
		return DK_REDRAW;
	default:
		return buf[0];
	}
}

const char *key_name(int key)
{
	static char text[8];
	static const char *const names[] = {
		[DK_ENTER - DK_ENTER] = "Enter", [DK_ESC - DK_ENTER] = "Esc",
		[DK_BACKSPACE - DK_ENTER] = "Backspace", [DK_TAB - DK_ENTER] = "Tab",
		[DK_BACKTAB - DK_ENTER] = "Shift-Tab", [DK_UP - DK_ENTER] = "Up", [DK_DOWN - DK_ENTER] = "Down",
		[DK_LEFT - DK_ENTER] = "Left", [DK_RIGHT - DK_ENTER] = "Right", [DK_HOME - DK_ENTER] = "Home",
		[DK_END - DK_ENTER] = "End", [DK_PGUP - DK_ENTER] = "PageUp", [DK_PGDN - DK_ENTER] = "PageDown",
		[DK_INS - DK_ENTER] = "Insert", [DK_DEL - DK_ENTER] = "Delete", [DK_ALT_F1 - DK_ENTER] = "Alt-F1",
		[DK_REDRAW - DK_ENTER] = "Ctrl-L", [DK_UNKNOWN - DK_ENTER] = "?",
	};
	if (key >= DK_F1 && key <= DK_F12)
		snprintf(text, sizeof(text), "F%d", key - DK_F1 + 1);
	else if (key > 0 && key < 0x100)
		snprintf(text, sizeof(text), key < 0x20 ? "^%c" : "%c", key < 0x20 ? key + '@' : key);
	else if (key >= DK_ENTER && key <= DK_UNKNOWN && names[key - DK_ENTER])
		return names[key - DK_ENTER];
	else
		return "none";
	return text;
}
