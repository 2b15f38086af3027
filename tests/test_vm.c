/*
 * Unit tests of the emulated machine and of each dirty-log strategy's
 * harvest, single-threaded where the outcome must be exact:
 *   - guest memory: every backing that the machine can provide maps and
 *     holds data; hugetlb without enough reserved pages fails with the one
 *     line naming /proc/sys/vm/nr_hugepages and the pages needed;
 *   - write faults: a write to a read-only page faults once and makes it
 *     writable; a write to a writable page does not fault;
 *   - harvest: for every strategy and fault path, the pages written are
 *     exactly the pages reported (one harvest later for a lagging strategy),
 *     and they fault again afterwards;
 *   - dirty ring: a ring of 16 entries is soft-full after 8 pushes;
 *   - flush: vm_flush_remote_tlbs does not return while a vCPU in guest
 *     mode has not passed an exit point since the request, and returns
 *     once it has.
 * Every check counts a failure; the exit status is the verdict.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirty_log.h"
#include "guest_memory.h"
#include "timing.h"
#include "vm.h"

static int failures;

#define CHECK(cond, ...)                                              \
	do {                                                          \
		if (!(cond)) {                                        \
			failures++;                                   \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);   \
			printf(__VA_ARGS__);                          \
			printf("\n");                                 \
		}                                                     \
	} while (0)

static void test_backings(void)
{
	for (int b = 0; guest_backing_names[b]; b++) {
		struct guest_memory_options o = { .bytes = 4 << 20, .backing = (enum guest_backing)b,
						  .numa = GUEST_NUMA_LOCAL, .prefault = true };
		struct guest_memory gm;
		char err[512] = "";
		uint64_t hp, needed = guest_hugetlb_pages_needed(o.bytes, &hp);

		if (guest_memory_create(&gm, &o, err, sizeof(err))) {
			char want[64];

			/* only hugetlb may fail here, and then with the line */
			CHECK(b == GUEST_BACKING_ANONYMOUS_HUGETLB, "%s failed: %s",
			      guest_backing_names[b], err);
			snprintf(want, sizeof(want), "need %llu huge pages", (unsigned long long)needed);
			CHECK(strstr(err, "/proc/sys/vm/nr_hugepages") && strstr(err, want),
			      "hugetlb error does not name the sysctl and '%s': %s", want, err);
			CHECK(!strchr(err, '\n'), "hugetlb error is not one line");
			printf("%-18s unavailable: %s\n", guest_backing_names[b], err);
			continue;
		}
		gm.base[0] = 0x5a;
		gm.base[gm.bytes - 1] = 0xa5;
		CHECK(gm.base[0] == 0x5a && gm.base[gm.bytes - 1] == 0xa5, "%s does not hold data",
		      guest_backing_names[b]);
		printf("%-18s ok, page size %zu\n", guest_backing_names[b], gm.page_size);
		guest_memory_destroy(&gm);
	}
}

struct machine {
	struct guest_memory mem;
	struct dirty_log *log;
	struct vm *vm;
};

static void machine_up(struct machine *m, const char *spec, enum fault_path path, int nvcpus,
		       uint32_t nslots)
{
	struct guest_memory_options o = { .bytes = 2 << 20, .backing = GUEST_BACKING_ANONYMOUS,
					  .numa = GUEST_NUMA_LOCAL };
	struct vm_options vo = { .nslots = nslots, .nvcpus = nvcpus, .fault_path = path };
	char err[512];

	m->log = dirty_log_create(spec, NULL, err, sizeof(err));
	if (!m->log || guest_memory_create(&m->mem, &o, err, sizeof(err)) ||
	    !(m->vm = vm_create(&vo, &m->mem, m->log, err, sizeof(err)))) {
		printf("FAIL: cannot set up %s: %s\n", spec, err);
		exit(1);
	}
}

static void machine_down(struct machine *m)
{
	vm_destroy(m->vm);
	guest_memory_destroy(&m->mem);
	dirty_log_free(m->log);
}

/* Writes a fixed set of pages, harvests, compares. */
static void test_harvest(const char *spec, enum fault_path path)
{
	struct machine m;
	struct vcpu *v;
	unsigned long *dirty;
	uint64_t npages, faults, lag;
	static const uint64_t pages[] = { 0, 1, 63, 64, 65, 200, 255, 256, 300, 511 };
	const size_t n = sizeof(pages) / sizeof(pages[0]);

	machine_up(&m, spec, path, 1, 2);
	npages = m.vm->npages;
	dirty = calloc(bitmap_words(npages), sizeof(*dirty));
	v = &m.vm->vcpus[0];
	vcpu_thread_begin(v);
	vcpu_exit_guest(v);           /* this thread harvests too */
	lag = dirty_log_report_lag(m.log);

	/* whatever the strategy starts with (initially-set: every page) */
	dirty_log_get(m.log, dirty, 0);
	dirty_log_clear(m.log, dirty);
	for (uint64_t k = 0; k < lag; k++) {
		dirty_log_get(m.log, dirty, 0);
		dirty_log_clear(m.log, dirty);
	}

	for (int round = 0; round < 3; round++) {
		faults = v->stats.faults;
		for (size_t i = 0; i < n; i++) {
			vcpu_write_page(v, pages[i], (uint64_t)round + 1);
			vcpu_write_page(v, pages[i], (uint64_t)round + 2);   /* writable now */
		}
		CHECK(v->stats.faults - faults == n, "%s/%s round %d: %llu faults for %zu pages",
		      spec, fault_path_names[path], round,
		      (unsigned long long)(v->stats.faults - faults), n);
		for (uint64_t k = 0; k <= lag; k++) {
			dirty_log_get(m.log, dirty, 0);
			dirty_log_clear(m.log, dirty);
			if (k < lag)
				CHECK(bitmap_weight(dirty, npages) == 0,
				      "%s: reported pages before its lag", spec);
		}
		CHECK(bitmap_weight(dirty, npages) == n, "%s/%s round %d: %llu pages reported, %zu written",
		      spec, fault_path_names[path], round,
		      (unsigned long long)bitmap_weight(dirty, npages), n);
		for (size_t i = 0; i < n; i++)
			CHECK(bitmap_test(dirty, pages[i]), "%s/%s: page %llu not reported", spec,
			      fault_path_names[path], (unsigned long long)pages[i]);
		for (size_t i = 0; i < n; i++)
			CHECK(!(m.vm->spte[pages[i]] & SPTE_WRITABLE), "%s/%s: page %llu still writable",
			      spec, fault_path_names[path], (unsigned long long)pages[i]);
	}
	dirty_log_get(m.log, dirty, DIRTY_LOG_FINAL);
	dirty_log_clear(m.log, dirty);
	vcpu_thread_end(v);
	free(dirty);
	machine_down(&m);
}

static void test_ring_soft_full(void)
{
	struct machine m;
	struct vcpu *v;
	unsigned long *dirty;

	machine_up(&m, "dirty-ring:ring=16", FAULT_PATH_FAST, 1, 1);
	dirty = calloc(bitmap_words(m.vm->npages), sizeof(*dirty));
	v = &m.vm->vcpus[0];
	vcpu_thread_begin(v);
	vcpu_exit_guest(v);
	for (uint64_t gfn = 0; gfn < 7; gfn++)
		(void)vcpu_translate_write(v, gfn);
	CHECK(!m.log->ops->vcpu_blocked(m.log, v), "ring of 16 blocked after 7 pushes");
	CHECK(!(__atomic_load_n(&v->requests, __ATOMIC_RELAXED) & VCPU_REQ_DIRTY_RING_FULL),
	      "soft-full request after 7 pushes");
	(void)vcpu_translate_write(v, 7);
	CHECK(m.log->ops->vcpu_blocked(m.log, v), "ring of 16 not blocked after 8 pushes");
	CHECK(__atomic_load_n(&v->requests, __ATOMIC_RELAXED) & VCPU_REQ_DIRTY_RING_FULL,
	      "no soft-full request after 8 pushes");
	dirty_log_get(m.log, dirty, 0);
	CHECK(m.log->ops->vcpu_blocked(m.log, v), "collect alone freed ring space");
	dirty_log_clear(m.log, dirty);
	CHECK(!m.log->ops->vcpu_blocked(m.log, v), "reset did not free ring space");
	CHECK(bitmap_weight(dirty, m.vm->npages) == 8, "ring reported %llu pages, 8 pushed",
	      (unsigned long long)bitmap_weight(dirty, m.vm->npages));
	__atomic_store_n(&v->requests, 0, __ATOMIC_RELAXED);
	vcpu_thread_end(v);
	free(dirty);
	machine_down(&m);
}

/* Flush protocol: a vCPU thread in guest mode, held before its exit point. */
struct flush_test {
	struct vm *vm;
	int release_vcpu;    /* the vCPU may pass its exit point */
	int flush_done;
	int vcpu_ready;
};

static void *flush_vcpu(void *p)
{
	struct flush_test *t = p;
	struct vcpu *v = &t->vm->vcpus[0];

	vcpu_thread_begin(v);       /* in guest mode */
	__atomic_store_n(&t->vcpu_ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&t->release_vcpu, __ATOMIC_ACQUIRE))
		sleep_ns(1000);
	vcpu_exit_point(v);
	while (!__atomic_load_n(&t->flush_done, __ATOMIC_ACQUIRE))
		sleep_ns(1000);
	vcpu_thread_end(v);
	return NULL;
}

static void *flusher(void *p)
{
	struct flush_test *t = p;

	vm_flush_remote_tlbs(t->vm);
	__atomic_store_n(&t->flush_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_flush_waits(void)
{
	struct machine m;
	struct flush_test t = { 0 };
	pthread_t tv, tf;

	machine_up(&m, "xchg", FAULT_PATH_LOCKED, 1, 1);
	t.vm = m.vm;
	pthread_create(&tv, NULL, flush_vcpu, &t);
	while (!__atomic_load_n(&t.vcpu_ready, __ATOMIC_ACQUIRE))
		sleep_ns(1000);
	pthread_create(&tf, NULL, flusher, &t);
	/* the request is raised, the vCPU has not passed an exit point */
	while (!(__atomic_load_n(&m.vm->vcpus[0].requests, __ATOMIC_ACQUIRE) & VCPU_REQ_TLB_FLUSH))
		sleep_ns(1000);
	sleep_ns(20 * 1000 * 1000);
	CHECK(!__atomic_load_n(&t.flush_done, __ATOMIC_ACQUIRE),
	      "flush returned before the vCPU in guest mode passed an exit point");
	__atomic_store_n(&t.release_vcpu, 1, __ATOMIC_RELEASE);
	pthread_join(tf, NULL);
	pthread_join(tv, NULL);
	CHECK(m.vm->vcpus[0].stats.flush_acks == 1, "%llu flush acknowledgements, expected 1",
	      (unsigned long long)m.vm->vcpus[0].stats.flush_acks);
	/* a vCPU outside guest mode is not waited for */
	vm_flush_remote_tlbs(m.vm);
	machine_down(&m);
}

int main(void)
{
	const struct dirty_log_ops *o;

	test_backings();
	for (int i = 0; (o = dirty_log_nth(i)); i++)
		for (int p = 0; p < 2; p++)
			test_harvest(o->name, (enum fault_path)p);
	for (int p = 0; p < 2; p++) {
		test_harvest("srcu-swap:wait=normal", (enum fault_path)p);
		test_harvest("srcu-swap:wait=call_srcu", (enum fault_path)p);
		test_harvest("clear-log:initially-set=1,chunk=64", (enum fault_path)p);
	}
	test_ring_soft_full();
	test_flush_waits();
	printf("%s: %d failure(s)\n", failures ? "FAILED" : "ok", failures);
	return failures ? 1 : 0;
}
