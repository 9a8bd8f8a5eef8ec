import CShim
import CURCU
import Glibc
import Vmalloc

/// `malloc`/`free` of whatever allocator the process has: glibc in the harness, jemalloc or
/// mimalloc in a child that preloads them (`ContenderKind.preload`).
final class MallocContender: AlignedAllocating, Reallocating, PerCPUAllocating, RCUFreeing {
    let kind: ContenderKind

    private init(_ kind: ContenderKind) {
        self.kind = kind
    }

    static func make(_ kind: ContenderKind) -> Result<any Contender, ContenderUnavailable> {
        if let library = kind.preload, access(library, R_OK) != 0 {
            return .failure(ContenderUnavailable(description: "\(library) not installed"))
        }
        return .success(MallocContender(kind))
    }

    func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        malloc(size)
    }

    func free(_ pointer: UnsafeMutableRawPointer, size: Int) {
        Glibc.free(pointer)
    }

    func allocate(_ size: Int, align: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        var p: UnsafeMutableRawPointer?
        guard align > 0, posix_memalign(&p, max(align, MemoryLayout<UnsafeRawPointer>.size), size) == 0, let p else {
            return nil
        }
        if zeroed { memset(p, 0, size) }
        return p
    }

    func reallocate(_ pointer: UnsafeMutableRawPointer?, from oldSize: Int, to newSize: Int) -> UnsafeMutableRawPointer?
    {
        realloc(pointer, newSize)
    }

    /// What a userspace per-CPU array costs: one aligned block holding a copy per possible CPU
    /// (each at a multiple of the size rounded up to `align`), zeroed as `__alloc_percpu` zeroes.
    func allocatePerCPU(_ size: Int, align: Int) -> UnsafeMutableRawPointer? {
        let stride = (size + align - 1) & ~(align - 1)
        return allocate(stride * possibleCPUs, align: align, zeroed: true)
    }

    func freePerCPU(_ pointer: UnsafeMutableRawPointer) {
        Glibc.free(pointer)
    }

    /// liburcu's `call_rcu` with `free` as the callback, run by liburcu's call_rcu thread after a
    /// grace period. With the head in the object it is queued as is; without, liburcu needs a
    /// head of its own, which `vmshim_call_rcu` mallocs beside it.
    func freeAfterGracePeriod(_ pointer: UnsafeMutableRawPointer, size: Int, headInObject: Bool) {
        if headInObject {
            urcu_bp_call_rcu(pointer.assumingMemoryBound(to: rcu_head.self)) { Glibc.free($0) }
        } else if case .failure = Result(returned: vmshim_call_rcu({ _, p in Glibc.free(p) }, nil, pointer)) {
            // No memory for the head: wait for the grace period here, as kvfree_rcu_mightsleep does.
            vmshim_synchronize_rcu()
            Glibc.free(pointer)
        }
    }

    func waitForDeferredFrees() {
        vmshim_rcu_barrier()
    }
}
