/*
 * Small language helpers used across the suite, defined once.
 */
#ifndef DLBENCH_UTIL_COMPILER_H
#define DLBENCH_UTIL_COMPILER_H

#include <stddef.h>

/* The cache-line size the suite pads shared data to. */
#define CACHELINE 64

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The structure of type @type whose member @member is at @ptr. */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#endif
