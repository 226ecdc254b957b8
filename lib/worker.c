#include "worker.h"

/* The thread: each call handed over (busy), until told to quit. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->busy && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->busy)
			break;
		pthread_mutex_unlock(&w->lock);
		int r = w->fn(w->ctx, w->p, w->n, w->off);
		pthread_mutex_lock(&w->lock);
		if (w->r == 0)
			w->r = r;
		w->busy = false;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The call handed over, done. */
static void wait_idle(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->busy)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

static bool spawn(struct worker *w)
{
	if (pthread_mutex_init(&w->lock, NULL) != 0)
		return false;
	if (pthread_cond_init(&w->cond, NULL) != 0) {
		pthread_mutex_destroy(&w->lock);
		return false;
	}
	w->busy = w->quit = false;
	if (pthread_create(&w->thread, NULL, worker_run, w) != 0) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		return false;
	}
	return w->running = true;
}

int worker_wait(struct worker *w)
{
	if (w->running) {
		pthread_mutex_lock(&w->lock);
		w->quit = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL); /* after the call it was given, if any */
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		w->running = false;
	}
	return w->r;
}

int worker_start(struct worker *w, worker_fn fn, void *ctx, const void *p, size_t n, uint64_t off)
{
	if (w->running)
		wait_idle(w);
	if (w->r < 0)
		return w->r;
	if (!w->running && !spawn(w)) {
		int r = fn(ctx, p, n, off);
		return w->r = r < 0 ? r : w->r;
	}
	pthread_mutex_lock(&w->lock);
	w->fn = fn, w->ctx = ctx, w->p = p, w->n = n, w->off = off;
	w->busy = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}
