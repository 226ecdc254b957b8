/* A 16550A UART at I/O port 0x3f8 (COM1, IRQ 4): the guest's console. */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H

#include <pthread.h>
#include <stdint.h>

#include "bus.h"

#define SERIAL_PORT 0x3f8
#define SERIAL_IRQ 4
#define SERIAL_FIFO 64

struct serial {
	pthread_mutex_t lock;
	struct irq_line irq;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	int thr_pending;              /* "transmitter empty" interrupt pending */
	uint8_t rx[SERIAL_FIFO];      /* received bytes waiting for the guest */
	unsigned rx_head, rx_count;
	int out;                      /* where the guest's output goes; -1: nowhere */
};

/* Set up the UART; output goes to fd out (-1 to drop it). */
void serial_init(struct serial *s, struct irq_line irq, int out);
/* Release the UART's lock. */
void serial_destroy(struct serial *s);
/* The bus handler for ports 0x3f8-0x3ff. */
void serial_access(void *s, uint64_t off, uint8_t *data, uint32_t len, bool write);
/* Queue up to len received bytes for the guest; returns how many fitted. */
unsigned serial_receive(struct serial *s, const uint8_t *buf, unsigned len);
/* Change where output goes (e.g. a console client connected); -1 drops it. */
void serial_set_output(struct serial *s, int out);

#endif
