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
 *     once it has;
 *   - memslot protections: the harvest test under each; a memslot update
 *     completes while a vCPU that faulted (rwlock-cond: keeps the read
 *     side) runs exit points in guest mode, and while it idles outside
 *     guest mode; the vCPU faults through the new table afterwards;
 *   - dirty logging off (no fault, nothing reported) and on again (every
 *     page faults; initially-set: every page reported); a VM without a log;
 *   - a vCPU waiting for dirty-ring space shows in vm_log_space_wanted
 *     until a harvest frees the ring;
 *   - Linux's own tracking (uffd-wp, uffd-wp-async, mprotect; soft-dirty
 *     where the kernel has it, else SKIP with the reason): exact harvests
 *     on the real MMU, both fault paths and deliveries;
 *   - vm_pause_vcpus keeps a writing vCPU out of guest mode until resumed;
 *   - the real MMU (--mmu real): the harvest and logging tests again with
 *     the pages write-protected in the page tables (userfaultfd with SIGBUS
 *     in the writer, with a handler thread, and mprotect), where a write
 *     fault is a hardware fault; vm_mmu_plan's refusals (hugetlb, a
 *     mechanism this kernel lacks, a real-only strategy under soft).
 * Every check counts a failure; the exit status is the verdict.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/compiler.h"
#include "lib/util/timing.h"
#include "lib/vm/guest_memory.h"
#include "lib/vm/vm.h"
#include "tests/check.h"

/* vcpu_thread_begin, or the test ends here. */
static void begin_or_die(struct vcpu *v)
{
	char err[256];

	if (vcpu_thread_begin(v, err, sizeof(err))) {
		printf("FAIL: vcpu_thread_begin: %s\n", err);
		exit(1);
	}
}

static void test_backings(void)
{
	for (int b = 0; guest_backing_names[b]; b++) {
		struct guest_memory_options o = { .bytes = 4 << 20,
						  .backing = (enum guest_backing)b,
						  .numa = GUEST_NUMA_LOCAL,
						  .prefault = true };
		struct guest_memory gm;
		char err[512] = "";
		uint64_t hp, needed = guest_hugetlb_pages_needed(o.bytes, &hp);

		if (guest_memory_create(&gm, &o, err, sizeof(err))) {
			char want[64];

			/* only hugetlb may fail here, and then with the line */
			CHECKF(b == GUEST_BACKING_ANONYMOUS_HUGETLB, "%s failed: %s",
			       guest_backing_names[b], err);
			snprintf(want, sizeof(want), "need %llu huge pages",
				 (unsigned long long)needed);
			CHECKF(strstr(err, "/proc/sys/vm/nr_hugepages") && strstr(err, want),
			       "hugetlb error does not name the sysctl and '%s': %s", want, err);
			CHECKF(!strchr(err, '\n'), "hugetlb error is not one line");
			printf("%-18s unavailable: %s\n", guest_backing_names[b], err);
			continue;
		}
		gm.base[0] = 0x5a;
		gm.base[gm.bytes - 1] = 0xa5;
		CHECKF(gm.base[0] == 0x5a && gm.base[gm.bytes - 1] == 0xa5, "%s does not hold data",
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

/* The MMU every machine_up makes (the real-MMU tests set it). */
static struct {
	enum vm_mmu mmu;
	enum mmu_wp_mechanism wp;
	enum mmu_wp_delivery delivery;
} test_mmu;

static const char *test_mmu_name(void)
{
	static char name[48];

	snprintf(name, sizeof(name), "%s%s%s%s", vm_mmu_names[test_mmu.mmu],
		 test_mmu.mmu == VM_MMU_REAL ? ":" : "",
		 test_mmu.mmu == VM_MMU_REAL ? mmu_wp_mechanism_names[test_mmu.wp] : "",
		 test_mmu.mmu == VM_MMU_REAL && test_mmu.delivery == MMU_WP_THREAD ? ":thread"
										   : "");
	return name;
}

/* @spec NULL: a VM without a dirty log; @protect NULL: the default. */
static void machine_up_protected(struct machine *m, const char *spec, enum fault_path path,
				 int nvcpus, uint32_t nslots, const char *protect)
{
	struct guest_memory_options o = { .bytes = 2 << 20,
					  .backing = GUEST_BACKING_ANONYMOUS,
					  .numa = GUEST_NUMA_LOCAL };
	struct vm_options vo = { .nslots = nslots,
				 .nvcpus = nvcpus,
				 .fault_path = path,
				 .memslot_protect = protect,
				 .mmu = test_mmu.mmu,
				 .mmu_wp = test_mmu.wp,
				 .fault_delivery = test_mmu.delivery };
	char err[512] = "";

	m->log = spec ? dirty_log_create(spec, NULL, err, sizeof(err)) : NULL;
	if ((spec && !m->log) || guest_memory_create(&m->mem, &o, err, sizeof(err)) ||
	    !(m->vm = vm_create(&vo, &m->mem, m->log, err, sizeof(err)))) {
		printf("FAIL: cannot set up %s (%s MMU): %s\n", spec ? spec : "a VM without a log",
		       test_mmu_name(), err);
		exit(1);
	}
}

static void machine_up(struct machine *m, const char *spec, enum fault_path path, int nvcpus,
		       uint32_t nslots)
{
	machine_up_protected(m, spec, path, nvcpus, nslots, NULL);
}

static void machine_down(struct machine *m)
{
	vm_destroy(m->vm);
	guest_memory_destroy(&m->mem);
	dirty_log_free(m->log);
}

/* Writes a fixed set of pages, harvests, compares. */
static void test_harvest_protected(const char *spec, enum fault_path path, const char *protect)
{
	struct machine m;
	struct vcpu *v;
	unsigned long *dirty;
	uint64_t npages, faults, lag;
	static const uint64_t pages[] = { 0, 1, 63, 64, 65, 200, 255, 256, 300, 511 };
	const size_t n = sizeof(pages) / sizeof(pages[0]);

	machine_up_protected(&m, spec, path, 1, 2, protect);
	npages = m.vm->npages;
	dirty = bitmap_alloc_plain(npages);
	v = &m.vm->vcpus[0];
	begin_or_die(v);
	vcpu_exit_guest(v); /* this thread harvests too */
	lag = dirty_log_report_lag(m.log);

	/* whatever the strategy starts with (initially-set: every page) */
	dirty_log_get(m.log, dirty, 0);
	dirty_log_clear(m.log, dirty);
	for (uint64_t k = 0; k < lag; k++) {
		dirty_log_get(m.log, dirty, 0);
		dirty_log_clear(m.log, dirty);
	}

	for (int round = 0; round < 3; round++) {
		faults = vcpu_faults(v);
		for (size_t i = 0; i < n; i++) {
			vcpu_write_page(v, pages[i], (uint64_t)round + 1);
			vcpu_write_page(v, pages[i], (uint64_t)round + 2); /* writable now */
		}
		CHECKF(vcpu_faults(v) - faults == n,
		       "%s/%s (%s) round %d: %llu faults for %zu pages", spec,
		       fault_path_names[path], test_mmu_name(), round,
		       (unsigned long long)(vcpu_faults(v) - faults), n);
		for (uint64_t k = 0; k <= lag; k++) {
			dirty_log_get(m.log, dirty, 0);
			dirty_log_clear(m.log, dirty);
			if (k < lag)
				CHECKF(bitmap_weight(dirty, npages) == 0,
				       "%s: reported pages before its lag", spec);
		}
		CHECKF(bitmap_weight(dirty, npages) == n,
		       "%s/%s round %d: %llu pages reported, %zu written", spec,
		       fault_path_names[path], round,
		       (unsigned long long)bitmap_weight(dirty, npages), n);
		for (size_t i = 0; i < n; i++)
			CHECKF(bitmap_test(dirty, pages[i]), "%s/%s: page %llu not reported", spec,
			       fault_path_names[path], (unsigned long long)pages[i]);
		for (size_t i = 0; i < n; i++)
			CHECKF(!vm_spte_writable(m.vm, pages[i]), "%s/%s: page %llu still writable",
			       spec, fault_path_names[path], (unsigned long long)pages[i]);
	}
	dirty_log_get(m.log, dirty, DIRTY_LOG_FINAL);
	dirty_log_clear(m.log, dirty);
	vcpu_thread_end(v);
	free(dirty);
	machine_down(&m);
}

static void test_harvest(const char *spec, enum fault_path path)
{
	test_harvest_protected(spec, path, NULL);
}

static void test_ring_soft_full(void)
{
	struct machine m;
	struct vcpu *v;
	unsigned long *dirty;

	machine_up(&m, "dirty-ring:ring=16", FAULT_PATH_FAST, 1, 1);
	dirty = bitmap_alloc_plain(m.vm->npages);
	v = &m.vm->vcpus[0];
	begin_or_die(v);
	vcpu_exit_guest(v);
	for (uint64_t gfn = 0; gfn < 7; gfn++)
		(void)vcpu_translate_write(v, gfn);
	CHECKF(!dirty_log_vcpu_blocked(m.log, v), "ring of 16 blocked after 7 pushes");
	/* relaxed (requests, here): one thread, the vCPU's own */
	CHECKF(!(atomic_load_explicit(&v->requests, memory_order_relaxed) &
		 VCPU_REQ_DIRTY_RING_FULL),
	       "soft-full request after 7 pushes");
	(void)vcpu_translate_write(v, 7);
	CHECKF(dirty_log_vcpu_blocked(m.log, v), "ring of 16 not blocked after 8 pushes");
	CHECKF(atomic_load_explicit(&v->requests, memory_order_relaxed) & VCPU_REQ_DIRTY_RING_FULL,
	       "no soft-full request after 8 pushes");
	dirty_log_get(m.log, dirty, 0);
	CHECKF(dirty_log_vcpu_blocked(m.log, v), "collect alone freed ring space");
	dirty_log_clear(m.log, dirty);
	CHECKF(!dirty_log_vcpu_blocked(m.log, v), "reset did not free ring space");
	CHECKF(bitmap_weight(dirty, m.vm->npages) == 8, "ring reported %llu pages, 8 pushed",
	       (unsigned long long)bitmap_weight(dirty, m.vm->npages));
	atomic_store_explicit(&v->requests, 0, memory_order_relaxed);
	vcpu_thread_end(v);
	free(dirty);
	machine_down(&m);
}

/* Flush protocol: a vCPU thread in guest mode, held before its exit point. */
struct flush_test {
	struct vm *vm;
	/* Handshake flags: each a release store paired with the other
	 * thread's acquire load of it. */
	atomic_int release_vcpu; /* the vCPU may pass its exit point */
	atomic_int flush_done;
	atomic_int vcpu_ready;
};

static void *flush_vcpu(void *p)
{
	struct flush_test *t = p;
	struct vcpu *v = &t->vm->vcpus[0];

	begin_or_die(v); /* in guest mode */
	atomic_store_explicit(&t->vcpu_ready, 1, memory_order_release);
	while (!atomic_load_explicit(&t->release_vcpu, memory_order_acquire))
		sleep_ns(1000);
	vcpu_exit_point(v);
	while (!atomic_load_explicit(&t->flush_done, memory_order_acquire))
		sleep_ns(1000);
	vcpu_thread_end(v);
	return NULL;
}

static void *flusher(void *p)
{
	struct flush_test *t = p;

	vm_flush_remote_tlbs(t->vm);
	atomic_store_explicit(&t->flush_done, 1, memory_order_release);
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
	while (!atomic_load_explicit(&t.vcpu_ready, memory_order_acquire))
		sleep_ns(1000);
	pthread_create(&tf, NULL, flusher, &t);
	/* the request is raised, the vCPU has not passed an exit point
	 * (acquire: as vcpu_handle_requests' exchange; only the bit matters) */
	while (!(atomic_load_explicit(&m.vm->vcpus[0].requests, memory_order_acquire) &
		 VCPU_REQ_TLB_FLUSH))
		sleep_ns(1000);
	sleep_ns(20 * 1000 * 1000);
	CHECKF(!atomic_load_explicit(&t.flush_done, memory_order_acquire),
	       "flush returned before the vCPU in guest mode passed an exit point");
	atomic_store_explicit(&t.release_vcpu, 1, memory_order_release);
	pthread_join(tf, NULL);
	pthread_join(tv, NULL);
	CHECKF(m.vm->vcpus[0].stats.flush_acks == 1, "%llu flush acknowledgements, expected 1",
	       (unsigned long long)m.vm->vcpus[0].stats.flush_acks);
	/* a vCPU outside guest mode is not waited for */
	vm_flush_remote_tlbs(m.vm);
	machine_down(&m);
}

/* Waits up to WATCHDOG_NS for *@flag; a liveness guard, not a timing
 * check: a protocol that never completes fails instead of hanging. */
#define WATCHDOG_NS (60ull * 1000 * 1000 * 1000)

static bool wait_flag(atomic_int *flag)
{
	uint64_t t0 = now_ns();

	while (!atomic_load_explicit(flag, memory_order_acquire))
		if (now_ns() - t0 > WATCHDOG_NS)
			return false;
		else
			sleep_ns(100 * 1000);
	return true;
}

/* Memslot updates with a vCPU running: see the top. */
struct update_test {
	struct vm *vm;
	/* Handshake flags: each a release store paired with the other
	 * thread's acquire load of it (wait_flag). */
	atomic_int faulted;    /* the vCPU faulted once, in guest mode */
	atomic_int go_offline; /* leave guest mode and idle */
	atomic_int offline;
	atomic_int finish;
	atomic_int update_done;
	int update_rc;
};

static void *update_vcpu(void *p)
{
	struct update_test *t = p;
	struct vcpu *v = &t->vm->vcpus[0];

	begin_or_die(v);	  /* in guest mode */
	vcpu_write_page(v, 0, 1); /* faults: a read section */
	atomic_store_explicit(&t->faulted, 1, memory_order_release);
	while (!atomic_load_explicit(&t->go_offline, memory_order_acquire)) {
		vcpu_exit_point(v);
		sleep_ns(1000);
	}
	vcpu_exit_guest(v); /* idles without exit points */
	atomic_store_explicit(&t->offline, 1, memory_order_release);
	while (!atomic_load_explicit(&t->finish, memory_order_acquire))
		sleep_ns(1000);
	vcpu_enter_guest(v);
	vcpu_write_page(v, 64, 2); /* faults through the newest table */
	vcpu_thread_end(v);
	return NULL;
}

static int same_slots(struct memslot_table *copy, void *arg)
{
	(void)arg;
	return memslot_table_set_flags(copy, copy->slots[0].id, copy->slots[0].flags);
}

static void *updater(void *p)
{
	struct update_test *t = p;

	t->update_rc = vm_update_memslots(t->vm, same_slots, NULL);
	atomic_store_explicit(&t->update_done, 1, memory_order_release);
	return NULL;
}

/* One update from another thread, with a watchdog. */
static void update_once(struct update_test *t, const char *protect, const char *while_what)
{
	pthread_t tu;
	uint64_t gen = t->vm->memslots->generation;

	/* relaxed: pthread_create, next, orders it */
	atomic_store_explicit(&t->update_done, 0, memory_order_relaxed);
	pthread_create(&tu, NULL, updater, t);
	if (!wait_flag(&t->update_done)) {
		printf("FAIL: %s: a memslot update did not complete while the vCPU %s\n", protect,
		       while_what);
		exit(1);
	}
	pthread_join(tu, NULL);
	CHECKF(t->update_rc == 0, "%s: memslot update failed (%d) while the vCPU %s", protect,
	       t->update_rc, while_what);
	/* the copy the update published, as vm->memslots */
	CHECKF(t->vm->memslots->generation > gen,
	       "%s: vm->memslots still generation %llu after an update", protect,
	       (unsigned long long)gen);
}

static void test_memslot_update(const char *protect)
{
	struct machine m;
	struct update_test t = { 0 };
	pthread_t tv;

	machine_up_protected(&m, "xchg", FAULT_PATH_LOCKED, 1, 2, protect);
	t.vm = m.vm;
	pthread_create(&tv, NULL, update_vcpu, &t);
	if (!wait_flag(&t.faulted)) {
		printf("FAIL: %s: the vCPU did not fault\n", protect);
		exit(1);
	}
	update_once(&t, protect, "ran exit points in guest mode");
	atomic_store_explicit(&t.go_offline, 1, memory_order_release);
	if (!wait_flag(&t.offline)) {
		printf("FAIL: %s: the vCPU did not leave guest mode\n", protect);
		exit(1);
	}
	update_once(&t, protect, "idled outside guest mode");
	atomic_store_explicit(&t.finish, 1, memory_order_release);
	pthread_join(tv, NULL);
	CHECKF(m.vm->memslots == memslot_protect_current(m.vm->memslots_protect),
	       "%s: vm->memslots is not the protection's current table", protect);
	CHECKF(m.vm->vcpus[0].stats.faults == 2, "%s: %llu faults, expected 2", protect,
	       (unsigned long long)m.vm->vcpus[0].stats.faults);
	printf("memslot update under %-12s ok\n", protect);
	machine_down(&m);
}

/* Logging off, on again, and a VM without a log (one thread). */
static void test_logging_on_off(const char *spec)
{
	struct machine m;
	struct vcpu *v;
	unsigned long *dirty;
	uint64_t npages, faults;
	bool initially_set = spec && strstr(spec, "initially-set=1");

	machine_up(&m, spec, FAULT_PATH_LOCKED, 1, 2);
	npages = m.vm->npages;
	dirty = bitmap_alloc_plain(npages);
	v = &m.vm->vcpus[0];
	begin_or_die(v);
	vcpu_exit_guest(v);
	if (spec) {
		/* what the strategy starts with */
		dirty_log_get(m.log, dirty, DIRTY_LOG_FINAL);
		dirty_log_clear(m.log, dirty);
		vm_disable_dirty_logging(m.vm);
	} else {
		CHECKF(vm_enable_dirty_logging(m.vm) != 0, "logging enabled on a VM without a log");
	}
	faults = vcpu_faults(v);
	for (uint64_t gfn = 0; gfn < npages; gfn++)
		vcpu_write_page(v, gfn, gfn);
	CHECKF(vcpu_faults(v) == faults, "%s (%s): %llu faults with logging off",
	       spec ? spec : "no log", test_mmu_name(),
	       (unsigned long long)(vcpu_faults(v) - faults));
	if (spec) {
		dirty_log_get(m.log, dirty, DIRTY_LOG_FINAL);
		dirty_log_clear(m.log, dirty);
		CHECKF(bitmap_weight(dirty, npages) == 0,
		       "%s: %llu pages reported with logging off", spec,
		       (unsigned long long)bitmap_weight(dirty, npages));
		CHECKF(vm_enable_dirty_logging(m.vm) == 0, "%s: cannot enable logging", spec);
		faults = vcpu_faults(v);
		for (uint64_t gfn = 0; gfn < npages; gfn++)
			vcpu_write_page(v, gfn, gfn + 1);
		CHECKF(vcpu_faults(v) - faults == (initially_set ? 0 : npages),
		       "%s (%s): %llu faults after enabling, expected %llu", spec, test_mmu_name(),
		       (unsigned long long)(vcpu_faults(v) - faults),
		       (unsigned long long)(initially_set ? 0 : npages));
		dirty_log_get(m.log, dirty, DIRTY_LOG_FINAL);
		dirty_log_clear(m.log, dirty);
		CHECKF(bitmap_weight(dirty, npages) == npages,
		       "%s: %llu pages reported after enabling, %llu written", spec,
		       (unsigned long long)bitmap_weight(dirty, npages),
		       (unsigned long long)npages);
	}
	vcpu_thread_end(v);
	free(dirty);
	machine_down(&m);
}

/* A vCPU blocked on a full ring shows in vm_log_space_wanted. */
struct space_test {
	struct vm *vm;
	atomic_int done; /* release by the vCPU, acquire by the test */
};

static void *space_vcpu(void *p)
{
	struct space_test *t = p;
	struct vcpu *v = &t->vm->vcpus[0];

	begin_or_die(v);
	for (uint64_t gfn = 0; gfn < 8; gfn++) /* ring of 16: soft-full after 8 */
		vcpu_write_page(v, gfn, 1);    /* the 8th exit point waits */
	vcpu_thread_end(v);
	atomic_store_explicit(&t->done, 1, memory_order_release);
	return NULL;
}

static void test_log_space_wanted(void)
{
	struct machine m;
	struct space_test t = { 0 };
	unsigned long *dirty;
	pthread_t tv;
	uint64_t t0 = now_ns();

	machine_up(&m, "dirty-ring:ring=16", FAULT_PATH_FAST, 1, 1);
	dirty = bitmap_alloc_plain(m.vm->npages);
	t.vm = m.vm;
	CHECKF(!vm_log_space_wanted(m.vm), "log space wanted before any vCPU ran");
	pthread_create(&tv, NULL, space_vcpu, &t);
	while (!vm_log_space_wanted(m.vm)) {
		if (now_ns() - t0 > WATCHDOG_NS) {
			printf("FAIL: a vCPU with a full ring never asked for log space\n");
			exit(1);
		}
		sleep_ns(100 * 1000);
	}
	CHECKF(!atomic_load_explicit(&t.done, memory_order_acquire),
	       "the vCPU finished with a full ring");
	dirty_log_get(m.log, dirty, 0);
	dirty_log_clear(m.log, dirty);
	if (!wait_flag(&t.done)) {
		printf("FAIL: the vCPU did not go on after a harvest freed its ring\n");
		exit(1);
	}
	pthread_join(tv, NULL);
	CHECKF(!vm_log_space_wanted(m.vm), "log space still wanted after the vCPU went on");
	CHECKF(m.vm->vcpus[0].stats.ring_full_exits == 1, "%llu ring-full exits, expected 1",
	       (unsigned long long)m.vm->vcpus[0].stats.ring_full_exits);
	CHECKF(bitmap_weight(dirty, m.vm->npages) == 8, "ring reported %llu pages, 8 pushed",
	       (unsigned long long)bitmap_weight(dirty, m.vm->npages));
	dirty_log_get(m.log, dirty, DIRTY_LOG_FINAL);
	dirty_log_clear(m.log, dirty);
	free(dirty);
	machine_down(&m);
}

/* The registry: built-ins in order, find, foreach, register, specs (a
 * strategy added to DIRTY_LOG_STRATEGIES passes it unchanged). */
static void test_registry(void)
{
	static const char *const names[] = { "srcu-swap",  "xchg",	"lock-copy-clear",
					     "atomic-and", "clear-log", "dirty-ring" };
	static const struct dirty_log_ops dup = { .name = "xchg" };
	const struct dirty_log_ops *o;
	struct dirty_log *log;
	char err[256];
	int i;

	/* the first built-ins, in their order; more may follow */
	dirty_log_foreach (o, i)
		CHECKF(i >= 6 || !strcmp(o->name, names[i]), "built-in %d is %s, not %s", i,
		       o->name, names[i]);
	CHECKF(i >= 6, "%d strategies", i);
	CHECKF(dirty_log_nth(-1) == NULL && dirty_log_nth(i) == NULL, "nth past the end");
	for (int k = 0; k < i; k++)
		CHECKF(dirty_log_find(dirty_log_nth(k)->name) == dirty_log_nth(k), "find %s",
		       dirty_log_nth(k)->name);
	CHECKF(dirty_log_find("xchg") == &dirty_log_xchg_ops, "find xchg");
	CHECKF(dirty_log_find("xchg:x=1") == NULL, "find takes a name, not a spec");
	CHECKF(dirty_log_register(&dup) == -EEXIST, "a taken name registered");
	log = dirty_log_create("clear-log:initially-set=1,chunk=128", NULL, err, sizeof(err));
	CHECKF(log && !strcmp(dirty_log_name(log), "clear-log") &&
		       !strcmp(dirty_log_spec(log), "clear-log:initially-set=1,chunk=128"),
	       "spec with options: %s", log ? dirty_log_spec(log) : err);
	dirty_log_free(log);
	CHECKF(!dirty_log_create("nope", NULL, err, sizeof(err)) &&
		       strstr(err, "unknown strategy") && strstr(err, "dirty-ring"),
	       "unknown name: %s", err);
	CHECKF(!dirty_log_create("xchg:x=1", NULL, err, sizeof(err)) &&
		       strstr(err, "takes no options"),
	       "an option to xchg: %s", err);
	CHECKF(!dirty_log_create("clear-log:chunk=100", NULL, err, sizeof(err)) &&
		       strstr(err, "multiple of 64"),
	       "a bad chunk: %s", err);
	CHECKF(!dirty_log_create("srcu-swap:wait", NULL, err, sizeof(err)) &&
		       strstr(err, "bad option"),
	       "an option without a value: %s", err);
}

/* A Linux strategy on the real MMU: the pages written are exactly the
 * pages reported, every round (the handler strategies fault once per page
 * and round; a kernel marker takes no fault that userspace sees). */
static void test_linux_harvest(const char *spec, enum fault_path path)
{
	static const uint64_t pages[] = { 0, 1, 63, 64, 65, 200, 255, 256, 300, 511 };
	const size_t n = sizeof(pages) / sizeof(pages[0]);
	struct machine m;
	unsigned long *dirty;
	struct vcpu *v;
	bool kernel;

	machine_up(&m, spec, path, 1, 2);
	kernel = dirty_log_mmu_kind(m.log) == DIRTY_LOG_MMU_KERNEL;
	dirty = bitmap_alloc_plain(m.vm->npages);
	v = &m.vm->vcpus[0];
	begin_or_die(v);
	vcpu_exit_guest(v);
	for (int round = 0; round < 3; round++) {
		uint64_t faults = vcpu_faults(v);

		for (size_t i = 0; i < n; i++) {
			vcpu_write_page(v, pages[i], (uint64_t)round + 1);
			vcpu_write_page(v, pages[i], (uint64_t)round + 2);
		}
		CHECKF(vcpu_faults(v) - faults == (kernel ? 0 : n),
		       "%s/%s round %d: %llu faults for %zu pages", spec, fault_path_names[path],
		       round, (unsigned long long)(vcpu_faults(v) - faults), n);
		CHECKF(dirty_log_get(m.log, dirty, 0) == 0 && dirty_log_clear(m.log, dirty) == 0,
		       "%s: a harvest failed", spec);
		CHECKF(bitmap_weight(dirty, m.vm->npages) == n,
		       "%s/%s round %d: %llu pages reported, %zu written", spec,
		       fault_path_names[path], round,
		       (unsigned long long)bitmap_weight(dirty, m.vm->npages), n);
		for (size_t i = 0; i < n; i++)
			CHECKF(bitmap_test(dirty, pages[i]), "%s: page %llu not reported", spec,
			       (unsigned long long)pages[i]);
	}
	CHECKF(dirty_log_get(m.log, dirty, DIRTY_LOG_FINAL) == 0 &&
		       bitmap_weight(dirty, m.vm->npages) == 0,
	       "%s: a harvest with nothing written reported %llu pages", spec,
	       (unsigned long long)bitmap_weight(dirty, m.vm->npages));
	vcpu_thread_end(v);
	free(dirty);
	machine_down(&m);
}

/* vm_pause_vcpus: a vCPU in guest mode leaves it at its next exit point
 * and stays out until vm_resume_vcpus (soft-dirty's harvest needs it). */
struct pause_test {
	struct vm *vm;
	atomic_int stop;   /* release by the test, acquire by the vCPU */
	atomic_int writes; /* relaxed: a count, it publishes nothing */
};

static void *pause_vcpu(void *p)
{
	struct pause_test *t = p;
	struct vcpu *v = &t->vm->vcpus[0];

	begin_or_die(v); /* in guest mode */
	while (!atomic_load_explicit(&t->stop, memory_order_acquire)) {
		vcpu_write_page(v, 0, 1); /* an exit point after each */
		atomic_fetch_add_explicit(&t->writes, 1, memory_order_relaxed);
	}
	vcpu_thread_end(v);
	return NULL;
}

static void test_pause(void)
{
	struct machine m;
	struct pause_test t = { 0 };
	pthread_t tv;
	int before;

	machine_up(&m, NULL, FAULT_PATH_LOCKED, 1, 1);
	t.vm = m.vm;
	pthread_create(&tv, NULL, pause_vcpu, &t);
	while (atomic_load_explicit(&t.writes, memory_order_relaxed) < 100)
		sleep_ns(1000);
	vm_pause_vcpus(m.vm);
	/* seq_cst: as vm_pause_vcpus' own loads of mode */
	CHECKF(atomic_load_explicit(&m.vm->vcpus[0].mode, memory_order_seq_cst) != VCPU_IN_GUEST,
	       "a paused vCPU is in guest mode");
	/* relaxed: a count; the pause's handshake orders the vCPU's last one */
	before = atomic_load_explicit(&t.writes, memory_order_relaxed);
	sleep_ns(20 * 1000 * 1000);
	CHECKF(atomic_load_explicit(&t.writes, memory_order_relaxed) <= before + 1,
	       "a paused vCPU went on writing (%d writes after the pause)",
	       atomic_load_explicit(&t.writes, memory_order_relaxed) - before);
	vm_resume_vcpus(m.vm);
	before = atomic_load_explicit(&t.writes, memory_order_relaxed);
	while (atomic_load_explicit(&t.writes, memory_order_relaxed) < before + 100)
		sleep_ns(1000);
	atomic_store_explicit(&t.stop, 1, memory_order_release);
	pthread_join(tv, NULL);
	machine_down(&m);
}

/* vm_mmu_plan's refusals, each one line. */
static void test_mmu_refusals(void)
{
	struct vm_options vo = { .nslots = 1, .nvcpus = 1, .mmu = VM_MMU_REAL };
	char err[512] = "", name[64] = "";

	CHECKF(vm_mmu_plan(&vo, GUEST_BACKING_ANONYMOUS_HUGETLB, 512, NULL, name, sizeof(name),
			   NULL, 0, err, sizeof(err)) == -EINVAL &&
		       strstr(err, "hugetlb") && !strchr(err, '\n'),
	       "hugetlb under the real MMU: %s", err);
	vo.mmu_wp = MMU_WP_MPROTECT;
	vo.fault_delivery = MMU_WP_THREAD;
	err[0] = 0;
	CHECKF(vm_mmu_plan(&vo, GUEST_BACKING_ANONYMOUS, 512, NULL, name, sizeof(name), NULL, 0,
			   err, sizeof(err)) == 0 &&
		       !strcmp(name, "real"),
	       "no log: nothing to protect: %s %s", name, err);
	vo.fault_delivery = MMU_WP_SIGNAL;
	vo.mmu = VM_MMU_SOFT;
	CHECKF(vm_mmu_plan(&vo, GUEST_BACKING_ANONYMOUS_HUGETLB, 512, NULL, name, sizeof(name),
			   NULL, 0, err, sizeof(err)) == 0 &&
		       !strcmp(name, "soft"),
	       "hugetlb under soft: %s", err);
}

/* The harvest and logging tests on the real MMU with each mechanism. */
static void test_real_mmu(void)
{
	static const struct {
		enum mmu_wp_mechanism wp;
		enum mmu_wp_delivery delivery;
	} mmus[] = {
		{ MMU_WP_UFFD, MMU_WP_SIGNAL },
		{ MMU_WP_UFFD, MMU_WP_THREAD },
		{ MMU_WP_MPROTECT, MMU_WP_SIGNAL },
	};
	const struct dirty_log_ops *o;
	char why[256];
	int i;

	for (size_t k = 0; k < ARRAY_SIZE(mmus); k++) {
		if (mmu_wp_probe(mmus[k].wp, mmus[k].delivery, why, sizeof(why))) {
			printf("SKIP: real MMU %s:%s: %s\n", mmu_wp_mechanism_names[mmus[k].wp],
			       mmu_wp_delivery_names[mmus[k].delivery], why);
			continue;
		}
		test_mmu.mmu = VM_MMU_REAL;
		test_mmu.wp = mmus[k].wp;
		test_mmu.delivery = mmus[k].delivery;
		dirty_log_foreach (o, i)
			if (o->mmu == DIRTY_LOG_MMU_SPTE)
				for (int p = 0; p < 2; p++)
					test_harvest(o->name, (enum fault_path)p);
		test_harvest("clear-log:initially-set=1,chunk=64", FAULT_PATH_FAST);
		test_harvest("srcu-swap:wait=call_srcu", FAULT_PATH_LOCKED);
		test_logging_on_off(NULL);
		test_logging_on_off("xchg");
		test_logging_on_off("dirty-ring");
		test_logging_on_off("clear-log:initially-set=1");
		printf("real MMU %-18s ok\n", test_mmu_name());
	}
	memset(&test_mmu, 0, sizeof(test_mmu));
}

/* Linux's own tracking: each strategy this kernel offers, on the real
 * MMU, with each fault delivery its mechanism takes. */
static void test_linux(void)
{
	const struct dirty_log_ops *o;
	struct dirty_log *log;
	char why[256];
	int i;

	dirty_log_foreach (o, i) {
		if (o->mmu == DIRTY_LOG_MMU_SPTE)
			continue;
		log = dirty_log_create(o->name, NULL, why, sizeof(why));
		if (!log || dirty_log_probe(log, why, sizeof(why))) {
			printf("SKIP: %s: %s\n", o->name, why);
			dirty_log_free(log);
			continue;
		}
		dirty_log_free(log);
		test_mmu.mmu = VM_MMU_REAL;
		for (int d = 0; d < 2; d++) {
			test_mmu.delivery = (enum mmu_wp_delivery)d;
			if (d == MMU_WP_THREAD && o->mmu == DIRTY_LOG_MMU_MPROTECT)
				continue;
			for (int p = 0; p < 2; p++)
				test_linux_harvest(o->name, (enum fault_path)p);
		}
		if (!strcmp(o->name, "uffd-wp-async"))
			test_linux_harvest("uffd-wp-async:unpopulated=1", FAULT_PATH_LOCKED);
		printf("%-14s on the real MMU ok\n", o->name);
	}
	memset(&test_mmu, 0, sizeof(test_mmu));
}

int main(void)
{
	const struct dirty_log_ops *o;
	int i;

	RUN(test_registry);
	RUN(test_backings);
	dirty_log_foreach (o, i)
		if (o->mmu == DIRTY_LOG_MMU_SPTE)
			for (int p = 0; p < 2; p++)
				test_harvest(o->name, (enum fault_path)p);
	for (int p = 0; p < 2; p++) {
		test_harvest("srcu-swap:wait=normal", (enum fault_path)p);
		test_harvest("srcu-swap:wait=call_srcu", (enum fault_path)p);
		test_harvest("clear-log:initially-set=1,chunk=64", (enum fault_path)p);
	}
	RUN(test_ring_soft_full);
	RUN(test_flush_waits);
	RUN(test_log_space_wanted);
	RUN(test_logging_on_off, NULL);
	RUN(test_logging_on_off, "xchg");
	RUN(test_logging_on_off, "dirty-ring");
	RUN(test_logging_on_off, "clear-log:initially-set=1");
	RUN(test_mmu_refusals);
	RUN(test_real_mmu);
	RUN(test_linux);
	RUN(test_pause);
	for (int k = 0; memslot_protect_names[k]; k++) {
		const char *name = memslot_protect_names[k];

#ifdef __SANITIZE_THREAD__
		/* liburcu is not instrumented: TSan cannot see its ordering */
		if (!strcmp(name, "urcu"))
			continue;
#endif
		for (int p = 0; p < 2; p++)
			test_harvest_protected("xchg", (enum fault_path)p, name);
		test_memslot_update(name);
	}
	return check_exit();
}
