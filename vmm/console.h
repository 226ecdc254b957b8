/* The serial console's host side: stdio (a terminal in raw mode), a UNIX socket, or nothing. */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <pthread.h>
#include <termios.h>

#include "devices/serial.h"

struct console {
	struct serial *serial;
	int in;          /* stdin, or the listening socket; -1 for none */
	int client;      /* the connected socket client, or -1 */
	int stop;        /* eventfd that ends the input thread */
	int is_socket;
	char *path;      /* the socket's path, removed at close; owned */
	int tty_saved;
	struct termios tty;
	pthread_t thread;
	int started;
};

/* Open the console spec ("stdio", "none" or "unix:PATH") for serial; -1 with err. */
int console_open(struct console *c, const char *spec, struct serial *serial, char *err, size_t errlen);
/* Start forwarding input to the serial port; -1 on failure. */
int console_start(struct console *c);
/* Stop the input thread, restore the terminal, remove the socket. */
void console_close(struct console *c);

#endif
