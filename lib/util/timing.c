/* Calibrated busy waits. */
#include "lib/util/timing.h"

#include <errno.h>

void spin_for_ns(uint64_t ns)
{
	uint64_t end;

	if (ns == 0)
		return;
	end = now_ns() + ns;
	while (now_ns() < end)
		cpu_relax();
}

void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
