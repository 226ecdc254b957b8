/* lib/worker.c: one call at a time in a second thread, the caller filling two buffers in turn. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"
#include "tap.h"

#define PIECES 40
#define LEN 4096

struct seen {
	unsigned sums[PIECES];
	uint64_t offs[PIECES];
	int calls, running, overlapped, fail_at;
};

/* Sums the piece slowly (the caller meanwhile fills the other buffer), and notes any call that
 * started while another ran. */
static int sum_piece(void *ctx, const void *p, size_t n, uint64_t off)
{
	struct seen *s = ctx;
	const unsigned char *b = p;
	unsigned sum = 0;

	if (__atomic_fetch_add(&s->running, 1, __ATOMIC_SEQ_CST) != 0)
		s->overlapped = 1;
	usleep(200);
	for (size_t i = 0; i < n; i++)
		sum += b[i];
	s->sums[s->calls] = sum;
	s->offs[s->calls] = off;
	s->calls++;
	__atomic_fetch_sub(&s->running, 1, __ATOMIC_SEQ_CST);
	return s->fail_at && s->calls == s->fail_at ? -EILSEQ : 0;
}

static void test_worker_hands_each_piece_over_whole_when_the_caller_reuses_two_buffers(void)
{
	static unsigned char buf[2][LEN];
	struct seen s = {0};
	struct worker w = {0};
	bool right = true;

	for (int i = 0; i < PIECES; i++) {
		memset(buf[i % 2], i + 1, LEN);
		worker_start(&w, sum_piece, &s, buf[i % 2], LEN, (uint64_t)i * LEN);
	}
	ok(worker_wait(&w) == 0 && s.calls == PIECES && !s.overlapped,
	   "worker: every call made, one at a time (calls %d)", s.calls);
	for (int i = 0; i < PIECES; i++)
		right &= s.sums[i] == (unsigned)(i + 1) * LEN && s.offs[i] == (uint64_t)i * LEN;
	ok(right, "worker: each call saw its own piece and offset, in order, though the buffers were refilled");
}

static void test_worker_keeps_the_first_failure_and_makes_no_call_after_it(void)
{
	static unsigned char buf[2][LEN];
	struct seen s = {.fail_at = 3};
	struct worker w = {0};
	int started = 0, r = 0;

	for (int i = 0; i < PIECES && r == 0; i++, started++)
		r = worker_start(&w, sum_piece, &s, buf[i % 2], LEN, 0);
	ok(r == -EILSEQ && started == 4, "worker_start: the next start returns the third call's failure (r=%d, %d starts)",
	   r, started);
	ok(worker_wait(&w) == -EILSEQ && s.calls == 3, "worker_wait: the failure again, and no call after it (calls %d)",
	   s.calls);
}

static void test_worker_wait_is_0_when_nothing_ran(void)
{
	struct worker w = {0};

	ok(worker_wait(&w) == 0, "worker_wait: 0 when no call was started");
}

int main(void)
{
	test_worker_hands_each_piece_over_whole_when_the_caller_reuses_two_buffers();
	test_worker_keeps_the_first_failure_and_makes_no_call_after_it();
	test_worker_wait_is_0_when_nothing_ran();
	return tap_done();
}
