/* 16550A UART model: enough of the register set for Linux's 8250 driver, FIFO always on. */
#include "devices/serial.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

void serial_init(struct serial *s, struct irq_line irq, int out)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->irq = irq;
	s->out = out;
	s->mcr = 0x08; /* OUT2: interrupts reach the PIC */
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

/* The highest-priority pending interrupt, as IIR reports it. */
static uint8_t serial_iir(const struct serial *s)
{
	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_pending)
		return IIR_THRI;
	return IIR_NONE;
}

static void serial_update_irq(struct serial *s)
{
	irq_line_set(&s->irq, serial_iir(s) != IIR_NONE);
}

static void serial_push(struct serial *s, uint8_t c)
{
	if (s->rx_count < SERIAL_FIFO)
		s->rx[(s->rx_head + s->rx_count++) % SERIAL_FIFO] = c;
}

static void serial_transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP)
		serial_push(s, c);
	else if (s->out >= 0)
		while (write(s->out, &c, 1) < 0 && errno == EINTR)
			;
	/* The byte left at once: lower the line, then raise it for an edge the guest sees. */
	s->thr_pending = 0;
	serial_update_irq(s);
	s->thr_pending = 1;
}

static uint8_t serial_msr(const struct serial *s)
{
	if (!(s->mcr & MCR_LOOP))
		return 0xb0; /* DCD, DSR, CTS: a terminal is always there */
	/* Loopback: CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2 (Linux's probe checks this). */
	return (uint8_t)(((s->mcr & 0x02) << 3) | ((s->mcr & 0x01) << 5) | ((s->mcr & 0x04) << 4) |
			 ((s->mcr & 0x08) << 4));
}

static uint8_t serial_read(struct serial *s, uint64_t off)
{
	uint8_t v = 0, dlab = s->lcr & LCR_DLAB;

	switch (off) {
	case RBR_THR:
		if (dlab)
			return s->dll;
		if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
			s->rx_count--;
		}
		return v;
	case IER: return dlab ? s->dlm : s->ier;
	case IIR_FCR:
		v = serial_iir(s);
		if (v == IIR_THRI)
			s->thr_pending = 0; /* reading IIR clears a THRE interrupt */
		return v | ((s->fcr & 1) ? IIR_FIFO : 0);
	case LCR: return s->lcr;
	case MCR: return s->mcr;
	case LSR: return LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
	case MSR: return serial_msr(s);
	default: return s->scr;
	}
}

static void serial_write(struct serial *s, uint64_t off, uint8_t v)
{
	uint8_t dlab = s->lcr & LCR_DLAB;

	switch (off) {
	case RBR_THR:
		if (dlab)
			s->dll = v;
		else
			serial_transmit(s, v);
		break;
	case IER:
		if (dlab) {
			s->dlm = v;
			break;
		}
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_pending = 1; /* enabling it with the THR empty raises it at once */
		s->ier = v & 0x0f;
		break;
	case IIR_FCR:
		s->fcr = v;
		if (v & 0x02)
			s->rx_count = 0; /* clear the receive FIFO */
		break;
	case LCR: s->lcr = v; break;
	case MCR: s->mcr = v & 0x1f; break;
	case SCR: s->scr = v; break;
	default: break;
	}
}

void serial_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool write)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < len && off + i < 8; i++) {
		if (write)
			serial_write(s, off + i, data[i]);
		else
			data[i] = serial_read(s, off + i);
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

unsigned serial_receive(struct serial *s, const uint8_t *buf, unsigned len)
{
	unsigned n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->rx_count < SERIAL_FIFO)
		serial_push(s, buf[n++]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial_set_output(struct serial *s, int out)
{
	pthread_mutex_lock(&s->lock);
	s->out = out;
	pthread_mutex_unlock(&s->lock);
}
