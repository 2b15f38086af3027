/*
 * The suite's pseudo-random numbers: xorshift64* seeded through splitmix64
 * (Vigna), one state word per thread.  Fast enough for a vCPU's page choice
 * on the hot path; not for anything that needs real randomness.  A library
 * would add a dependency for eight lines.
 */
#ifndef DLBENCH_UTIL_RNG_H
#define DLBENCH_UTIL_RNG_H

#include <stdint.h>

/* A well-mixed, never-zero state from any seed (and a stream number, so
 * that threads seeded from one seed draw independent sequences). */
static inline uint64_t rng_seed(uint64_t seed, uint64_t stream)
{
	uint64_t z = seed + (stream + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 0x2545f4914f6cdd1dull;
}

/* The next number of the sequence in *@s (never zero state). */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* A number in [0, @n), @n > 0 (multiply-shift: no division). */
static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}

/* A fixed hash of @x (splitmix64's finaliser): the same input gives the
 * same output in every run, for choices that must not depend on a seed. */
static inline uint64_t rng_hash(uint64_t x)
{
	return rng_seed(x, 0);
}

#endif
