/* The harvest micro-benchmark: see harvest.h. */
#include "workloads/harvest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/timing.h"

/* Is @gfn among the pages dirtied at @percent?  A fixed hash, so every
 * strategy and the floor see the same pages. */
static bool page_selected(uint64_t gfn, uint64_t percent)
{
	uint64_t h = (gfn + 1) * 0x9e3779b97f4a7c15ull;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h % 10000 < percent * 100;
}

/* The floor: read the bitmap, clear the writable bit of each dirty page. */
static void floor_pass(uint8_t *spte, const unsigned long *bm, size_t words)
{
	for (size_t i = 0; i < words; i++) {
		unsigned long w = bm[i];

		while (w) {
			__atomic_store_n(&spte[i * 64 + (unsigned)__builtin_ctzl(w)], 0, __ATOMIC_RELAXED);
			w &= w - 1;
		}
	}
}

int harvest_measure(const char *strategy, struct guest_memory *mem, enum fault_path path,
		    const uint64_t *percents, size_t npercent, int warmup, int reps,
		    struct harvest_sample *out, char *err, size_t errlen)
{
	uint64_t npages = mem->bytes >> PAGE_SHIFT;
	struct dirty_log_hints hints = { .max_dirty_per_vcpu = npages };
	struct vm_options vo = { .nslots = 1, .nvcpus = 1, .fault_path = path };
	struct dirty_log *log;
	struct vm *vm;
	struct vcpu *v;
	unsigned long *dirty;
	size_t words = bitmap_words(npages);

	log = dirty_log_create(strategy, &hints, err, errlen);
	if (!log)
		return -1;
	vm = vm_create(&vo, mem, log, err, errlen);
	if (!vm) {
		dirty_log_free(log);
		return -1;
	}
	dirty = calloc(words, sizeof(*dirty));
	if (!dirty) {
		snprintf(err, errlen, "harvest: out of memory");
		vm_destroy(vm);
		dirty_log_free(log);
		return -1;
	}
	v = &vm->vcpus[0];
	vcpu_thread_begin(v);
	/* This thread is also the harvester: a flush must not wait for it. */
	vcpu_exit_guest(v);

	/* Harvest whatever the strategy starts with (e.g. initially-set). */
	dirty_log_get(log, dirty, 0);
	dirty_log_clear(log, dirty);

	for (size_t p = 0; p < npercent; p++)
		for (int r = -warmup; r < reps; r++) {
			struct harvest_sample s = { 0 };
			uint64_t t0, t1, t2;

			for (uint64_t gfn = 0; gfn < npages; gfn++)
				if (page_selected(gfn, percents[p])) {
					(void)vcpu_translate_write(v, gfn);
					s.dirty_pages++;
				}
			t0 = now_ns();
			dirty_log_get(log, dirty, 0);
			t1 = now_ns();
			dirty_log_clear(log, dirty);
			t2 = now_ns();
			s.get_log_ns = t1 - t0;
			s.clear_log_ns = t2 - t1;
			s.reported_pages = bitmap_weight(dirty, npages);

			/* The floor on the same pages: make them writable again
			 * (untimed), then the bare loop. */
			for (size_t i = 0; i < words; i++)
				for (unsigned long w = dirty[i]; w; w &= w - 1)
					vm->spte[i * 64 + (unsigned)__builtin_ctzl(w)] = SPTE_WRITABLE;
			t0 = now_ns();
			floor_pass(vm->spte, dirty, words);
			s.floor_ns = now_ns() - t0;
			if (r >= 0)
				out[p * (size_t)reps + (size_t)r] = s;
		}

	/* Report what a lagging strategy still holds, so teardown is clean. */
	dirty_log_get(log, dirty, DIRTY_LOG_FINAL);
	dirty_log_clear(log, dirty);
	vcpu_thread_end(v);
	free(dirty);
	vm_destroy(vm);
	dirty_log_free(log);
	return 0;
}
