import CShim
import Synchronization

// Lock order: the zone locks (`Zone.lock`) are taken one at a time and nothing is called under
// them. The `aliasPurger` and `reclaimer` locks are only read and released before the object
// they hold is called; the purge takes shard locks, then frees (zone locks), with neither held
// together. Reclaim and kswapd run with no lock of this file held.

/// The page allocator (mm/page_alloc.c): per-node buddy zones, node fallback in distance order,
/// watermarks, and the slow path that wakes kswapd, reclaims and retries by the mask's rules.
final class PageAllocator: Sendable {
    static let maxOrder = Int(VMSHIM_NR_ORDERS) - 1
    /// Orders above this are "costly" (`PAGE_ALLOC_COSTLY_ORDER`): they give up sooner.
    static let costlyOrder = 3
    /// No-progress reclaim rounds before a blocking allocation gives up (`MAX_RECLAIM_RETRIES`).
    static let maxReclaimRetries = 16
    /// Rounds in all before a blocking allocation gives up even while reclaim frees frames (that
    /// others take): the kernel's `should_reclaim_retry` ends such rounds once free plus
    /// reclaimable frames cannot meet the watermark, which this system cannot estimate.
    static let maxReclaimRounds = 16 * maxReclaimRetries
    /// Total sleep, in ns, after which a blocking allocation (not NOFAIL) gives up: 1 s.
    static let maxRetrySleepNs: UInt64 = 1_000_000_000

    let memory: PhysicalMemory
    let zones: [Zone]
    /// The same zones, reached without a retain: every frame taken or freed would otherwise
    /// write the zone object's refcount, a line all threads share. `zones` keeps them alive.
    let unretainedZones: [Unmanaged<Zone>]
    /// Each node's zonelist: its nodes nearest first.
    var zonelists: [[Int]] { (0..<zones.count).map { memory.zonelist(from: $0) } }
    /// The zonelists as `NodeList`s over one buffer, for the allocation path: copying a row of
    /// an array of arrays out retains its buffer, a refcount write every allocating thread shares.
    private let nodeOrder: NodeOrder
    let stat = VMStat()
    let log: Printk
    /// Counts the frees of frames, so waiters can tell that memory came back; allocations that
    /// wait for freed frames sleep on it (`waitForFree`), and every free wakes them.
    let freeEvents = EventCount()
    /// Above 0 while lazily unmapped `vm_map_ram` areas may still map caller frames: the VA
    /// space adds one per shard when one starts to linger there (under the shard's lock) and
    /// takes it off only in a purge, once the shard's are unmapped, or once it holds none (a
    /// remap leaves it, so that a map/unmap loop writes no shared line). Every free reads it.
    /// Changed with the wrapping operations (one `lock xadd`; the checked ones are a `cmpxchg`
    /// loop): it counts shards, far from overflow.
    let lazyAliases = Atomic<Int>(0)
    private let aliasPurger = Lock(WeakReference<any AliasPurger>(nil))
    /// Direct reclaim and kswapd, handed over by the system once built; nil until then (no
    /// reclaim, no kswapd). Held strongly: the reclaimer keeps the allocator's owners (the VA
    /// space, the slab) only weakly, so this makes no cycle.
    private let reclaimer = Lock<(any PageReclaimer)?>(nil)
    let faults: FaultInjector

    init(memory: PhysicalMemory, minFreePages: Int?, log: Printk, faults: FaultInjector) {
        self.memory = memory
        self.log = log
        self.faults = faults
        zones = (0..<memory.nodeCount).map { Zone(node: $0, memory: memory, minFreePages: minFreePages)! }
        unretainedZones = zones.map { Unmanaged.passUnretained($0) }
        nodeOrder = NodeOrder((0..<memory.nodeCount).map { memory.zonelist(from: $0) })
    }

    deinit { nodeOrder.deallocate() }

    /// Name who unmaps lazily unmapped `vm_map_ram` aliases before a frame is freed (held weakly).
    func setAliasPurger(_ purger: any AliasPurger) {
        aliasPurger.withLock { $0 = WeakReference(purger) }
    }

    /// Name who reclaims for the slow path and runs each node's kswapd (held strongly).
    func setReclaimer(_ reclaimer: any PageReclaimer) {
        self.reclaimer.withLock { $0 = reclaimer }
    }

    /// Unmap the lazily freed and lazily unmapped vmalloc areas now (`vm_unmap_aliases`); returns
    /// the frames that came back.
    @discardableResult
    func purgeAliases() -> Int { aliasPurger.withLock { $0 }.object?.purgeAliases() ?? 0 }

    /// `AliasPurger.purgeIdleAliases` through the purger, if any.
    func purgeIdleAliases(afterPause: Bool) -> (purged: Bool, waiting: Bool) {
        aliasPurger.withLock { $0 }.object?.purgeIdleAliases(afterPause: afterPause) ?? (afterPause, false)
    }

    /// Unmap the lazily unmapped `vm_map_ram` areas that may still map frames, before one is freed.
    private func purgeLingeringAliases() { aliasPurger.withLock { $0 }.object?.purgeLingeringAliases() }

    /// Check the reclaim-tracked locks this thread holds against an allocation with `gfp` under
    /// `scope` (`might_alloc`); the caller checks `vmshim_held_count() > 0` first, so a thread
    /// that holds no such lock pays nothing.
    func checkHeldLocks(_ gfp: GFP, scope: ScopeFlags, site: @autoclosure () -> String) {
        reclaimer.withLock { $0 }?.checkHeldLocks(gfp, scope: scope, site: site())
    }

    /// `__alloc_pages`: a block of 2^order frames, preferring `node` (or the local node for
    /// `NUMA_NO_NODE`), marked as held by `owner`. The caller validated order and node.
    func allocate(_ gfpIn: GFP, order: Int, node: Int, owner: vmshim_owner, site: String = "alloc_pages") -> Page? {
        let scope = ScopeFlags.current
        // vmalloc checked NOFAIL at its entry, naming its own caller; everyone else is checked here.
        let isVmalloc = owner == VMSHIM_OWNER_VMALLOC
        let gfp = scope.apply(to: isVmalloc ? gfpIn : checkNofail(gfpIn, order: order, site: site))
        if vmshim_held_count() > 0 { checkHeldLocks(gfpIn, scope: scope, site: site) }
        let list = nodeList(gfp, node: node)
        // As fail_page_alloc: NOFAIL requests are never failed on purpose.
        let injected = !gfp.contains(.noFail) && faults.shouldFail(.pageAlloc)
        if !injected,
            let pfn = take(list, order, .low) ?? takeAfterDrain(list, order)
                ?? slowPath(gfp, scope: scope, order: order, list: list, site: isVmalloc ? nil : site)
        {
            let m = memory.meta + pfn
            m.pointee.owner = owner
            if gfp.contains(.zero) { vmshim_zero(memory.address(of: pfn), PhysicalMemory.pageSize << order) }
            return Page(pfn: pfn)
        }
        stat.add(.allocFailures)
        stat.countFailure(mask: gfpIn.rawValue)
        // The effective mask (after the scope), as the kernel's warn_alloc prints it.
        if !gfp.contains(.noWarn) {
            log.warn(
                "\(Self.comm): page allocation failure: order:\(order), mode:\(gfp.modeString), nodemask=(null)",
                site: site)
        }
        return nil
    }

    /// The nodes an allocation for `node` tries, in order: the local node's zonelist for
    /// `NUMA_NO_NODE`, only `node` with `__GFP_THISNODE`, else its zonelist.
    @inline(__always)
    func nodeList(_ gfp: GFP, node: Int) -> NodeList {
        if node == NUMA_NO_NODE { return nodeOrder.zonelist(memory.localNode) }
        return gfp.contains(.thisNode) ? nodeOrder.only(node) : nodeOrder.zonelist(node)
    }

    /// The frames of lazily freed vmalloc areas are free (`vfree` handed them back; only their
    /// mapping lingers): when the buddy lists fall short, unmap those areas so their frames join
    /// the lists, and try again — before the slow path, for every mask, `GFP_NOWAIT` included,
    /// as `__alloc_pages` drains the per-CPU lists before it reclaims. No shrinker is called.
    private func takeAfterDrain(_ list: NodeList, _ order: Int) -> Int? {
        guard purgeAliases() > 0 else { return nil }
        stat.add(.lazyDrains)
        return take(list, order, .low)
    }

    private func take(_ list: NodeList, _ order: Int, _ w: Watermark) -> Int? {
        for n in list.nodes {
            if let pfn = unretainedZones[n]._withUnsafeGuaranteedRef({ $0.take(order: order, watermark: w) }) {
                return pfn
            }
        }
        return nil
    }

    /// `__alloc_pages_slowpath`: wake kswapd, lower the watermark as the mask allows, then (if it
    /// may block) reclaim and retry. NOFAIL retries for ever, ahead of every rule that gives up
    /// (NORETRY, RETRY_MAYFAIL, costly orders, `PF_MEMALLOC`); otherwise NORETRY gives up after
    /// one pass, and the rest after `maxReclaimRetries` rounds without reclaim progress
    /// (`should_reclaim_retry`), `maxReclaimRounds` rounds, or `maxRetrySleepNs` of sleep.
    /// `site` names the caller for the NOFAIL-under-PF_MEMALLOC warning; nil: already warned.
    private func slowPath(_ gfp: GFP, scope: ScopeFlags, order: Int, list nodes: NodeList, site: String?) -> Int? {
        let list = Array(nodes.nodes)
        let reclaim = reclaimer.withLock { $0 }
        if gfp.contains(.kswapdReclaim) { wakeKswapd(list, reclaim) }
        var mark: Watermark = gfp.contains(.high) ? .minHalf : .min
        // PF_MEMALLOC (reclaim itself) and __GFP_MEMALLOC may use every reserve.
        if (scope.contains(.memalloc) || gfp.contains(.memalloc)) && !gfp.contains(.noMemalloc) { mark = .none }
        if let pfn = take(nodes, order, mark) { return pfn }
        // Only blocking masks reclaim or wait.
        guard gfp.allowsBlocking else { return nil }
        let noFail = gfp.contains(.noFail)
        // Reclaim never recurses into itself: under PF_MEMALLOC only NOFAIL goes on, waiting for
        // frames that others free.
        if scope.contains(.memalloc) {
            guard noFail else { return nil }
            if let site { warnNofailUnderMemalloc(gfp, site: site) }
            while true {
                let seen = freeEvents.value
                if let pfn = take(nodes, order, mark) { return pfn }
                stat.add(.nofailRetries)
                waitForFree(since: seen)
            }
        }
        stat.add(.allocstall)
        var noProgress = 0
        var rounds = 0
        var slept: UInt64 = 0
        while true {
            let seen = freeEvents.value
            let kswapdBefore = stat[.pgstealKswapd]
            if gfp.contains(.kswapdReclaim) { wakeKswapd(list, reclaim) }
            let reclaimed = reclaim?.direct(gfp: gfp, order: order, nodes: list) ?? 0
            if let pfn = take(nodes, order, mark) { return pfn }
            rounds += 1
            if noFail {
                if reclaimed == 0 {
                    stat.add(.nofailRetries)
                    waitForFree(since: seen, timeoutNs: sleepTick(list, reclaim))
                }
                continue
            }
            if gfp.contains(.noRetry) { return nil }
            if order > Self.costlyOrder && !gfp.contains(.retryMayFail) { return nil }
            // Progress, as `should_reclaim_retry` judges it: this allocation's own reclaim freed
            // frames, or kswapd did (there is reclaimable memory, some of it beyond this mask's
            // reach). Frees by other threads are taken when they come but never postpone the
            // give-up, so churn elsewhere cannot keep a hopeless allocation waiting.
            let progress = reclaimed > 0 || stat[.pgstealKswapd] != kswapdBefore
            noProgress = progress ? 0 : noProgress + 1
            if noProgress >= Self.maxReclaimRetries || rounds >= Self.maxReclaimRounds { return nil }
            // Its watermark test: with nothing reclaimable left, free frames alone would have to
            // do, and this attempt showed they do not.
            if !progress && reclaim?.hasShrinkers != true { return nil }
            if reclaimed == 0 {
                guard slept < Self.maxRetrySleepNs else { return nil }
                let start = Printk.monotonicNs()
                waitForFree(since: seen, timeoutNs: min(sleepTick(list, reclaim), Self.maxRetrySleepNs - slept))
                slept += Printk.monotonicNs() - start
            }
        }
    }

    /// How long a round without own reclaim sleeps at most (woken at once by a free): 10 ms
    /// while kswapd works for these nodes, to leave it the CPU rather than spin beside it
    /// (`reclaim_throttle`), else 2 ms.
    private func sleepTick(_ list: [Int], _ reclaim: (any PageReclaimer)?) -> UInt64 {
        guard let reclaim else { return 2_000_000 }
        return list.contains { reclaim.isKswapdActive(node: $0) } ? 10_000_000 : 2_000_000
    }

    /// `wake_all_kswapds`: wake the kswapd of every node in the list below its low watermark.
    private func wakeKswapd(_ list: [Int], _ reclaim: (any PageReclaimer)?) {
        guard let reclaim else { return }
        for n in list where zones[n].freeCount.load(ordering: .relaxed) < zones[n].lowPages {
            reclaim.wakeKswapd(node: n)
        }
    }

    /// Sleep until frames are freed after `seen` was read, or a tick passes (the kernel's
    /// `congestion_wait(HZ/50)`). Freeing wakes the sleeper at once.
    func waitForFree(since seen: Int, timeoutNs: UInt64 = 2_000_000) {
        freeEvents.wait(since: seen, timeoutNs: timeoutNs)
    }

    /// `__free_pages` for a block this allocator handed out. False (and nothing changes) when
    /// pfn does not head an allocated block of that order.
    @discardableResult
    func free(pfn: Int, order: Int) -> Bool {
        guard memory.isValid(pfn), order >= 0, order <= Self.maxOrder else { return false }
        // A lazily unmapped vm_map_ram area may still map this frame: unmap those first, so a
        // stale pointer can never reach a frame that someone else is about to own.
        if lazyAliases.load(ordering: .acquiring) > 0 { purgeLingeringAliases() }
        guard unretainedZones[memory.node(of: pfn)]._withUnsafeGuaranteedRef({ $0.give(pfn: pfn, order: order) })
        else { return false }
        vmshim_account_freed(UInt64(1) << order)
        freeEvents.signal()
        return true
    }

    /// Who holds the block headed by pfn, and its order; nil when not allocated.
    func holder(of pfn: Int) -> (owner: vmshim_owner, order: Int)? {
        guard memory.isValid(pfn) else { return nil }
        let m = memory.meta + pfn
        return vmshim_page_is_head(m) != 0 ? (m.pointee.owner, Int(m.pointee.order)) : nil
    }

    var freePages: Int { zones.reduce(0) { $0 + $1.freeCount.load(ordering: .relaxed) } }

    static let comm: String = String(cString: vmshim_comm())
}

/// A zonelist (nodes in fallback order) as a view into `NodeOrder`'s buffer: passing or
/// reading it retains nothing.
/// Unchecked Sendable: it points into a buffer that is written once, at init, and read-only after.
struct NodeList: @unchecked Sendable {
    let nodes: UnsafeBufferPointer<Int>
}

/// Every node's zonelist in one buffer: row n (`nodeCount` entries) is node n's fallback
/// order, and a last row holds each node alone (`__GFP_THISNODE`), so no list is ever built
/// on the allocation path. Freed by the page allocator's `deinit`.
/// Unchecked Sendable: written once, at init, and read-only after.
struct NodeOrder: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Int>
    private let nodeCount: Int

    init(_ zonelists: [[Int]]) {
        nodeCount = zonelists.count
        buffer = .allocate(capacity: nodeCount * (nodeCount + 1))
        var i = 0
        for n in zonelists.joined() + Array(0..<nodeCount) {
            buffer[i] = n
            i += 1
        }
    }

    /// Node n's zonelist.
    func zonelist(_ n: Int) -> NodeList {
        NodeList(nodes: UnsafeBufferPointer(rebasing: buffer[n * nodeCount..<(n + 1) * nodeCount]))
    }

    /// Node n alone.
    func only(_ n: Int) -> NodeList {
        let at = nodeCount * nodeCount + n
        return NodeList(nodes: UnsafeBufferPointer(rebasing: buffer[at..<at + 1]))
    }

    func deallocate() { buffer.deallocate() }
}
