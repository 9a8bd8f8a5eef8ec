import CShim
import CVmallocBench
import Glibc
import Vmalloc

/// swift-vmalloc through its pinned kernel-spelled API, on an instance of its own: 1 GiB of
/// sparse frames per node (no memory is used until touched), more on machines with many CPUs,
/// and the default 32 GiB region.
final class VmallocContender: AlignedAllocating, HugeAllocating, PageMapping, NonBlockingAllocating, Reallocating,
    PerCPUAllocating, RCUFreeing
{
    let kind = ContenderKind.vmalloc
    let system: MemorySystem

    private init(_ system: MemorySystem) {
        self.system = system
    }

    static func make() -> Result<any Contender, ContenderUnavailable> {
        // The library's environment knobs apply (`VMALLOC_FREE_PAGE_REPORTING_MS=0` turns the free
        // page reporter off: under a slow tool such as callgrind it would fire inside the timed
        // loop and empty the reuse pools).
        var configuration = MemorySystem.Configuration.fromEnvironment()
        // pcpu_alloc_test keeps ~20 MiB per worker in every CPU's units (35,000 objects of
        // ~600 bytes): CPUs² × 32 MiB lets one worker per CPU finish, as it does in the kernel.
        configuration.memoryPerNode = max(1 << 30, possibleCPUs * possibleCPUs * (32 << 20))
        configuration.logger = BenchLog.logger
        do {
            return .success(VmallocContender(try MemorySystem(configuration)))
        } catch {
            return .failure(ContenderUnavailable(description: "MemorySystem: \(error)"))
        }
    }

    /// Purges lazily freed areas left by the previous run (their VMAs would count as this run's).
    func settle() {
        system.vm_unmap_aliases()
    }

    func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        system.vmalloc(size)
    }

    func free(_ pointer: UnsafeMutableRawPointer, size: Int) {
        system.vfree(pointer)
    }

    func allocate(_ size: Int, align: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        // The kernel test passes node 0, not NUMA_NO_NODE.
        system.__vmalloc_node(size, align: align, zeroed ? GFP_KERNEL | __GFP_ZERO : GFP_KERNEL, node: 0)
    }

    func reallocate(_ pointer: UnsafeMutableRawPointer?, from oldSize: Int, to newSize: Int) -> UnsafeMutableRawPointer?
    {
        system.vrealloc(pointer, newSize, GFP_KERNEL)
    }

    func allocateHuge(_ size: Int) -> UnsafeMutableRawPointer? {
        system.vmalloc_huge(size, GFP_KERNEL)
    }

    func allocateNonBlocking(_ size: Int, atomic: Bool) -> UnsafeMutableRawPointer? {
        system.__vmalloc(size, atomic ? GFP_ATOMIC : GFP_NOWAIT)
    }

    func allocatePerCPU(_ size: Int, align: Int) -> UnsafeMutableRawPointer? {
        system.__alloc_percpu(size, align)
    }

    func freePerCPU(_ pointer: UnsafeMutableRawPointer) {
        system.free_percpu(pointer)
    }

    /// The system has one deferral path, as the C surface's `kvfree_rcu(p, rhf)` and
    /// `kvfree_rcu_mightsleep(p)` share it: the head is not used.
    func freeAfterGracePeriod(_ pointer: UnsafeMutableRawPointer, size: Int, headInObject: Bool) {
        system.kvfree_rcu(pointer)
    }

    func waitForDeferredFrees() {
        system.rcu_barrier()
    }

    func pages(_ count: Int) -> (any MappablePages)? {
        VmallocPages(system, count: count)
    }

    /// Frame metadata (a `vmshim_page` per managed frame) plus the page-table pages held now,
    /// per managed page. Area records on the Swift heap are not counted.
    var metadataBytesPerPage: Double? {
        let info = system.meminfo()
        let frames = info.memTotal / pageSize
        guard frames > 0 else { return nil }
        return Double(frames * MemoryLayout<vmshim_page>.stride + info.pageTables) / Double(frames)
    }

    var memfdResidentBytes: Int? { system.residentBytes() }

    /// Nanoseconds per `vmalloc_to_page`, over lookups spread across a 256-page area.
    func lookupNanoseconds(lookups: Int) -> Double? {
        let pages = 256
        guard let area = system.vmalloc(pages * pageSize) else { return nil }
        defer { system.vfree(area) }
        touch(area, pages * pageSize)
        var sum = 0
        let start = vmbench_now_ns()
        for i in 0..<lookups {
            // A stride coprime to 256 visits every page in turn, in no prefetchable order.
            sum &+= system.vmalloc_to_page(area + (i &* 97 & (pages - 1)) * pageSize)?.pfn ?? 0
        }
        let elapsed = vmbench_now_ns() - start
        withExtendedLifetime(sum) {}
        return Double(elapsed) / Double(lookups)
    }
}

/// Frames from `alloc_pages`, mapped by `vm_map_ram` and unmapped by `vm_unmap_ram`.
private final class VmallocPages: MappablePages {
    let system: MemorySystem
    let frames: [Page]

    init?(_ system: MemorySystem, count: Int) {
        self.system = system
        var frames: [Page] = []
        for _ in 0..<count {
            guard let page = system.alloc_pages(GFP_KERNEL, 0) else {
                frames.forEach { system.__free_pages($0, 0) }
                return nil
            }
            frames.append(page)
        }
        self.frames = frames
    }

    func map() -> UnsafeMutableRawPointer? {
        system.vm_map_ram(frames)
    }

    func unmap(_ pointer: UnsafeMutableRawPointer) {
        system.vm_unmap_ram(pointer, frames.count)
    }

    func release() {
        frames.forEach { system.__free_pages($0, 0) }
    }
}
