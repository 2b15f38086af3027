/*
 * userfaultfd plumbing (see uffd.h).  The ABI is documented in the kernel's
 * Documentation/admin-guide/mm/userfaultfd.rst and ioctl_userfaultfd(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/mmu/uffd.h"

const char *uffd_feature_since(uint64_t feature)
{
	switch (feature) {
	case UFFD_FEATURE_PAGEFAULT_FLAG_WP:
		return "Linux 5.7";
	case UFFD_FEATURE_SIGBUS:
		return "Linux 4.14";
	case UFFD_FEATURE_THREAD_ID:
		return "Linux 4.14";
	case UFFD_FEATURE_WP_HUGETLBFS_SHMEM:
		return "Linux 5.19";
	case UFFD_FEATURE_WP_UNPOPULATED:
		return "Linux 6.4";
	case UFFD_FEATURE_WP_ASYNC:
		return "Linux 6.7";
	default:
		return "a newer kernel";
	}
}

/*
 * A raw userfaultfd.  Without UFFD_USER_MODE_ONLY first: then faults that
 * the kernel itself takes on the range (a read(2) into guest memory) are
 * handled too, as postcopy needs.  A process without CAP_SYS_PTRACE under
 * vm.unprivileged_userfaultfd=0 gets EPERM for that, and may still have a
 * user-mode-only one (Linux 5.11).
 */
static int uffd_syscall(char *err, size_t errlen)
{
#ifdef SYS_userfaultfd
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && errno == EPERM)
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd >= 0)
		return fd;
	if (errno == ENOSYS) {
		snprintf(err, errlen,
			 "userfaultfd: not built into this kernel (CONFIG_USERFAULTFD)");
		return -ENOSYS;
	}
	if (errno == EPERM) {
		snprintf(err, errlen,
			 "userfaultfd: not permitted (vm.unprivileged_userfaultfd=0,"
			 " no CAP_SYS_PTRACE, and UFFD_USER_MODE_ONLY needs Linux 5.11)");
		return -EPERM;
	}
	int e = errno;
	snprintf(err, errlen, "userfaultfd: %s", strerror(e));
	return -e;
#else
	snprintf(err, errlen, "userfaultfd: no such system call on this architecture");
	return -ENOSYS;
#endif
}

/* A userfaultfd after the UFFDIO_API handshake asking for @api->features
 * (the kernel writes back what it offers), or -errno with one line in @err
 * (@features_in_err: the line names the features asked for). */
static int uffd_api(struct uffdio_api *api, bool features_in_err, char *err, size_t errlen)
{
	uint64_t asked = api->features;
	int fd = uffd_syscall(err, errlen);

	if (fd < 0)
		return fd;
	if (ioctl(fd, UFFDIO_API, api)) {
		int e = errno;

		close(fd);
		if (features_in_err)
			snprintf(err, errlen, "userfaultfd: UFFDIO_API with features 0x%llx: %s",
				 (unsigned long long)asked, strerror(e));
		else
			snprintf(err, errlen, "userfaultfd: UFFDIO_API: %s", strerror(e));
		return -e;
	}
	return fd;
}

int uffd_features(uint64_t *features, char *err, size_t errlen)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	/* with no features asked, the kernel answers with all it offers */
	int fd = uffd_api(&api, false, err, errlen);

	if (fd < 0)
		return fd;
	close(fd);
	*features = api.features;
	return 0;
}

int uffd_open(uint64_t features, char *err, size_t errlen)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };

	return uffd_api(&api, true, err, errlen);
}

int uffd_register_wp(int fd, void *addr, uint64_t len, char *err, size_t errlen)
{
	struct uffdio_register reg = {
		.range = { .start = (uint64_t)(uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	if (ioctl(fd, UFFDIO_REGISTER, &reg)) {
		int e = errno;

		snprintf(err, errlen,
			 "userfaultfd: UFFDIO_REGISTER (write-protect) of %llu bytes: %s",
			 (unsigned long long)len, strerror(e));
		return -e;
	}
	if (!(reg.ioctls & (1ull << _UFFDIO_WRITEPROTECT))) {
		uffd_unregister(fd, addr, len);
		snprintf(err, errlen,
			 "userfaultfd: UFFDIO_WRITEPROTECT not offered on this range (backing?)");
		return -EOPNOTSUPP;
	}
	return 0;
}

int uffd_unregister(int fd, void *addr, uint64_t len)
{
	struct uffdio_range r = { .start = (uint64_t)(uintptr_t)addr, .len = len };

	return ioctl(fd, UFFDIO_UNREGISTER, &r) ? -errno : 0;
}

int uffd_writeprotect(int fd, uint64_t addr, uint64_t len, int wp, int dontwake)
{
	struct uffdio_writeprotect w = {
		.range = { .start = addr, .len = len },
		.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP
			   : (dontwake ? UFFDIO_WRITEPROTECT_MODE_DONTWAKE : 0),
	};

	/* EAGAIN: the mm's layout was changing (mmap_changing, e.g. a fork or
	 * mremap with a uffd event in flight); retry */
	while (ioctl(fd, UFFDIO_WRITEPROTECT, &w)) {
		if (errno != EAGAIN)
			return -errno;
	}
	return 0;
}

int uffd_wake(int fd, uint64_t addr, uint64_t len)
{
	struct uffdio_range r = { .start = addr, .len = len };

	return ioctl(fd, UFFDIO_WAKE, &r) ? -errno : 0;
}
