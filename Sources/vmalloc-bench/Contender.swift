import Glibc

/// The allocators a run compares. Peers that replace malloc run in a child process with the
/// library preloaded (`preload`), so they never share a heap with the harness.
enum ContenderKind: String, CaseIterable, Codable, Sendable {
    case vmalloc, mmap, glibc, jemalloc, mimalloc, libnuma

    /// The shared object LD_PRELOADed into the child process that runs this contender.
    var preload: String? {
        switch self {
        case .jemalloc: "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
        case .mimalloc: "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2"
        default: nil
        }
    }

    /// A symbol only this allocator exports: the child proves the preload took effect.
    var witnessSymbol: String? {
        switch self {
        case .jemalloc: "mallctl"
        case .mimalloc: "mi_version"
        default: nil
        }
    }

    /// A fresh instance, or nil with a reason when this machine cannot run it.
    func make() -> Result<any Contender, ContenderUnavailable> {
        switch self {
        case .vmalloc: VmallocContender.make()
        case .mmap: .success(MmapContender())
        case .glibc, .jemalloc, .mimalloc: MallocContender.make(self)
        case .libnuma: NumaContender.make()
        }
    }
}

/// Why a contender cannot run here.
struct ContenderUnavailable: Error, CustomStringConvertible {
    let description: String
}

/// One allocator under test. Workloads are written once against these protocols; what a
/// contender cannot do (a protocol it does not adopt) is a workload that does not apply to it.
protocol Contender: AnyObject, Sendable {
    var kind: ContenderKind { get }
    /// `size` bytes, page aligned, readable and writable.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer?
    /// Frees what `allocate` (or another allocation call of the same contender) returned.
    func free(_ pointer: UnsafeMutableRawPointer, size: Int)
    /// Bookkeeping bytes the allocator spends per page it manages; nil where it is not known.
    var metadataBytesPerPage: Double? { get }
    /// Bytes of memory the contender holds outside its RSS (vmalloc: frames resident in its
    /// memfds, mapped or not); nil where everything it holds shows in RSS.
    var memfdResidentBytes: Int? { get }
    /// Called before each run: settle what earlier runs left pending, so that runs are
    /// independent and a run's VMA and RSS figures are its own.
    func settle()
}

extension Contender {
    var metadataBytesPerPage: Double? { nil }
    var memfdResidentBytes: Int? { nil }
    func settle() {}
}

/// `__vmalloc_node(size, align, gfp, node)`: an allocation at a given alignment.
protocol AlignedAllocating: Contender {
    /// `size` bytes aligned to `align` (any power of two; an impossible one fails), zero-filled
    /// when `zeroed` (the kernel tests pass __GFP_ZERO).
    func allocate(_ size: Int, align: Int, zeroed: Bool) -> UnsafeMutableRawPointer?
}

/// `vmalloc_huge`: an allocation the contender may back with huge pages.
protocol HugeAllocating: Contender {
    func allocateHuge(_ size: Int) -> UnsafeMutableRawPointer?
}

/// `vrealloc`: resize keeping content; a nil pointer allocates.
protocol Reallocating: Contender {
    func reallocate(_ pointer: UnsafeMutableRawPointer?, from oldSize: Int, to newSize: Int) -> UnsafeMutableRawPointer?
}

/// `vm_map_ram`: frames that exist apart from any mapping, mapped into fresh address space.
protocol PageMapping: Contender {
    /// `count` frames, or nil when they cannot be had.
    func pages(_ count: Int) -> (any MappablePages)?
}

/// A set of frames owned by one worker thread (see `PageMapping`).
protocol MappablePages: AnyObject {
    func map() -> UnsafeMutableRawPointer?
    func unmap(_ pointer: UnsafeMutableRawPointer)
    /// Gives the frames back; the set is not used afterwards.
    func release()
}

/// `__vmalloc(size, GFP_ATOMIC | GFP_NOWAIT)`: an allocation that must not block.
protocol NonBlockingAllocating: Contender {
    func allocateNonBlocking(_ size: Int, atomic: Bool) -> UnsafeMutableRawPointer?
}

/// `__alloc_percpu`: one zeroed copy of an object per possible CPU.
protocol PerCPUAllocating: Contender {
    /// `size` bytes aligned to `align` (a power of two up to a page) for each possible CPU, every
    /// copy zeroed; the first copy, or nil.
    func allocatePerCPU(_ size: Int, align: Int) -> UnsafeMutableRawPointer?
    /// Frees what `allocatePerCPU` returned (`free_percpu`).
    func freePerCPU(_ pointer: UnsafeMutableRawPointer)
}

/// `kvfree_rcu`: a free deferred until an RCU grace period has passed.
protocol RCUFreeing: Contender {
    /// Frees `pointer`, of `size` bytes from `allocate`, once a grace period has passed. With
    /// `headInObject` its first 16 bytes are the `rcu_head` (`kvfree_rcu(p, rcu)`); without, the
    /// free finds room of its own for the deferral (`kvfree_rcu_mightsleep(p)`).
    func freeAfterGracePeriod(_ pointer: UnsafeMutableRawPointer, size: Int, headInObject: Bool)
    /// Waits until every deferred free has run (`rcu_barrier`).
    func waitForDeferredFrees()
}

let pageSize = 4096

/// Possible CPUs (`nr_cpu_ids`), counted as the vmalloc system's per-CPU allocator counts them:
/// every per-CPU allocation has this many copies, whichever contender makes it.
let possibleCPUs = max(1, sysconf(Int32(_SC_NPROCESSORS_CONF)))
