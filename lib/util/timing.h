/* Time in nanoseconds and calibrated busy waits. */
#ifndef DLBENCH_TIMING_H
#define DLBENCH_TIMING_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns.  On Linux x86-64 this is a vDSO call (~20 ns);
 * hot loops take it once per batch, never per access. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A pause hint for spin loops (PAUSE on x86, YIELD on arm64). */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Busy-waits about @ns nanoseconds without a system call per iteration:
 * used to give read sections and vCPU "guest work" a length. */
void spin_for_ns(uint64_t ns);

/* Sleeps @ns nanoseconds (nanosleep, restarted on EINTR). */
void sleep_ns(uint64_t ns);

#endif
