import CShim
import Glibc
import Logging

/// One simulated machine: page frames on NUMA nodes, the page allocator, reclaim, the vmalloc
/// region with its page table, and the slab. Every kernel-spelled function exists as a method
/// here and as a free function over `MemorySystem.shared`.
public final class MemorySystem: Sendable {
    /// How a `MemorySystem` is built.
    public struct Configuration: Sendable {
        /// Number of nodes; nil means the machine's real NUMA nodes. More than real: the extra
        /// nodes are emulated (own pools and counters) and placed round-robin on the real ones.
        public var nodes: Int?
        /// Bytes of page frames per node (a sparse memfd: no memory is used until touched).
        public var memoryPerNode: Int
        /// Bytes of the reserved vmalloc region (`VmallocTotal`).
        public var vmallocSize: Int
        /// Background reclaim threads, one per node.
        public var kswapd: Bool
        /// Page-table mask policy: `.fromCaller` (the caller's scope) or `.legacy` (always `GFP_KERNEL`).
        public var pageTableScope: PageTableScope
        /// Where warnings go; nil prints rate-limited lines on stderr like `printk`.
        public var logger: Logger?
        /// Unmap and return every freed area at once: any use after `vfree` faults. Slower.
        public var immediateUnmap: Bool
        /// Pages that lazily freed areas may hold before they are purged in one batch
        /// (`lazy_max_pages`); nil: 32 MiB × fls(CPUs), at most a quarter of memory.
        public var lazyMaxPages: Int?
        /// The min watermark per node in pages; nil: the kernel's `min_free_kbytes` rule.
        public var minFreePages: Int?
        /// Map vmalloc areas with `MAP_POPULATE` (no page faults on first touch).
        public var populate: Bool
        /// Failures to inject from the start (see `setFaultInjection`); `.mbind` acts at init.
        public var faultInjection: [FaultSite: FaultAttributes]
        /// Print a KASAN-like report when a fault hits a guard page or a freed area (opt-in;
        /// installs a SIGSEGV handler that passes every other fault through).
        public var faultReports: Bool
        /// How long frees must pause before freed memory is given back to the OS by itself: the
        /// lazily freed areas are purged and free blocks of 2 MiB or more punched out of the memfds
        /// (free page reporting), and the per-CPU allocator's empty chunks kept for 30 such delays
        /// (at first; then twice the pauses the program makes between rounds, up to 300) are
        /// vfreed (the reporter passes again every delay while some are kept). nil:
        /// `vm_unmap_aliases()` purges and `reportFreePages()` punches only when called, and kept
        /// chunks go back only under memory or VA pressure.
        public var freePageReportingDelay: Duration?
        /// VMAs this system may use (nil: no own cap); the process-wide `vm.max_map_count`
        /// budget applies to all systems together in any case.
        public var maxMapCount: Int?

        /// Defaults for this machine: real nodes, up to 1 GiB per node, a 32 GiB region.
        public init() {
            nodes = nil
            memoryPerNode = 1 << 30
            vmallocSize = 32 << 30
            kswapd = true
            pageTableScope = .fromCaller
            logger = nil
            immediateUnmap = false
            lazyMaxPages = nil
            minFreePages = nil
            populate = true
            maxMapCount = nil
            faultInjection = [:]
            faultReports = false
            freePageReportingDelay = .seconds(1)
        }

        /// Defaults overridden by `VMALLOC_NODES`, `VMALLOC_MEMORY_PER_NODE`, `VMALLOC_SIZE`
        /// (bytes, with an optional K/M/G suffix), `VMALLOC_KSWAPD` (0/1),
        /// `VMALLOC_PAGE_TABLE_SCOPE` (fromCaller/legacy), `VMALLOC_IMMEDIATE_UNMAP` (0/1),
        /// `VMALLOC_LAZY_MAX_PAGES`, `VMALLOC_FAULT_REPORTS` (0/1) and
        /// `VMALLOC_FREE_PAGE_REPORTING_MS` (0: off). Unparsable values are ignored.
        public static func fromEnvironment() -> Configuration {
            var c = Configuration()
            let env = Environment.self
            if let v = env.int("VMALLOC_NODES") { c.nodes = v }
            if let v = env.bytes("VMALLOC_MEMORY_PER_NODE") { c.memoryPerNode = v }
            if let v = env.bytes("VMALLOC_SIZE") { c.vmallocSize = v }
            if let v = env.int("VMALLOC_KSWAPD") { c.kswapd = v != 0 }
            if let v = env.string("VMALLOC_PAGE_TABLE_SCOPE") {
                if v == "legacy" {
                    c.pageTableScope = .legacy
                } else if v == "fromCaller" {
                    c.pageTableScope = .fromCaller
                }
            }
            if let v = env.int("VMALLOC_IMMEDIATE_UNMAP") { c.immediateUnmap = v != 0 }
            if let v = env.int("VMALLOC_LAZY_MAX_PAGES") { c.lazyMaxPages = v }
            if let v = env.int("VMALLOC_FAULT_REPORTS") { c.faultReports = v != 0 }
            if let v = env.int("VMALLOC_FREE_PAGE_REPORTING_MS") {
                c.freePageReportingDelay = v > 0 ? .milliseconds(v) : nil
            }
            return c
        }
    }

    let log: Printk
    let faults: FaultInjector
    let memory: PhysicalMemory
    let allocator: PageAllocator
    /// Shrinkers, direct reclaim and kswapd, handed to the allocator as its `PageReclaimer`.
    let reclaim: Reclaimer
    /// The vmalloc region: VA space, page table and the vmalloc family's logic.
    let space: VmallocSpace
    let slab: SlabAllocator
    /// kvmalloc, kvfree, vfree and kvfree_rcu: the calls that need both the slab and the space.
    let kv: KVmalloc
    /// Per-CPU memory, carved from vmalloc areas of `space`.
    let percpu: PerCPUAllocator
    let freePageReporter: FreePageReporter?
    /// The `/proc` views over the subsystems above.
    let proc: ProcFS

    /// Build a system. Throws with nothing left mapped when the configuration cannot work.
    public init(_ configuration: Configuration) throws(MemorySystemError) {
        log = Printk(logger: configuration.logger)
        faults = FaultInjector(configuration.faultInjection)
        memory = try PhysicalMemory(
            nodes: configuration.nodes, memoryPerNode: configuration.memoryPerNode, faults: faults)
        allocator = PageAllocator(memory: memory, minFreePages: configuration.minFreePages, log: log, faults: faults)
        reclaim = Reclaimer(zones: allocator.zones, stat: allocator.stat, log: log)
        allocator.setReclaimer(reclaim)
        space = try VmallocSpace(
            VmallocSpace.Configuration(
                regionSize: configuration.vmallocSize, pageTableScope: configuration.pageTableScope,
                immediateUnmap: configuration.immediateUnmap, lazyMaxPages: configuration.lazyMaxPages,
                populate: configuration.populate, maxMapCount: configuration.maxMapCount,
                faultReports: configuration.faultReports),
            allocator: allocator, log: log, faults: faults)
        guard let slab = SlabAllocator(allocator: allocator, log: log, space: space) else {
            throw .systemCallFailed("calloc(slab object map)", errno: ENOMEM)
        }
        self.slab = slab
        kv = KVmalloc(slab: slab, space: space, allocator: allocator, log: log)
        percpu = PerCPUAllocator(space: space, log: log, reportingDelay: configuration.freePageReportingDelay)
        proc = ProcFS(memory: memory, allocator: allocator, space: space, slab: slab, percpu: percpu)
        freePageReporter = configuration.freePageReportingDelay.map { [allocator] in
            FreePageReporter(allocator: allocator, delay: $0)
        }
        // Held weakly by the reclaimer and the allocator (see ReclaimSource, AliasPurger).
        reclaim.addSource(space)
        reclaim.addSource(slab)
        allocator.setAliasPurger(space)
        space.setDeferredFrees(kv)
        space.setKeptAreas(percpu)
        // Last, so a failed init leaves no thread behind.
        if configuration.kswapd { reclaim.startKswapd() }
        freePageReporter?.start()
    }

    deinit {
        kv.stop()
        freePageReporter?.stop()
        reclaim.stopKswapd()
    }

    /// The process-wide system the free functions act on, built on first use from
    /// `Configuration.fromEnvironment()`. A configuration that cannot work is a fatal error.
    // A static let is initialised once, thread-safely, on first use.
    public static let shared: MemorySystem = {
        do {
            return try MemorySystem(.fromEnvironment())
        } catch {
            fatalError("swift-vmalloc: cannot build MemorySystem.shared from the environment: \(error)")
        }
    }()
}
