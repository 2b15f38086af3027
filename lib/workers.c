/* Groups of pinned threads: see workers.h. */
#include "workers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"
#include "topology.h"

static void *worker_main(void *p)
{
	struct worker *w = p;
	struct workers *g = w->group;

	if (w->cpu >= 0)
		w->pin_error = topology_pin_self(w->cpu);
	pthread_barrier_wait(&g->ready);
	pthread_barrier_wait(&g->go);
	/* acquire: pairs with the release store in workers_start's abort path */
	if (!atomic_load_explicit(&g->aborted, memory_order_acquire))
		g->fn(w);
	return NULL;
}

int workers_start(struct workers *g, int n, const int *cpus,
		  void (*fn)(struct worker *w), void *arg, const char *what)
{
	int created = 0, bad = -1;

	memset(g, 0, sizeof(*g));
	g->n = n;
	g->fn = fn;
	g->w = calloc((size_t)n, sizeof(*g->w));
	if (!g->w) {
		fprintf(stderr, "dlbench: out of memory for %d %s threads\n", n, what);
		return -1;
	}
	pthread_barrier_init(&g->ready, NULL, (unsigned)n + 1);
	pthread_barrier_init(&g->go, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		struct worker *w = &g->w[i];
		int rc;

		w->index = i;
		w->cpu = cpus ? cpus[i] : -1;
		w->arg = arg;
		w->group = g;
		rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc) {
			fprintf(stderr, "dlbench: cannot create %s thread %d: %s\n", what, i,
				strerror(rc));
			break;
		}
		created++;
	}
	if (created < n) {
		/* The barriers count n + 1 parties: stand in for the threads that
		 * were never created by failing the whole group now. */
		atomic_store_explicit(&g->aborted, 1, memory_order_release);
		for (int i = 0; i < created; i++)
			pthread_cancel(g->w[i].thread);
		for (int i = 0; i < created; i++)
			pthread_join(g->w[i].thread, NULL);
		free(g->w);
		g->w = NULL;
		return -1;
	}
	pthread_barrier_wait(&g->ready);
	for (int i = 0; i < n; i++)
		if (g->w[i].pin_error && bad < 0)
			bad = i;
	if (bad >= 0) {
		fprintf(stderr, "dlbench: cannot pin %s thread %d to CPU %d: %s\n", what,
			bad, g->w[bad].cpu, strerror(-g->w[bad].pin_error));
		atomic_store_explicit(&g->aborted, 1, memory_order_release);
		pthread_barrier_wait(&g->go);
		workers_join(g);
		return -1;
	}
	return 0;
}

void workers_go(struct workers *g)
{
	g->start_ns = now_ns();
	pthread_barrier_wait(&g->go);
}

void workers_join(struct workers *g)
{
	if (!g->w)
		return;
	for (int i = 0; i < g->n; i++)
		pthread_join(g->w[i].thread, NULL);
	pthread_barrier_destroy(&g->ready);
	pthread_barrier_destroy(&g->go);
	free(g->w);
	g->w = NULL;
}
