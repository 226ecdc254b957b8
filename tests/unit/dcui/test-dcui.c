/* The DCUI's pure parts (packages/dcui/keys.h, model.h): the keys of the Linux console, a VT220
 * and an xterm or tmux decoded alike (F2, F12, Alt-F1, arrows), a sequence split across reads
 * waits for its end, a lone Escape is Escape; the bank, version, health, default gateway and
 * localadmin membership read from their files' texts; a field's editing; the log view's scrolling. */
#include <string.h>

#include "keys.h"
#include "model.h"
#include "sysfile.h"
#include "tap.h"

static int dec(const char *s, int final, size_t *used)
{
	return key_decode((const unsigned char *)s, strlen(s), final, used);
}

static int one(const char *s)
{
	size_t used;
	int k = dec(s, 1, &used);
	return used == strlen(s) ? k : -1;
}

static void keys(void)
{
	size_t used;

	ok(one("\033OQ") == DK_F1 + 1 && one("\033[12~") == DK_F1 + 1 && one("\033[[B") == DK_F1 + 1,
	   "F2: xterm/VT100 (ESC O Q), VT220 (ESC [ 12 ~) and the Linux console (ESC [ [ B)");
	ok(one("\033[24~") == DK_F12 && one("\033[24;2~") == DK_F12, "F12: ESC [ 24 ~, with or without a modifier");
	ok(one("\033[1;3P") == DK_ALT_F1 && one("\033[11;3~") == DK_ALT_F1 && one("\033[1;2P") == DK_F1,
	   "Alt-F1 (xterm's modifier 3); Shift-F1 is F1");
	ok(one("\033[A") == DK_UP && one("\033OB") == DK_DOWN && one("\033[5~") == DK_PGUP && one("\033[H") == DK_HOME,
	   "arrows, Page Up, Home");
	ok(one("\r") == DK_ENTER && one("\n") == DK_ENTER && one("\177") == DK_BACKSPACE && one("\b") == DK_BACKSPACE &&
		   one("\f") == DK_REDRAW && one("a") == 'a' && one("\t") == DK_TAB && one("\033[Z") == DK_BACKTAB,
	   "Enter (CR or LF), Backspace (DEL or BS), Ctrl-L, Tab, Shift-Tab, a letter");
	ok(dec("\033[2", 0, &used) == DK_NONE && used == 0 && dec("\033", 0, &used) == DK_NONE && used == 0,
	   "a sequence cut short waits for more bytes");
	ok(dec("\033", 1, &used) == DK_ESC && used == 1 && dec("\033\033[A", 0, &used) == DK_ESC && used == 1,
	   "a lone Escape (no more bytes in time), or one before another sequence, is Escape");
	ok(dec("\033[99~x", 0, &used) == DK_UNKNOWN && used == 5 && dec("\033[1\001", 0, &used) == DK_UNKNOWN && used == 3,
	   "unknown sequences are skipped whole; a control byte inside one is kept");
	ok(dec("\033[111111111111111111", 0, &used) == DK_UNKNOWN && used > 0, "an endless sequence is cut, not waited for");
	ok(dec("", 1, &used) == DK_NONE && used == 0, "no bytes: no key");
	ok(strcmp(key_name(DK_F12), "F12") == 0 && strcmp(key_name(DK_ALT_F1), "Alt-F1") == 0 &&
		   strcmp(key_name('L'), "L") == 0 && strcmp(key_name(3), "^C") == 0,
	   "key names: F12, Alt-F1, L, ^C");
}

static void facts(void)
{
	char out[64];

	ok(strcmp(sysfile_bank("BOOT_IMAGE=/k console=ttyS0 bootbank=B quiet"), "B") == 0 &&
		   strcmp(sysfile_bank("bootbank=A\n"), "A") == 0 && strcmp(sysfile_bank("xbootbank=A"), "live") == 0 &&
		   strcmp(sysfile_bank("bootbank=AB"), "live") == 0 && strcmp(sysfile_bank(""), "live") == 0 &&
		   strcmp(sysfile_bank(NULL), "live") == 0,
	   "the bank (lib/sysfile, as hostd's): bootbank=A|B as a whole word, else live");
	ok(sysfile_osrelease_value("NAME=Hyp\nVERSION_ID=\"1.2.3\"\n", "VERSION_ID", out, sizeof(out)) &&
		   strcmp(out, "1.2.3") == 0,
	   "os-release VERSION_ID, quotes removed");
	ok(!sysfile_osrelease_value("XVERSION_ID=9\n", "VERSION_ID", out, sizeof(out)), "os-release: only the key itself");
	dm_health("degraded: hostd given up\nmore\n", out, sizeof(out));
	ok(strcmp(out, "degraded: hostd given up") == 0, "health: the first line");
	dm_health("", out, sizeof(out));
	ok(strcmp(out, "unknown") == 0, "health: unknown without /run/health");
	dm_route_gateway("Iface\tDestination\tGateway \tFlags\n"
			 "eth0\t0002000A\t00000000\t0001\n"
			 "eth0\t00000000\t0202000A\t0003\n", out, sizeof(out));
	ok(strcmp(out, "10.0.2.2") == 0, "the default route's gateway from /proc/net/route");
	dm_route_gateway("Iface\tDestination\tGateway \tFlags\n", out, sizeof(out));
	ok(out[0] == '\0', "no default route: no gateway");
	ok(dm_in_group("wheel:x:10:ops\nlocaladmin:x:990:ann,ops\n", "localadmin", "ops") &&
		   !dm_in_group("localadmin:x:990:ann,opsx\n", "localadmin", "ops") &&
		   !dm_in_group("localadmins:x:990:ops\n", "localadmin", "ops") &&
		   !dm_in_group("localadmin:x\nops:x:1:\n", "localadmin", "ops") && !dm_in_group("", "localadmin", "ops") &&
		   !dm_in_group("localadmin:x:990:,\n", "localadmin", ""),
	   "localadmin: a member by its exact name, in the group's own line only");
}

static void edit(void)
{
	char buf[5] = "ab";

	ok(dm_field_key(buf, sizeof(buf), 'c') && strcmp(buf, "abc") == 0, "a typed character is added");
	dm_field_key(buf, sizeof(buf), 'd');
	dm_field_key(buf, sizeof(buf), 'e');
	ok(strcmp(buf, "abcd") == 0, "a full field takes no more");
	ok(dm_field_key(buf, sizeof(buf), DK_BACKSPACE) && strcmp(buf, "abc") == 0, "Backspace removes the last one");
	ok(!dm_field_key(buf, sizeof(buf), DK_F1 + 1) && !dm_field_key(buf, sizeof(buf), 3) && strcmp(buf, "abc") == 0,
	   "F2 and control characters are not typed");
	buf[0] = '\0';
	ok(dm_field_key(buf, sizeof(buf), DK_BACKSPACE) && buf[0] == '\0', "Backspace on an empty field");
	ok(dm_scroll(0, 100, 20, DK_END) == 80 && dm_scroll(80, 100, 20, DK_DOWN) == 80 &&
		   dm_scroll(0, 100, 20, DK_UP) == 0 && dm_scroll(80, 100, 20, DK_PGUP) == 61 &&
		   dm_scroll(0, 10, 20, DK_END) == 0 && dm_scroll(5, 100, 20, DK_HOME) == 0,
	   "scrolling stays within the text");
}

int main(void)
{
	keys();
	facts();
	edit();
	return tap_done();
}
