// The second round of the vmalloc family as free functions over `MemorySystem.shared`.

/// `set_memory_ro` on `MemorySystem.shared`.
public func set_memory_ro(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
    MemorySystem.shared.set_memory_ro(addr, numpages)
}
/// `set_memory_rw` on `MemorySystem.shared`.
public func set_memory_rw(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
    MemorySystem.shared.set_memory_rw(addr, numpages)
}
/// `set_memory_x` on `MemorySystem.shared`.
public func set_memory_x(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
    MemorySystem.shared.set_memory_x(addr, numpages)
}
/// `set_memory_nx` on `MemorySystem.shared`.
public func set_memory_nx(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
    MemorySystem.shared.set_memory_nx(addr, numpages)
}
/// `set_vm_flush_reset_perms` on `MemorySystem.shared`.
public func set_vm_flush_reset_perms(_ addr: UnsafeMutableRawPointer) {
    MemorySystem.shared.set_vm_flush_reset_perms(addr)
}
/// `vfree_atomic` on `MemorySystem.shared`.
public func vfree_atomic(_ p: UnsafeMutableRawPointer?) { MemorySystem.shared.vfree_atomic(p) }
/// `kvfree_rcu` on `MemorySystem.shared`.
public func kvfree_rcu(_ p: UnsafeMutableRawPointer?) { MemorySystem.shared.kvfree_rcu(p) }
/// `synchronize_rcu`: wait for a grace period (the same for every system).
public func synchronize_rcu() { MemorySystem.shared.synchronize_rcu() }
/// `rcu_barrier`: wait for every queued `kvfree_rcu` (the same for every system).
public func rcu_barrier() { MemorySystem.shared.rcu_barrier() }
