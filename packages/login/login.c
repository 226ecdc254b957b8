/* login: the console's way in (the services "console" and "tty1"): asks for a user name and a
 * password (not echoed), checks them with packages/auth (the shadow hash, the lockout after 5
 * failures), and starts the user's shell as that user. Three failed attempts end it (init starts
 * it again). Logins and failures go to syslog (LOG_AUTH), never a password, and the name typed
 * only when it is a user's. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"

#define ATTEMPTS 3

static const char usage[] = "Usage: login [--root DIR]\n"
			    "Asks for a user and a password on the terminal and starts the user's shell.\n"
			    "  --root DIR   take etc/passwd, etc/shadow and run/faillock under DIR (tests)\n";

struct login {
	const char *root;
	char passwd[512], shadow[512], faillock[512];
	const char *tty;
};

/* Print prompt and read one line from stdin without its newline; echo off when secret, from
 * before the prompt shows (what is typed after it must never appear), input typed ahead kept.
 * -1 at the end of input. */
static int read_line(const char *prompt, char *buf, size_t size, int secret)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0, r = 0;

	if (secret && tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	fputs(prompt, stdout);
	fflush(stdout);
	if (!fgets(buf, (int)size, stdin))
		r = -1;
	if (secret && tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputs("\n", stdout);
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return r;
}

static struct passwd *find_user(const struct login *L, const char *user)
{
	FILE *f;
	struct passwd *pw = NULL;

	if (!L->root)
		return getpwnam(user);
	f = fopen(L->passwd, "re");
	while (f && (pw = fgetpwent(f)) && strcmp(pw->pw_name, user) != 0)
		;
	if (f)
		fclose(f);
	return pw;
}

static void __attribute__((noreturn)) start_shell(const struct login *L, const char *user)
{
	struct passwd *pw = find_user(L, user);
	const char *shell = pw && pw->pw_shell && pw->pw_shell[0] ? pw->pw_shell : "/bin/sh";
	char *argv0 = NULL;

	if (!pw || setgid(pw->pw_gid) < 0 || (!L->root && initgroups(user, pw->pw_gid) < 0) || setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "login: cannot become %s: %s; check /etc/passwd (hostcfg apply)\n", user,
			pw ? strerror(errno) : "no such user in /etc/passwd");
		exit(1);
	}
	if (chdir(pw->pw_dir) < 0 && chdir("/") < 0)
		exit(1);
	setenv("HOME", pw->pw_dir, 1);
	setenv("USER", user, 1);
	setenv("LOGNAME", user, 1);
	setenv("SHELL", shell, 1);
	if (asprintf(&argv0, "-%s", strrchr(shell, '/') ? strrchr(shell, '/') + 1 : shell) < 0)
		exit(1);
	execl(shell, argv0, (char *)NULL);
	fprintf(stderr, "login: cannot start %s: %s\n", shell, strerror(errno));
	exit(1);
}

/* Say what happened to the person at the console and to syslog. 1 when logged in. */
static int report(const struct login *L, const char *user, enum auth_result r, const struct auth_status *st)
{
	switch (r) {
	case AUTH_OK:
	case AUTH_NO_PASSWORD:
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s logged in on %s%s", user, L->tty,
		       r == AUTH_NO_PASSWORD ? " (no password set)" : "");
		if (r == AUTH_NO_PASSWORD)
			printf("%s has no password: set one with 'hostcfg passwd %s'\n", user, user);
		return 1;
	case AUTH_LOCKED:
		syslog(LOG_AUTHPRIV | LOG_WARNING, "login refused for %s on %s: locked after %d failed logins", user,
		       L->tty, st->failures);
		printf("Account locked after %d failed logins; try again in %lld minute(s)\n", st->failures,
		       (long long)((st->locked_until - time(NULL)) / 60 + 1));
		return 0;
	case AUTH_ERROR:
		syslog(LOG_AUTHPRIV | LOG_ERR, "cannot check passwords: %s", strerror(errno));
		printf("Login unavailable: the password file cannot be read\n");
		return 0;
	default:
		if (st->failures)
			syslog(LOG_AUTHPRIV | LOG_WARNING, "failed login for %s on %s (%d in a row%s)", user, L->tty,
			       st->failures, st->locked_until ? "; locked for 900 s" : "");
		else
			syslog(LOG_AUTHPRIV | LOG_WARNING, "failed login for an unknown user on %s", L->tty);
		sleep(2);
		printf("Login incorrect\n");
		return 0;
	}
}

static void one_attempt(const struct login *L)
{
	char host[256] = "host", user[64], password[256];
	struct auth_paths paths = {L->root ? L->shadow : NULL, L->root ? L->faillock : NULL};
	struct auth_status st = {0};
	enum auth_result r;

	char prompt[300];

	gethostname(host, sizeof(host) - 1);
	snprintf(prompt, sizeof(prompt), "\n%s login: ", host);
	if (read_line(prompt, user, sizeof(user), 0) < 0)
		exit(0);
	if (!user[0])
		return;
	if (read_line("Password: ", password, sizeof(password), 1) < 0)
		exit(0);
	r = auth_check(&paths, user, password, time(NULL), &st);
	explicit_bzero(password, sizeof(password));
	if (report(L, user, r, &st))
		start_shell(L, user);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"root", 1, NULL, 'r'}, {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct login L = {0};
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'r')
			L.root = optarg;
		else
			return fprintf(o == 'h' ? stdout : stderr, "%s", usage), o == 'h' ? 0 : 2;
	}
	if (L.root) {
		snprintf(L.passwd, sizeof(L.passwd), "%s/etc/passwd", L.root);
		snprintf(L.shadow, sizeof(L.shadow), "%s/etc/shadow", L.root);
		snprintf(L.faillock, sizeof(L.faillock), "%s/run/faillock", L.root);
	}
	L.tty = ttyname(STDIN_FILENO) ? ttyname(STDIN_FILENO) : "a terminal";
	openlog("login", LOG_PID, LOG_AUTHPRIV);
	for (int i = 0; i < ATTEMPTS; i++)
		one_attempt(&L);
	return 1;
}
