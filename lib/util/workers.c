/* Groups of pinned threads: see workers.h. */
#include "lib/util/workers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/timing.h"
#include "lib/util/topology.h"

static void *worker_main(void *p)
{
	struct worker *w = p;
	struct workers *g = w->group;

	bool aborted;

	if (w->cpu >= 0)
		w->pin_error = topology_pin_self(w->cpu);
	pthread_mutex_lock(&g->lock);
	g->ready++;
	pthread_cond_broadcast(&g->cond);
	while (!g->go)
		pthread_cond_wait(&g->cond, &g->lock);
	aborted = g->aborted;
	pthread_mutex_unlock(&g->lock);
	if (!aborted)
		g->fn(w);
	return NULL;
}

int workers_start(struct workers *g, int n, const int *cpus, void (*fn)(struct worker *w),
		  void *arg, const char *what)
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
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
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
	g->n = created;
	pthread_mutex_lock(&g->lock);
	while (g->ready < created)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
	for (int i = 0; i < created; i++)
		if (g->w[i].pin_error && bad < 0)
			bad = i;
	if (bad >= 0)
		fprintf(stderr, "dlbench: cannot pin %s thread %d to CPU %d: %s\n", what, bad,
			g->w[bad].cpu, strerror(-g->w[bad].pin_error));
	if (bad >= 0 || created < n) {
		/* release the threads without running anything, and fail */
		pthread_mutex_lock(&g->lock);
		g->aborted = true;
		g->go = true;
		pthread_cond_broadcast(&g->cond);
		pthread_mutex_unlock(&g->lock);
		workers_join(g);
		return -1;
	}
	return 0;
}

void workers_go(struct workers *g)
{
	g->start_ns = now_ns();
	pthread_mutex_lock(&g->lock);
	g->go = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

void workers_join(struct workers *g)
{
	if (!g->w)
		return;
	for (int i = 0; i < g->n; i++)
		pthread_join(g->w[i].thread, NULL);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
	free(g->w);
	g->w = NULL;
}
