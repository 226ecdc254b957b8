/* dcui: the Direct Console UI on tty1 and the serial console (docs/dcui.md), as on ESXi: a welcome
 * screen with the host's name, version, bank, management addresses and health; F2 (after an
 * administrator's login) the System Customization menu; F12 shut down or restart; Alt-F1 (or L) a
 * shell login on this terminal. ncurses draws; the keys are decoded by keys.c. */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "act.h"
#include "keys.h"
#include "model.h"
#include "sysfile.h"
#include "util.h"

#define REFRESH_MS 5000       /* the welcome screen's facts read again */
#define REPAINT_S 30          /* the whole screen sent again (console messages may have overwritten it) */
#define REPAINT_EARLY_S 3     /* ... in the host's first minute, when the kernel's late lines are likeliest */
#define EARLY_S 60            /*     (init keeps the services' output in syslog while the DCUI runs) */
#define MSG_MAX 512

static struct dcui_host dh;
static unsigned char inbuf[64];
static size_t inlen;
static time_t painted;
static char nopw[64]; /* the user logged in has no password set: the menu says to set one */

/* ---- keys ---- */

static int key_take(int final)
{
	size_t used;
	int k = key_decode(inbuf, inlen, final, &used);

	memmove(inbuf, inbuf + used, inlen - used);
	inlen -= used;
	return k;
}

/* The next key, or DK_NONE after timeout_ms. The end of the terminal (a hangup) ends the DCUI:
 * init starts it again. */
static int key_next(int timeout_ms)
{
	struct pollfd p = {0, POLLIN, 0};
	int k;

	for (;;) {
		if ((k = key_take(0)) != DK_NONE)
			return k;
		if (poll(&p, 1, inlen ? 60 : timeout_ms) <= 0) {
			if (inlen)
				return key_take(1); /* a lone Escape */
			return DK_NONE;
		}
		ssize_t n = read(0, inbuf + inlen, sizeof(inbuf) - inlen);
		if (n <= 0 && !(n < 0 && errno == EINTR)) {
			endwin();
			exit(0);
		}
		if (n > 0)
			inlen += (size_t)n;
	}
}

/* ---- drawing ---- */

static void bar(int y, const char *text)
{
	attron(A_REVERSE);
	mvhline(y, 0, ' ', COLS);
	mvaddnstr(y, 1, text, COLS - 2);
	attroff(A_REVERSE);
}

static void frame(const char *title, const char *help)
{
	erase();
	bar(0, title);
	bar(LINES - 1, help);
}

/* Lines of text at row y, wrapped at the screen's width, at most to row max; returns the next row. */
static int para(int y, int max, const char *text)
{
	int w = COLS - 4;

	for (const char *p = text; *p && y < max; y++) {
		int n = (int)strcspn(p, "\n"), cut = n;
		if (n > w) { /* at the last blank that fits, else hard */
			for (cut = w; cut > w / 2 && p[cut] != ' '; cut--)
				;
			n = p[cut] == ' ' ? cut : w;
			cut = n + (p[n] == ' ');
		}
		mvaddnstr(y, 2, p, n);
		p += cut;
		p += *p == '\n';
	}
	return y;
}

/* Seconds between whole repaints: more often while the host is starting. */
static int repaint_every(void)
{
	struct sysinfo si;

	return sysinfo(&si) == 0 && si.uptime < EARLY_S ? REPAINT_EARLY_S : REPAINT_S;
}

/* How long to wait for a key: until the facts are read again, or the whole screen is due sooner. */
static int tick(void)
{
	time_t due = painted + repaint_every() - time(NULL);

	return due <= 0 ? 100 : due * 1000 < REFRESH_MS ? (int)due * 1000 : REFRESH_MS;
}

static void paint(void)
{
	if (time(NULL) - painted >= repaint_every()) {
		clearok(curscr, TRUE);
		painted = time(NULL);
	}
	refresh();
}

/* The whole screen sent again in a few seconds (after a change whose services print on the console). */
static void repaint_soon(void)
{
	painted = time(NULL) - repaint_every() + 3;
}

/* ---- the welcome screen ---- */

static void welcome_draw(void)
{
	char *osr = act_file(&dh, "etc/os-release"), *cmdline = act_file(&dh, "proc/cmdline"),
	     *health = act_file(&dh, "run/health");
	char name[128], version[64], state[128], host[256] = "", addrs[512], line[700];
	int y = 3;

	if (!sysfile_osrelease_value(osr, "PRETTY_NAME", name, sizeof(name)) || !name[0])
		if (!sysfile_osrelease_value(osr, "NAME", name, sizeof(name)))
			name[0] = '\0';
	if (!sysfile_osrelease_value(osr, "VERSION_ID", version, sizeof(version)))
		version[0] = '\0';
	dm_health(health, state, sizeof(state));
	gethostname(host, sizeof(host) - 1);
	act_addresses(addrs, sizeof(addrs));
	frame("Direct Console User Interface", "<F2> Customize System/View Logs   <F12> Shut Down/Restart");
	mvaddstr(LINES - 2, 1, "<Alt-F1> or <L> Shell login   <C> = F2   <S> = F12   <Ctrl-L>/<Enter> Redraw");
	attron(A_BOLD);
	snprintf(line, sizeof(line), "%s", name[0] ? name : "Hypervisor");
	mvaddnstr(y++, 2, line, COLS - 4);
	attroff(A_BOLD);
	snprintf(line, sizeof(line), "Version %s, bank %s", version[0] ? version : "unknown", sysfile_bank(cmdline));
	mvaddnstr(y++, 2, line, COLS - 4);
	y++;
	snprintf(line, sizeof(line), "Host name: %s", host);
	mvaddnstr(y++, 2, line, COLS - 4);
	snprintf(line, sizeof(line), "Health: %s", state);
	mvaddnstr(y++, 2, line, COLS - 4);
	y++;
	if (addrs[0]) {
		mvaddstr(y++, 2, "To manage this host, go to (API health without a login: /api/health):");
		for (char *save = NULL, *a = strtok_r(addrs, " ", &save); a && y < LINES - 3; a = strtok_r(NULL, " ", &save)) {
			snprintf(line, sizeof(line), strchr(a, ':') ? "https://[%s]/" : "https://%s/", a);
			mvaddnstr(y++, 4, line, COLS - 6);
		}
	} else {
		mvaddstr(y++, 2, "No management address yet: <F2> Configure Management Network");
	}
	free(osr);
	free(cmdline);
	free(health);
	paint();
}

/* ---- forms, views, menus ---- */

struct field {
	const char *label;
	char val[256];
	bool secret;
	const char *key; /* its host.conf key, named by the model's errors */
};

typedef int (*submit_fn)(struct field *f, int n, char *msg, size_t size);

static void form_draw(const char *title, const char *intro, struct field *f, int n, int cur, const char *msg)
{
	int y;

	frame(title, "<Up/Down/Tab> Field   <Enter> Next/OK   <Esc> Cancel");
	y = para(2, LINES - 4, intro) + 1;
	for (int i = 0; i < n; i++, y++) {
		char shown[256];
		size_t len = strlen(f[i].val);
		snprintf(shown, sizeof(shown), "%s", f[i].val);
		if (f[i].secret)
			memset(shown, '*', len);
		mvprintw(y, 2, "%-22s [", f[i].label);
		attron(A_UNDERLINE);
		printw("%-40.40s", len > 40 ? shown + len - 40 : shown);
		attroff(A_UNDERLINE);
		addch(']');
	}
	if (msg && msg[0]) {
		attron(A_BOLD);
		para(y + 1, LINES - 1, msg);
		attroff(A_BOLD);
	}
	{
		size_t len = strlen(f[cur].val);
		move(y - n + cur, 26 + (int)(len > 40 ? 40 : len));
	}
	curs_set(1);
	paint();
}

/* The field a model's error names ("network-address: ..."): the cursor goes there, and the message
 * starts with its label. */
static int error_field(struct field *f, int n, int cur, char *msg, size_t size)
{
	for (int i = 0; i < n; i++) {
		size_t len = f[i].key ? strlen(f[i].key) : 0;
		if (len && strncmp(msg, f[i].key, len) == 0 && msg[len] == ':') {
			char *copy = xstrdup(msg);
			snprintf(msg, size, "%s %s", f[i].label, copy);
			free(copy);
			return i;
		}
	}
	return cur;
}

/* Fields typed until Enter on the last one and submit() says 0; -1 on Esc. */
static int form_run(const char *title, const char *intro, struct field *f, int n, submit_fn submit)
{
	char msg[MSG_MAX] = "";
	int cur = 0, k;

	for (;;) {
		form_draw(title, intro, f, n, cur, msg);
		k = key_next(tick());
		if (k == DK_ESC) {
			curs_set(0);
			return -1;
		} else if (k == DK_UP || k == DK_BACKTAB) {
			cur = (cur + n - 1) % n;
		} else if (k == DK_DOWN || k == DK_TAB) {
			cur = (cur + 1) % n;
		} else if (k == DK_ENTER && cur < n - 1) {
			cur++;
		} else if (k == DK_ENTER) {
			msg[0] = '\0';
			form_draw(title, intro, f, n, cur, "Working...");
			if (submit(f, n, msg, sizeof(msg)) == 0) {
				curs_set(0);
				return 0;
			}
			cur = error_field(f, n, cur, msg, sizeof(msg));
		} else if (k == DK_REDRAW) {
			painted = 0;
		} else {
			dm_field_key(f[cur].val, sizeof(f[cur].val), k);
		}
	}
}

/* A scrollable view of text (lines split here); at_end starts at its last page. */
static void view(const char *title, const char *text, bool at_end)
{
	char **lines = NULL;
	size_t n = 0, top, rows = (size_t)(LINES > 3 ? LINES - 3 : 1);
	int k = DK_NONE;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		lines = xrealloc(lines, (n + 1) * sizeof(*lines));
		lines[n++] = xstrndup(p, len);
		p += len;
		p += *p == '\n';
	}
	top = at_end ? dm_scroll(0, n, rows, DK_END) : 0;
	do {
		if (k == DK_REDRAW)
			painted = 0;
		top = dm_scroll(top, n, rows, k);
		frame(title, "<Up/Down/PgUp/PgDn/Home/End> Scroll   <Enter/Esc/Q> Close");
		for (size_t i = 0; i < rows && top + i < n; i++)
			mvaddnstr(2 + (int)i, 1, lines[top + i], COLS - 2);
		paint();
		k = key_next(tick());
	} while (k != DK_ESC && k != DK_ENTER && k != 'q' && k != 'Q');
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* A question answered by one of keys (keys.h values, 0-terminated); returns the key, or DK_ESC. */
static int ask(const char *title, const char *text, const char *help, const int *keys)
{
	for (;;) {
		frame(title, help);
		para(3, LINES - 2, text);
		paint();
		int k = key_next(tick());
		if (k == DK_ESC)
			return k;
		if (k == DK_REDRAW)
			painted = 0;
		for (const int *p = keys; *p; p++)
			if (k == *p)
				return k;
	}
}

static void note(const char *title, const char *text)
{
	view(title, text, false);
}

/* ---- the System Customization menu's items ---- */

static int submit_login(struct field *f, int n, char *msg, size_t size)
{
	(void)n;
	int r = act_login(&dh, f[0].val, f[1].val, msg, size);
	explicit_bzero(f[1].val, sizeof(f[1].val));
	snprintf(nopw, sizeof(nopw), "%.32s", r == 1 ? f[0].val : "");
	return r < 0 ? -1 : 0;
}

static bool authenticate(const char *why)
{
	struct field f[2] = {{"Login Name:", "root", false, NULL}, {"Password:", "", true, NULL}};
	char intro[300];

	snprintf(intro, sizeof(intro), "%s\nAuthentication required: an administrator, or a member of localadmin.", why);
	return form_run("Authentication Required", intro, f, 2, submit_login) == 0;
}

static int submit_password(struct field *f, int n, char *msg, size_t size)
{
	int r;

	(void)n;
	if (strcmp(f[0].val, f[1].val) != 0) {
		snprintf(msg, size, "password: the two passwords differ; type them again");
		r = -1;
	} else {
		r = act_password(&dh, f[0].val, msg, size);
	}
	if (r < 0)
		f[0].val[0] = f[1].val[0] = '\0';
	explicit_bzero(f[0].val, r == 0 ? sizeof(f[0].val) : 0);
	explicit_bzero(f[1].val, r == 0 ? sizeof(f[1].val) : 0);
	return r;
}

static void item_password(void)
{
	struct field f[2] = {{"New Password:", "", true, "password"}, {"Confirm Password:", "", true, NULL}};

	if (form_run("Configure Password", "The administrator's (root's) password.", f, 2, submit_password) == 0) {
		if (strcmp(nopw, "root") == 0)
			nopw[0] = '\0';
		note("Configure Password", "The password is changed.");
	}
}

static int submit_network(struct field *f, int n, char *msg, size_t size)
{
	char *val[NF_N];

	for (int i = 0; i < n && i < NF_N; i++)
		val[i] = f[i].val;
	return act_network(&dh, val, msg, size);
}

static void item_network(void)
{
	static const char *const labels[NF_N] = {"IPv4 (dhcp|static):", "IPv4 Address/Prefix:", "Default Gateway:",
						 "DNS Servers:", "Hostname:"};
	struct field f[NF_N];
	char done[1400];

	for (int i = 0; i < NF_N; i++) {
		f[i] = (struct field){labels[i], "", false, act_net_keys[i]};
		act_conf_value(&dh, act_net_keys[i], f[i].val, sizeof(f[i].val));
	}
	if (form_run("Configure Management Network",
		     "The management network: DHCP, or a static address (A.B.C.D/PREFIX) and gateway; up to 3 DNS "
		     "servers, blank-separated; the host name. Applied at once.",
		     f, NF_N, submit_network) == 0) {
		bool dhcp = strcmp(f[NF_MODE].val, "dhcp") == 0;
		snprintf(done, sizeof(done),
			 "The management network is configured and applied.\n\nHost name: %s\nIPv4: %s %s\nDNS servers: %s\n\n"
			 "The welcome screen shows the addresses the host has.",
			 f[NF_HOSTNAME].val, f[NF_MODE].val, dhcp ? "" : f[NF_ADDRESS].val,
			 f[NF_DNS].val[0] ? f[NF_DNS].val : "none");
		repaint_soon(); /* the services restarted print on the console */
		note("Configure Management Network", done);
	}
}

static void test_run(struct field *f, int n)
{
	size_t len = 0, cap = 256;
	char *out = xmalloc(cap);

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		char *res;
		if (!f[i].val[0])
			continue;
		if (i < n - 1) {
			char *argv[] = {"ping", "-c", "2", "-W", "2", f[i].val, NULL};
			frame("Test Management Network", "Testing...");
			mvprintw(3, 2, "Pinging %s...", f[i].val);
			paint();
			res = act_run(argv, 10);
		} else {
			res = act_resolve(f[i].val);
		}
		size_t add = strlen(res) + strlen(f[i].val) + 32;
		out = xrealloc(out, cap += add);
		len += (size_t)snprintf(out + len, cap - len, "%s %s:\n%s\n", i < n - 1 ? "Ping" : "Resolve", f[i].val, res);
		free(res);
	}
	view("Test Management Network", out, false);
	free(out);
}

static int submit_nothing(struct field *f, int n, char *msg, size_t size)
{
	(void)f, (void)n, (void)msg, (void)size;
	return 0;
}

static void item_test(void)
{
	struct field f[4] = {{"Ping Address #1:", "", false, NULL}, {"Ping Address #2:", "", false, NULL},
			     {"Ping Address #3:", "", false, NULL}, {"Resolve Hostname:", "", false, NULL}};
	char dns[256];

	act_conf_value(&dh, "network-gateway", f[0].val, sizeof(f[0].val));
	act_conf_value(&dh, "dns-servers", dns, sizeof(dns));
	for (char *save = NULL, *a = strtok_r(dns, " ", &save); a; a = strtok_r(NULL, " ", &save))
		snprintf(f[f[1].val[0] ? 2 : 1].val, sizeof(f[1].val), "%s", a);
	if (!f[0].val[0]) { /* DHCP: the gateway of the default route */
		char *route = act_file(&dh, "proc/net/route");
		dm_route_gateway(route, f[0].val, sizeof(f[0].val));
		free(route);
	}
	gethostname(f[3].val, sizeof(f[3].val) - 1);
	if (form_run("Test Management Network", "Pings the addresses and resolves the host name.", f, 4, submit_nothing) == 0)
		test_run(f, 4);
}

static void item_logs(void)
{
	char *text = act_file(&dh, "var/log/messages");

	view("System Log: /var/log/messages", text[0] ? text : "(the log is empty)", true);
	free(text);
}

static void item_restart(void)
{
	static const int keys[] = {DK_F1 + 10, 'y', 'Y', 0};
	char msg[MSG_MAX];

	if (ask("Restart Management Agents", "Restart hostd, the management API? Its connections are dropped.",
		"<F11> or <Y> Restart   <Esc> Cancel", keys) == DK_ESC)
		return;
	frame("Restart Management Agents", "Restarting...");
	mvaddstr(3, 2, "Restarting hostd (init starts it again)...");
	paint();
	act_restart_hostd(&dh, msg, sizeof(msg));
	repaint_soon();
	note("Restart Management Agents", msg);
}

static void item_defaults(void)
{
	static const int keys[] = {DK_F1 + 10, 'y', 'Y', 0};
	char msg[MSG_MAX];

	if (ask("Reset System Configuration",
		"Go back to the defaults? The host name, network, users and passwords of this host are lost (root has "
		"no password until one is set).",
		"<F11> or <Y> Reset   <Esc> Cancel", keys) == DK_ESC)
		return;
	act_defaults(&dh, msg, sizeof(msg));
	repaint_soon();
	note("Reset System Configuration", msg);
}

static void shutdown_dialog(void)
{
	static const int keys[] = {DK_F1 + 1, DK_F1 + 10, 's', 'S', 'r', 'R', 0};
	char msg[MSG_MAX];
	int k = ask("Shut Down/Restart", "Shut down or restart this host? Its virtual machines are stopped.",
		    "<F2> or <S> Shut Down   <F11> or <R> Restart   <Esc> Cancel", keys);

	if (k == DK_ESC)
		return;
	act_power(&dh, k == DK_F1 + 10 || k == 'r' || k == 'R', msg, sizeof(msg));
	frame("Shut Down/Restart", msg);
	para(3, LINES - 2, msg);
	paint();
	/* init stops the sessions; should it not within a minute, the menu comes back. */
	for (int i = 0; i < (dh.h.live ? 60 : 2); i++)
		sleep(1);
}

static const struct {
	const char *name, *about;
	void (*fn)(void);
} items[] = {
	{"Configure Password", "Set the administrator's (root's) password.", item_password},
	{"Configure Management Network", "DHCP or a static address, DNS servers, host name.", item_network},
	{"Test Management Network", "Ping the gateway and DNS servers, resolve a name.", item_test},
	{"View System Logs", "/var/log/messages, scrollable.", item_logs},
	{"Restart Management Agents", "Restart hostd, the management API.", item_restart},
	{"Reset System Configuration", "Back to the defaults.", item_defaults},
	{"Shut Down/Restart", "Power off or reboot this host.", shutdown_dialog},
};
#define NITEMS ((int)(sizeof(items) / sizeof(items[0])))

static void menu_draw(int cur)
{
	frame("System Customization", "<Up/Down/1-7> Select   <Enter> Open   <Esc> Log Out");
	for (int i = 0; i < NITEMS; i++) {
		if (i == cur)
			attron(A_REVERSE);
		mvprintw(2 + i, 2, "%d %-32s", i + 1, items[i].name);
		if (i == cur)
			attroff(A_REVERSE);
	}
	mvaddnstr(3 + NITEMS, 2, items[cur].about, COLS - 4);
	if (nopw[0]) {
		attron(A_BOLD);
		mvprintw(5 + NITEMS, 2, "%.32s has no password: set one with 1 Configure Password", nopw);
		attroff(A_BOLD);
	}
	paint();
}

static void menu(void)
{
	int cur = 0, k;

	for (;;) {
		menu_draw(cur);
		k = key_next(tick());
		if (k == DK_ESC)
			return;
		if (k == DK_UP)
			cur = (cur + NITEMS - 1) % NITEMS;
		else if (k == DK_DOWN)
			cur = (cur + 1) % NITEMS;
		else if (k >= '1' && k < '1' + NITEMS)
			items[cur = k - '1'].fn();
		else if (k == DK_ENTER)
			items[cur].fn();
		else if (k == DK_REDRAW)
			painted = 0;
	}
}

/* ---- main ---- */

static void shell(void)
{
	erase();
	refresh();
	endwin();
	act_shell();
	reset_prog_mode();
	painted = 0;
}

static void run(void)
{
	for (;;) {
		welcome_draw();
		int k = key_next(tick());
		if (k == DK_F1 + 1 || k == 'c' || k == 'C') {
			if (authenticate("System Customization"))
				menu();
		} else if (k == DK_F12 || k == 's' || k == 'S') {
			if (authenticate("Shut Down/Restart"))
				shutdown_dialog();
		} else if (k == DK_ALT_F1 || k == 'l' || k == 'L') {
			shell();
		} else if (k == DK_REDRAW || k == DK_ENTER) {
			painted = 0; /* the whole screen again */
		}
	}
}

static const char usage[] =
	"usage: dcui [--root DIR]\n"
	"The Direct Console UI (docs/dcui.md) on this terminal: the host's name, version, bank,\n"
	"management addresses and health; F2 (or C) System Customization after an administrator's\n"
	"login; F12 (or S) shut down or restart; Alt-F1 (or L) a shell login (/usr/sbin/login).\n"
	"  --root DIR  a test: the configuration, passwords and logs under DIR; nothing is signalled\n";

static void term_default(void)
{
	const char *tty = ttyname(0);

	/* init gives its sessions no TERM: the serial console a VT220, the screen the Linux console. */
	if (!getenv("TERM"))
		setenv("TERM", tty && strncmp(tty, "/dev/ttyS", 9) == 0 ? "vt220" : "linux", 1);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"root", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'}, {0}};
	static char shadow[4200], faillock[4200];
	struct stat st;
	int ch;

	util_progname = "dcui";
	dh.h = (struct host){.root = "/", .live = true, .lock_fd = -1, .delay = 2, .interval = 3600};
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h')
			return fputs(usage, stdout), 0;
		if (ch != 'r' || stat(optarg, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fputs("dcui: --root names no folder; see dcui --help\n", stderr);
			return 2;
		}
		dh.h.root = optarg;
		dh.h.live = strcmp(optarg, "/") == 0;
	}
	if (optind != argc || !isatty(0)) {
		fputs(optind != argc ? "dcui: no arguments are taken; see dcui --help\n"
				     : "dcui: standard input is not a terminal; run it on a console\n", stderr);
		return 2;
	}
	snprintf(shadow, sizeof(shadow), "%s/etc/shadow", dh.h.root);
	snprintf(faillock, sizeof(faillock), "%s/run/faillock", dh.h.root);
	dh.ap = (struct auth_paths){shadow, faillock};
	umask(022);
	term_default();
	signal(SIGPIPE, SIG_IGN);
	if (!initscr()) {
		fputs("dcui: the terminal cannot be used (TERM unknown?); set TERM to linux or vt220\n", stderr);
		return 1;
	}
	raw();
	noecho();
	nonl();
	curs_set(0);
	run();
	return 0;
}
