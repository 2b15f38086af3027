/*
 * userfaultfd plumbing shared by the real MMU (lib/mmu/mmu_real.c) and
 * Linux's own dirty tracking (lib/mmu/linux_dirty.c): opening a uffd with
 * a set of features, registering a range for write-protect, and
 * UFFDIO_WRITEPROTECT.  Internal to lib/mmu.
 */
#ifndef DLBENCH_MMU_UFFD_H
#define DLBENCH_MMU_UFFD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/mmu/uffd_abi.h"

/* The features this kernel's userfaultfd offers (a throw-away uffd and the
 * UFFDIO_API handshake with no features asked).  0, or -errno with one
 * line in @err saying why there is no userfaultfd (not built, not
 * permitted). */
int uffd_features(uint64_t *features, char *err, size_t errlen);

/* A userfaultfd (O_CLOEXEC | O_NONBLOCK; user-mode faults only where the
 * kernel allows it) whose UFFDIO_API handshake enabled @features.  The fd,
 * or -errno with one line in @err. */
int uffd_open(uint64_t features, char *err, size_t errlen);

/* UFFDIO_REGISTER of [addr, addr + len) with UFFDIO_REGISTER_MODE_WP;
 * checks that UFFDIO_WRITEPROTECT is among the ioctls it allows. */
int uffd_register_wp(int fd, void *addr, uint64_t len, char *err, size_t errlen);
int uffd_unregister(int fd, void *addr, uint64_t len);

/* UFFDIO_WRITEPROTECT of [addr, addr + len): @wp true write-protects (the
 * kernel flushes the TLB of every CPU that may cache the old entries);
 * false un-protects and, unless @dontwake, wakes threads blocked on a
 * write-protect fault in the range.  0 or -errno; async-signal-safe. */
int uffd_writeprotect(int fd, uint64_t addr, uint64_t len, int wp, int dontwake);

/* UFFDIO_WAKE of [addr, addr + len): wakes threads blocked on a fault in
 * the range.  0 or -errno; async-signal-safe. */
int uffd_wake(int fd, uint64_t addr, uint64_t len);

/* "Linux 6.7" for a feature bit this suite uses, for messages. */
const char *uffd_feature_since(uint64_t feature);

#endif
