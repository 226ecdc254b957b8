/* The console's host side: a thread forwards input (stdin or a socket client) to the UART. */
#define _GNU_SOURCE
#include "console.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int console_listen(struct console *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "console socket path %s is too long; use a shorter one", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	unlink(path);
	c->in = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->in < 0 || bind(c->in, (struct sockaddr *)&a, sizeof(a)) || listen(c->in, 1)) {
		snprintf(err, errlen, "cannot listen on console socket %s: %s; check the folder", path, strerror(errno));
		return -1;
	}
	c->is_socket = 1;
	c->path = strdup(path);
	return 0;
}

/* A terminal on stdin: no echo or line editing (the guest does both), but Ctrl-C still stops. */
static void console_raw(struct console *c)
{
	struct termios t;

	if (tcgetattr(0, &c->tty))
		return;
	c->tty_saved = 1;
	t = c->tty;
	t.c_lflag &= ~(ICANON | ECHO | ECHONL | IEXTEN);
	t.c_iflag &= ~(ICRNL | IXON);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(0, TCSANOW, &t);
}

int console_open(struct console *c, const char *spec, struct serial *serial, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->serial = serial;
	c->in = c->client = -1;
	c->stop = eventfd(0, EFD_CLOEXEC);
	if (c->stop < 0) {
		snprintf(err, errlen, "eventfd: %s; raise the open file limit", strerror(errno));
		return -1;
	}
	if (!spec || !strcmp(spec, "stdio")) {
		c->in = 0;
		console_raw(c);
		serial_set_output(serial, 1);
		return 0;
	}
	serial_set_output(serial, -1);
	if (!strcmp(spec, "none"))
		return 0;
	return console_listen(c, spec + 5, err, errlen);
}

/* Feed bytes to the UART, waiting while its FIFO is full; 0 when the VM is stopping. */
static int console_feed(struct console *c, const uint8_t *buf, size_t n)
{
	struct pollfd p = {.fd = c->stop, .events = POLLIN};

	for (size_t done = 0; done < n;) {
		done += serial_receive(c->serial, buf + done, (unsigned)(n - done));
		if (done < n && poll(&p, 1, 10) > 0)
			return 0;
	}
	return 1;
}

/* A client connected: it replaces the previous one. */
static void console_accept(struct console *c)
{
	int fd = accept4(c->in, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	serial_set_output(c->serial, fd);
	if (c->client >= 0)
		close(c->client);
	c->client = fd;
}

static void *console_thread(void *arg)
{
	struct console *c = arg;
	uint8_t buf[256];

	for (;;) {
		struct pollfd p[3] = {{.fd = c->stop, .events = POLLIN}, {.fd = c->in, .events = POLLIN},
				      {.fd = c->client, .events = POLLIN}};
		if (poll(p, c->client >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents && c->is_socket)
			console_accept(c);
		int from = c->is_socket ? 2 : 1;
		if (!p[from].revents || c->is_socket == (c->client < 0))
			continue;
		ssize_t n = read(p[from].fd, buf, sizeof(buf));
		if (n <= 0 && c->is_socket) { /* the client left */
			serial_set_output(c->serial, -1);
			close(c->client);
			c->client = -1;
		} else if (n <= 0) {
			break; /* end of stdin: the guest keeps running without input */
		} else if (!console_feed(c, buf, (size_t)n)) {
			break;
		}
	}
	return NULL;
}

int console_start(struct console *c)
{
	if (c->in < 0)
		return 0;
	c->started = pthread_create(&c->thread, NULL, console_thread, c) == 0;
	return c->started ? 0 : -1;
}

void console_close(struct console *c)
{
	uint64_t one = 1;

	if (c->started && write(c->stop, &one, sizeof(one)) == sizeof(one))
		pthread_join(c->thread, NULL);
	c->started = 0;
	if (c->tty_saved)
		tcsetattr(0, TCSANOW, &c->tty);
	if (c->client >= 0)
		close(c->client);
	if (c->is_socket && c->in >= 0)
		close(c->in);
	if (c->path)
		unlink(c->path);
	free(c->path);
	if (c->stop >= 0)
		close(c->stop);
	memset(c, 0, sizeof(*c));
	c->in = c->client = c->stop = -1;
}
