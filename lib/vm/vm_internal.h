/*
 * What lib/vm/vm.c (the VM, its vCPUs and the KVM write-fault path) and
 * lib/vm/vm_real.c (the real MMU: page tables, fault dispatch, floors)
 * share.  Internal to lib/vm.
 */
#ifndef DLBENCH_VM_INTERNAL_H
#define DLBENCH_VM_INTERNAL_H

#include "lib/vm/vm.h"

/* vm_real.c: sets up the MMU of @o for @log (NULL: none) on @vm, whose
 * memory, slots, vCPUs and memslot protection exist; 0 or -errno with one
 * line in @err.  vm_real_destroy undoes it (before the memslot protection
 * goes: the handler thread is one of its readers). */
int vm_real_create(struct vm *vm, const struct vm_options *o, const struct dirty_log *log,
		   char *err, size_t errlen);
void vm_real_destroy(struct vm *vm);

/* vm_real.c: every page writable in the page tables (logging off; no vCPU
 * in guest mode); an error is kept in vm->mmu_error. */
void vm_real_unprotect_all(struct vm *vm);

/* vm_real.c: the vCPU thread's registration for its real faults. */
int vm_real_thread_begin(struct vcpu *v, char *err, size_t errlen);
void vm_real_thread_end(struct vcpu *v);

/* vm.c: the KVM write-fault path of @v at @gfn, with the memslot reader
 * and the kvm->srcu reader of the thread it runs on (@v's own, or the
 * handler thread's): a read section of kvm->srcu around the memslot read
 * side and the locked or fast path.  No accounting. */
void vcpu_fault_body(struct vcpu *v, uint64_t gfn, struct memslot_reader *r,
		     struct srcu_reader *sr);

#endif
