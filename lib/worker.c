#include "worker.h"

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	w->last = w->fn(w->ctx, w->p, w->n, w->off);
	return NULL;
}

int worker_wait(struct worker *w)
{
	if (w->running) {
		pthread_join(w->thread, NULL);
		w->running = false;
		if (w->r == 0)
			w->r = w->last;
	}
	return w->r;
}

int worker_start(struct worker *w, worker_fn fn, void *ctx, const void *p, size_t n, uint64_t off)
{
	if (worker_wait(w) < 0)
		return w->r;
	*w = (struct worker){.fn = fn, .ctx = ctx, .p = p, .n = n, .off = off, .r = w->r};
	if (pthread_create(&w->thread, NULL, worker_run, w) == 0)
		w->running = true;
	else if ((w->last = fn(ctx, p, n, off)) < 0)
		w->r = w->last;
	return w->r;
}
