import CVmallocKernel
import Vmalloc

// Per-CPU memory behind <linux/percpu.h> (mm/percpu.c): an allocation is the address of its
// unit-0 copy; CPU c's copy lies vmc_per_cpu_offset(c) bytes further.

@c @implementation
public func vmc_alloc_percpu(_ size: Int, _ align: Int) -> UnsafeMutableRawPointer? {
    system.__alloc_percpu(size, align)
}

@c @implementation
public func vmc_free_percpu(_ p: UnsafeMutableRawPointer?) { system.free_percpu(p) }

@c @implementation
public func vmc_per_cpu_offset(_ cpu: Int32) -> UInt { UInt(system.perCPUOffset(Int(cpu))) }

@c @implementation
public func vmc_nr_cpu_ids() -> Int32 { Int32(system.nrCPUIds) }
