// The per-CPU allocator's kernel-spelled entry points (include/linux/percpu.h), package-visible:
// the C surface's `__alloc_percpu`, `free_percpu`, `per_cpu_ptr` and `nr_cpu_ids` call them.

extension MemorySystem {
    /// Possible CPUs, each with its own copy of every per-CPU allocation (`nr_cpu_ids`).
    package var nrCPUIds: Int { PerCPUAllocator.nrPossibleCPUs }

    /// Bytes from unit 0's copy of a per-CPU allocation to CPU `cpu`'s (`per_cpu_offset`).
    package func perCPUOffset(_ cpu: Int) -> Int { cpu * PerCPUAllocator.unitSize }

    /// `size` bytes aligned to `align` for every possible CPU, each copy zeroed; the handle is
    /// unit 0's copy (`__alloc_percpu`). Size 0, above 32 KiB (`PCPU_MIN_UNIT_SIZE`), or an
    /// alignment that is not a power of two up to a page: nil and a warning once per call site.
    package func __alloc_percpu(_ size: Int, _ align: Int, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        percpu.allocate(size: size, align: align, site: CallSite(file: file, line: line))
    }

    /// Free a per-CPU allocation (`free_percpu`); nil is a no-op, any other pointer that is not
    /// a live allocation's handle warns and changes nothing.
    package func free_percpu(_ p: UnsafeMutableRawPointer?) { percpu.free(p) }

    /// CPU `cpu`'s copy of the per-CPU allocation `p` (`per_cpu_ptr`).
    package func per_cpu_ptr(_ p: UnsafeMutableRawPointer, _ cpu: Int) -> UnsafeMutableRawPointer {
        precondition(cpu >= 0 && cpu < nrCPUIds, "per_cpu_ptr: cpu \(cpu) outside 0..<\(nrCPUIds) (nr_cpu_ids)")
        return p + perCPUOffset(cpu)
    }
}
