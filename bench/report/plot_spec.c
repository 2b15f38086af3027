/* The plots `dlbench plot` knows, with how to read each: see plot_spec.h. */
#include "bench/report/plot_spec.h"

#include <string.h>

/* Panels: one per fault path (and MMU mode, where a run has both). */
#define FAULT_FACETS "fault_path,mmu"

/* clang-format off */
const struct plot_spec plot_specs[] = {
	{ .name = "getlog-vs-size",
	  .script = "getlog-size",
	  .workload = "dirty-log",
	  .kind = PLOT_XY,
	  .title = "get-log time against guest size (dirty-log, iterations after the first)",
	  .x = "vcpus*bytes_per_vcpu",
	  .y = "get_log_ns",
	  .series = "strategy",
	  .filter = "mode=iteration iteration!=1",
	  .pool = "iteration",
	  .facet = FAULT_FACETS,
	  .how = "Each line is one dirty-log strategy, one panel per fault path; the panels "
		 "share the y axis. A point is the median get-log time of every iteration "
		 "after the first over all repetitions, and its bar the 95% bootstrap "
		 "interval of that median. Both axes are logarithmic: a line with slope 1 "
		 "costs in proportion to the guest's memory (a walk over the whole bitmap or "
		 "slot), a flatter one has a fixed part (a grace period, a kick) that the "
		 "size does not change. In iteration mode every page is written between two "
		 "harvests, so this is the fully dirty case; clear-log's get only copies the "
		 "bitmap, and its write-protection is in clear-log time instead." },
	{ .name = "harvest-getlog-vs-size",
	  .script = "getlog-size",
	  .workload = "harvest",
	  .kind = PLOT_XY,
	  .title = "get-log time against slot size, fully dirty slot (harvest)",
	  .x = "slot_bytes",
	  .y = "get_log_ns",
	  .series = "strategy",
	  .filter = "dirty_percent=100",
	  .ref = REF_FLOOR,
	  .floor = "floor_ns",
	  .facet = FAULT_FACETS,
	  .how = "One get-log call on one slot with every page dirty, against the slot's "
		 "size, one line per strategy. The dashed black line is the floor measured "
		 "in the same run: a bare loop that reads the bitmap and write-protects each "
		 "dirty page, the least work any strategy has to do. The height of a line "
		 "above the floor is what its synchronization costs: the grace period of "
		 "srcu-swap, an atomic exchange per word for xchg, the copy for "
		 "lock-copy-clear. A line parallel to the floor pays the same per page plus "
		 "a fixed cost; one that converges on it pays a fixed cost only." },
	{ .name = "harvest-getlog-vs-dirty",
	  .script = "getlog-dirty",
	  .workload = "harvest",
	  .kind = PLOT_XY,
	  .title = "get-log time against pages dirty (harvest)",
	  .x = "dirty_percent",
	  .y = "get_log_ns",
	  .series = "strategy",
	  .ref = REF_FLOOR,
	  .floor = "floor_ns",
	  .facet = "slot_bytes," FAULT_FACETS,
	  .how = "One panel per slot size, sharing the y axis; one line per strategy; the "
		 "dashed black line is the floor (read the bitmap, write-protect each dirty "
		 "page). The x axis is stretched near 0 so that 0, 1 and 10% stay apart. At "
		 "0% dirty only a strategy's fixed cost remains (srcu-swap's grace period, a "
		 "walk over an empty bitmap); as the share grows, write-protecting pages "
		 "takes over and the lines join the floor. This is the 2012 argument: xchg "
		 "wins where few pages are dirty because it waits for no grace period, and "
		 "srcu-swap catches up only when nearly every page is dirty. Where two lines "
		 "cross is the crossover share. clear-log's get-log only copies the bitmap, "
		 "so it stays flat. Bars are 95% bootstrap intervals of the median." },
	{ .name = "getlog-vs-writes",
	  .script = "getlog-dirty",
	  .workload = "dirty-log",
	  .kind = PLOT_XY,
	  .title = "get-log time against write percentage (dirty-log, iterations after the first)",
	  .x = "write_percent",
	  .y = "get_log_ns",
	  .series = "strategy",
	  .filter = "mode=iteration iteration!=1",
	  .pool = "iteration",
	  .facet = FAULT_FACETS,
	  .how = "get-log time per harvest against the share of guest accesses that write "
		 "(the rest read), one line per strategy and one panel per fault path. "
		 "Fewer writes mean fewer dirty pages per harvest: a strategy whose cost "
		 "follows the dirty pages (dirty-ring, xchg's per-word masks) falls with the "
		 "write share, one that walks the whole bitmap or waits a grace period stays "
		 "up. Bars are 95% bootstrap intervals of the median over iterations after "
		 "the first and repetitions." },
	{ .name = "stall-spectrum",
	  .script = "stall-spectrum",
	  .workload = "dirty-log",
	  .kind = PLOT_SPECTRUM,
	  .title = "vCPU stall percentiles, continuous harvesting (dirty-log)",
	  .y = "stall_p50_ns,stall_p99_ns,stall_p999_ns,stall_max_ns",
	  .series = "strategy",
	  .filter = "mode=continuous",
	  .pool = "iteration",
	  .facet = FAULT_FACETS,
	  .how = "What a guest feels while the harvester keeps collecting the log: a vCPU's "
		 "stall (time in the write-fault path plus time waiting for ring space or "
		 "in a pause) at each percentile, p50 on the left to the maximum on the "
		 "right, one line per strategy and one panel per fault path. The left end "
		 "is the common fault; the right end is a vCPU caught by a harvest (spinning "
		 "on mmu_lock while the harvester holds it, or paused by soft-dirty's "
		 "read and clear). Two strategies with the same p50 can differ by orders of "
		 "magnitude at p99.9: compare the right ends. On 2 CPUs the maximum also "
		 "holds scheduler preemptions. Bars are 95% bootstrap intervals of the "
		 "median over repetitions." },
	{ .name = "dirty-pass-vs-vcpus",
	  .script = "dirty-pass-vcpus",
	  .workload = "dirty-log",
	  .kind = PLOT_XY,
	  .title = "dirty-pass time against vCPUs (dirty-log, iterations after the first)",
	  .x = "vcpus",
	  .y = "dirty_pass_ns",
	  .series = "strategy",
	  .filter = "mode=iteration iteration!=1",
	  .pool = "iteration",
	  .ref = REF_FLOOR,
	  .floor = "floor_pass_ns",
	  .facet = FAULT_FACETS,
	  .how = "Time for every vCPU to write its own region once, against the number of "
		 "vCPUs, one line per strategy and one panel per fault path. The dashed "
		 "black line is the floor: the same loop with dirty tracking off. Each vCPU "
		 "has a region of the same size, so perfect scaling is a flat line; a line "
		 "that rises shows contention between vCPUs (mmu_lock on the locked path, "
		 "a lock around memslot lookups, shared cache lines) or more vCPUs than "
		 "CPUs, where time-sharing alone doubles the time. The gap between a line "
		 "and the floor is the cost of the write faults that dirty tracking takes. "
		 "The y axis is logarithmic: the panels share it, and a real-MMU pass is "
		 "two orders of magnitude longer than a soft one." },
	{ .name = "memslot-lookups-vs-readers",
	  .script = "memslot-lookups",
	  .workload = "memslot",
	  .kind = PLOT_XY,
	  .title = "memslot lookups per second (all readers) against readers",
	  .x = "readers",
	  .y = "lookups_per_s*readers",
	  .series = "protection",
	  .filter = "mode=move-active",
	  .facet = "update_rate",
	  .pool = "lookups_per_s_min,lookups_per_s_max",
	  .ref = REF_LINEAR,
	  .how = "Memslot lookups per second summed over all reader threads against the "
		 "number of readers, one line per read protection, while one updater moves "
		 "a slot (1000 times a second in quick.ini). The dashed line is perfect "
		 "linear scaling of the best protection at the fewest readers. floor is the "
		 "same reader loop with no protection at all, so the gap between a line and "
		 "floor is what the protection costs. rwlock and mutex fall as readers are "
		 "added, because every lookup writes the lock's shared cache line: the "
		 "slots_lock cost from the 2009 vmexit profiles. rwlock-cond, which takes "
		 "the lock only when the updater asks, and the RCU flavours keep scaling. "
		 "On 2 CPUs the updater shares a CPU with a reader, so grace periods stay "
		 "in the figure." },
	{ .name = "memslot-update-cdf",
	  .script = "latency-cdf",
	  .workload = "memslot",
	  .kind = PLOT_CDF,
	  .title = "memslot update latency CDF, move-active at 1000 updates/s",
	  .hist = "*-u1000-move-active-*-update",
	  .hist_label = "^(.*)-v([0-9]+)-u[0-9]+-[a-z-]+-[a-z]+-r[0-9]+-update$",
	  .hist_facet = 2,
	  .facet_name = "readers",
	  .how = "The distribution of one memslot update's latency (copy the table, "
		 "publish it, wait until no reader can hold the old one), one step line per "
		 "protection and one panel per number of readers. A point (x, y) says that "
		 "a fraction y of the updates took x or less: further left is faster, and a "
		 "line that reaches 1 late has a long tail. Lock-based protections wait for "
		 "readers to drop the lock; SRCU and liburcu wait for a grace period, which "
		 "stretches when readers outnumber CPUs. The histograms of every repetition "
		 "are merged." },
	{ .name = "srcu-read-pair",
	  .script = "srcu-read-pair",
	  .workload = "srcu",
	  .kind = PLOT_XY,
	  .title = "read-side cost of one lock/unlock pair against readers",
	  .x = "readers",
	  .y = "read_pair_ns",
	  .series = "primitive",
	  .filter = "gp_kind=none",
	  .facet = "loop,critical_section_ns",
	  .how = "The cost of one read-side lock and unlock, per reader thread, against "
		 "the number of reader threads, one line per primitive. A flat line scales: "
		 "SRCU and liburcu keep per-thread counters, so readers never share a cache "
		 "line. A rising line is a shared cache line bouncing between CPUs (rwlock, "
		 "mutex, refcount). srcu-mb pays a full fence in each lock and unlock; "
		 "srcu-fast has none and makes the updater pay with membarrier instead. "
		 "One panel per read loop: plain is the lock/unlock pair alone; rcutorture "
		 "also dereferences and checks a protected pointer per read, as liburcu's "
		 "rcutorture read test does. The figure is wall-clock time per pair. "
		 "Bars are 95% bootstrap intervals of the median over repetitions." },
	{ .name = "srcu-gp-percentiles",
	  .script = "gp-percentiles",
	  .workload = "srcu",
	  .kind = PLOT_SPECTRUM,
	  .title = "grace-period latency percentiles, readers idle",
	  .y = "gp_p50_ns,gp_p99_ns,gp_max_ns",
	  .series = "primitive",
	  .facet = "gp_kind",
	  .nolabel = "idle_fast_path",
	  .filter = "gp_kind!=none readers_state=idle idle_fast_path!=0",
	  .how = "How long an updater waits for a grace period when no reader is inside a "
		 "read section, at p50, p99 and the maximum, one line per primitive and one "
		 "panel per kind of wait (synchronize, expedited, call: from call_srcu to "
		 "its callback). With no reader to wait for, this is the primitive's own "
		 "cost: the fences or membarrier calls and the index flip; SRCU's idle fast "
		 "path returns without a flip. Compare it with the busy CDF to see what "
		 "waiting for readers adds." },
	{ .name = "srcu-gp-cdf-idle",
	  .script = "latency-cdf",
	  .workload = "srcu",
	  .kind = PLOT_CDF,
	  .title = "grace-period latency CDF, readers idle",
	  .hist = "gp-*-sync-idle,gp-*-expedited-idle",
	  .hist_label = "^gp-(.*)-(sync|expedited)-idle$",
	  .hist_facet = 2,
	  .facet_name = "wait",
	  .how = "The distribution of grace-period latency with readers registered but "
		 "idle, one step line per primitive and one panel per kind of wait "
		 "(synchronize or expedited). A point (x, y): a fraction y of the grace "
		 "periods took x or less. The left edge is the cheapest grace period a "
		 "primitive can give; a long flat stretch before 1 is a tail of slow ones "
		 "(a sleep in the wait loop, the updater preempted on 2 CPUs)." },
	{ .name = "srcu-gp-cdf-busy",
	  .script = "latency-cdf",
	  .workload = "srcu",
	  .kind = PLOT_CDF,
	  .title = "grace-period latency CDF, readers busy",
	  .hist = "gp-*-sync-busy,gp-*-expedited-busy",
	  .hist_label = "^gp-(.*)-(sync|expedited)-busy$",
	  .hist_facet = 2,
	  .facet_name = "wait",
	  .how = "The same distribution while readers run read sections back to back: a "
		 "grace period must now wait for the sections in flight to end. The shift "
		 "from the idle CDF is the cost of waiting for readers; a step shape shows "
		 "the wait loop's back-off (spins, then sleeps). Expedited waits poll "
		 "without sleeping and should sit to the left of synchronize." },
	{ .name = "vcpu-array-visit",
	  .script = "vcpu-array-visit",
	  .workload = "vcpu-array",
	  .kind = PLOT_XY,
	  .title = "kick-all pass cost per vCPU visited against vCPUs",
	  .x = "vcpus",
	  .y = "visit_ns_per_vcpu",
	  .series = "strategy",
	  .how = "The cost of a pass over every vCPU (kvm_for_each_vcpu, as a kick-all "
		 "does) divided by the vCPUs it visited, against the number of vCPUs, while "
		 "a creator keeps adding vCPUs; one line per array strategy. fixed, the "
		 "static array, is the floor: one load per vCPU. rcu adds one dereference "
		 "of the array per pass, chunked and radix an indirection per chunk or "
		 "level. Lower is better; a flat line means the per-vCPU cost does not grow "
		 "with the array. Bars are 95% bootstrap intervals of the median." },
	{ .name = "rmap-walks",
	  .script = "rmap-walks",
	  .workload = "rmap",
	  .kind = PLOT_XY,
	  .title = "rmap write-protect walks per second against writer threads",
	  .x = "writers",
	  .y = "walks_per_s",
	  .series = "walker",
	  .how = "Write-protect walks of a gfn's rmap per second against the number of "
		 "writer threads that add and remove sptes, one line per walker; higher is "
		 "better. The locked walker takes mmu_lock and so queues behind the "
		 "writers; the lockless walkers run beside them and restart when the nulls "
		 "marker at the end of a list names another list (their descriptor moved "
		 "mid-walk); lockless-pos encodes positions so a walk always reaches the "
		 "last descriptor. On 2 CPUs a walker and more than one writer overcommit "
		 "the machine. Bars are 95% bootstrap intervals of the median." },
};
/* clang-format on */

const size_t plot_nspecs = sizeof(plot_specs) / sizeof(plot_specs[0]);

int plot_in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',' || p[-1] == '*') &&
		    (p[n] == 0 || p[n] == ',' || p[n] == '*'))
			return 1;
	return 0;
}
