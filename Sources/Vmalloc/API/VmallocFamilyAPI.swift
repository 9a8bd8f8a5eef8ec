// The vmalloc family beyond allocation and free — `set_memory_*`, `vrealloc`, `vfree_atomic`,
// the RCU frees — as methods of a MemorySystem that forward to the subsystem owning the state,
// and as free functions over `MemorySystem.shared`.

extension MemorySystem {
    /// Make `numpages` pages from `addr` read-only (`set_memory_ro`). 0, or -EINVAL unless they
    /// are whole pages of one live vmalloc or vmap area (nothing changes).
    public func set_memory_ro(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
        space.setMemory(addr, numpages, set: [], clear: .write)
    }
    /// Make pages writable again (`set_memory_rw`); errors as `set_memory_ro`.
    public func set_memory_rw(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
        space.setMemory(addr, numpages, set: .write, clear: [])
    }
    /// Make pages executable (`set_memory_x`); errors as `set_memory_ro`.
    public func set_memory_x(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
        space.setMemory(addr, numpages, set: .exec, clear: [])
    }
    /// Make pages non-executable (`set_memory_nx`); errors as `set_memory_ro`.
    public func set_memory_nx(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
        space.setMemory(addr, numpages, set: [], clear: .exec)
    }

    /// Mark the vmalloc or vmap area containing `addr` `VM_FLUSH_RESET_PERMS`
    /// (`set_vm_flush_reset_perms`): its `vfree`/`vunmap` then resets its permissions and unmaps
    /// it at once rather than lazily. An address outside such an area is reported and ignored.
    public func set_vm_flush_reset_perms(_ addr: UnsafeMutableRawPointer) { space.setFlushResetPerms(addr) }

    /// Resize a vmalloc allocation keeping its content (`vrealloc`): in place when the area's
    /// pages cover `size`, else moved to a new area; size 0 frees and returns nil; nil p
    /// allocates. On failure p stays valid and nil is returned.
    public func vrealloc(
        _ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        vreallocNode(p, size, gfp, site: CallSite(file: file, line: line))
    }

    /// `vrealloc` for the C surface, which names its caller by return address. Inlined into
    /// `vrealloc`, as KVmalloc's `vreallocNode` and the space's in-place resize are in turn: most
    /// calls are then one function under the caller's, not three.
    @inline(__always)
    package func vreallocNode(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
        -> UnsafeMutableRawPointer?
    {
        kv.vreallocNode(p, size, gfp, site: site)
    }

    /// Free a vmalloc area from any context (`vfree_atomic`): takes none of the locks `vfree`
    /// takes; the free runs soon after on a worker thread. nil is a no-op; a pointer `vfree`
    /// would refuse is reported by the worker and changes nothing.
    public func vfree_atomic(_ p: UnsafeMutableRawPointer?) { VfreeDeferred.shared.push(p, to: kv) }
}

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
/// `vrealloc` on `MemorySystem.shared`.
public func vrealloc(
    _ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line
) -> UnsafeMutableRawPointer? {
    MemorySystem.shared.vrealloc(p, size, gfp, file: file, line: line)
}
/// `vfree_atomic` on `MemorySystem.shared`.
public func vfree_atomic(_ p: UnsafeMutableRawPointer?) { MemorySystem.shared.vfree_atomic(p) }
/// `kvfree_rcu` on `MemorySystem.shared`.
public func kvfree_rcu(_ p: UnsafeMutableRawPointer?) { MemorySystem.shared.kvfree_rcu(p) }
/// `synchronize_rcu`: wait for a grace period (the same for every system).
public func synchronize_rcu() { MemorySystem.shared.synchronize_rcu() }
/// `rcu_barrier`: wait for every queued `kvfree_rcu` (the same for every system).
public func rcu_barrier() { MemorySystem.shared.rcu_barrier() }
