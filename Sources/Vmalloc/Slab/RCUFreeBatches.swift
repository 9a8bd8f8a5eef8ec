import CShim
import Glibc
import Synchronization

// Lock order: one slot lock at a time, never nested; under it only a block's malloc and free,
// the clock and the grace-period cookie are called, never a lock or an allocator of this library.

/// `kvfree_rcu`'s per-CPU batches (mm/slab_common.c `kfree_rcu_cpu`): freed pointers wait in a
/// block of the CPU the caller runs on. A full block is sealed with a grace-period cookie
/// (`add_ptr_to_bulk_krc_lock`'s `get_state_synchronize_rcu`), and once that grace period has
/// passed the CPU's own later `kvfree_rcu`s free it, a few pointers each (`kvfree_rcu_drain_ready`
/// and `kvfree_rcu_bulk`, run where the kernel runs them: on the CPU whose batch it is, not on one
/// thread that every CPU's frees would queue behind). Blocks nobody comes back for are taken
/// whole by `take` (the monitor, a flush). So a free costs a slot lock and a store instead of a
/// callback each, and needs no `rcu_head` inside the object.
final class RCUFreeBatches: Sendable {
    /// Header words of a block: the count of pointers, the next sealed block, the grace-period
    /// cookie and when its first free came (monotonic ns).
    private static let countWord = 0
    private static let nextWord = 1
    private static let cookieWord = 2
    private static let sinceWord = 3
    private static let headerWords = 4
    /// Pointers in a block; with its header a block is 2 KiB.
    static let capacity = 252
    /// Most pointers one `add` frees of a block whose grace period has passed: enough to keep
    /// ahead of the frees coming in (one per call), few enough that no call waits long.
    static let drainPerCall = 16
    /// How long a block waits before `take` counts it as one nobody will come back for: long
    /// enough that a burst of frees shares a grace period and a busy CPU frees its own, short
    /// enough that the memory comes back soon. Every VA or memory shortage takes the blocks at
    /// once, as the kernel's kfree_rcu shrinker does.
    static let drainDelayNs: UInt64 = 5_000_000

    /// A block taken out of its slot, and the slot, whose in-flight count it holds until freed.
    struct Taken: @unchecked Sendable {
        fileprivate let words: UnsafeMutablePointer<UInt>
        fileprivate let slot: Int
        /// The grace-period cookie its pointers wait for.
        var cookie: UInt64 { UInt64(words[RCUFreeBatches.cookieWord]) }
    }

    /// What `add` did beside queueing the pointer.
    struct Added {
        /// A block started filling: a monitor asleep for want of work must learn of it.
        var started = false
        /// A block was sealed with this cookie: a grace period must start after it.
        var sealed: UInt64?
    }

    private struct Pending {
        /// The block frees go into now.
        var filling: UnsafeMutablePointer<UInt>?
        /// Sealed blocks, oldest first (their cookies grow in the same order), linked by `nextWord`.
        var oldest: UnsafeMutablePointer<UInt>?
        var newest: UnsafeMutablePointer<UInt>?
        /// An emptied block kept for the next one (the kernel's cached bulk page).
        var spare: UnsafeMutablePointer<UInt>?

        /// Queue p; a full block is sealed with a cookie taken after its last pointer went in.
        @inline(__always)
        mutating func append(_ p: UInt) -> Added {
            var added = Added()
            let block: UnsafeMutablePointer<UInt>
            if let f = filling {
                block = f
            } else {
                block = spare ?? UnsafeMutablePointer<UInt>.allocate(capacity: headerWords + capacity)
                spare = nil
                block[countWord] = 0
                block[sinceWord] = UInt(Printk.monotonicNs())
                filling = block
                added.started = true
            }
            let n = Int(block[countWord])
            block[headerWords + n] = p
            block[countWord] = UInt(n + 1)
            if n + 1 == capacity { added.sealed = sealFilling() }
            return added
        }

        /// Move the filling block to the sealed list with a fresh cookie.
        mutating func sealFilling() -> UInt64 {
            let block = filling!
            filling = nil
            let cookie = vmshim_get_state_synchronize_rcu()
            block[cookieWord] = UInt(cookie)
            block[nextWord] = 0
            if let newest { newest[nextWord] = UInt(bitPattern: block) } else { oldest = block }
            newest = block
            return cookie
        }

        /// Unlink the oldest sealed block.
        mutating func popOldest() -> UnsafeMutablePointer<UInt> {
            let block = oldest!
            oldest = UnsafeMutablePointer(bitPattern: block[nextWord])
            if oldest == nil { newest = nil }
            return block
        }

        /// Copy up to `drainPerCall` pointers of the oldest block, if its grace period has passed,
        /// into `out`; an emptied block becomes the spare or is freed. Returns how many.
        @inline(__always)
        mutating func takeReady(into out: Taken) -> Int {
            guard let block = oldest, vmshim_poll_state_synchronize_rcu(UInt64(block[cookieWord])) != 0 else {
                return 0
            }
            let n = Int(block[countWord])
            let k = min(n, drainPerCall)
            out.words.update(from: block + headerWords + n - k, count: k)
            block[countWord] = UInt(n - k)
            if k == n {
                _ = popOldest()
                if spare == nil { spare = block } else { block.deallocate() }
            }
            return k
        }

        /// Seal the filling block if its first free came before `cutoff`, then unlink every
        /// sealed block whose first free did. `waiting`: whether younger blocks remain.
        mutating func take(startedBefore cutoff: UInt64, into taken: inout [UnsafeMutablePointer<UInt>]) -> Bool {
            if let f = filling, UInt64(f[sinceWord]) < cutoff { _ = sealFilling() }
            while let block = oldest, UInt64(block[sinceWord]) < cutoff { taken.append(popOldest()) }
            return filling != nil || oldest != nil
        }

        /// Free every block held (the owner is gone).
        mutating func release() {
            filling?.deallocate()
            spare?.deallocate()
            while oldest != nil { popOldest().deallocate() }
        }
    }

    /// One CPU's blocks, on cache lines of their own.
    private final class Slot: Sendable {
        private let padBefore = CacheLinePad()
        let pending = Lock(Pending())
        /// Pointers or blocks taken out of this slot whose frees have not finished: a flush waits
        /// for them, as `rcu_barrier` waits for callbacks already running.
        let inFlight = Atomic<Int>(0)
        private let padAfter = CacheLinePad()
    }

    private let slots: [Slot]
    /// The same slots, reached without a retain (as `VmapAreas` reaches its shards): a retain
    /// writes the slot's header, a line the thread that ran on that CPU before also wrote.
    /// `slots` keeps them alive.
    private let unretained: Unretained
    /// Unchecked Sendable: written once at init, then only read; `slots` owns what it points to.
    private struct Unretained: @unchecked Sendable {
        let slots: UnsafeMutablePointer<Unmanaged<Slot>>
    }

    init() {
        slots = (0..<PerCPUAllocator.nrPossibleCPUs).map { _ in Slot() }
        unretained = Unretained(slots: .allocate(capacity: slots.count))
        unretained.slots.initialize(from: slots.map { Unmanaged.passUnretained($0) }, count: slots.count)
    }

    deinit {
        // Blocks still pending belong to nobody once their owner is gone: free the blocks (the
        // owner flushed what it meant to free before it let go).
        for s in slots { s.pending.withLock { $0.release() } }
        unretained.slots.deallocate()
    }

    /// Put p in the block of the CPU the caller runs on; then, if that CPU's oldest sealed block
    /// has seen its grace period, `free` up to `drainPerCall` of its pointers here.
    @inline(__always)
    func add(_ p: UnsafeMutableRawPointer, free: (UnsafeMutableRawPointer) -> Void) -> Added {
        let k = Int(max(vmshim_cpu(), 0)) % slots.count
        return unretained.slots[k]._withUnsafeGuaranteedRef { slot in
            withUnsafeTemporaryAllocation(of: UInt.self, capacity: Self.drainPerCall) { buffer in
                // Bit patterns and a Sendable wrapper: the lock's region check lets no pointer in.
                let out = Taken(words: buffer.baseAddress!, slot: 0)
                let bits = UInt(bitPattern: p)
                let (added, ready) = slot.pending.withLock { s in
                    let added = s.append(bits)
                    let ready = s.takeReady(into: out)
                    if ready > 0 { slot.inFlight.wrappingAdd(1, ordering: .relaxed) }
                    return (added, ready)
                }
                if ready > 0 {
                    for i in 0..<ready { free(UnsafeMutableRawPointer(bitPattern: out.words[i])!) }
                    slot.inFlight.wrappingSubtract(1, ordering: .releasing)
                }
                return added
            }
        }
    }

    /// Take every block whose first free came before `cutoff` (ns of the monotonic clock; `.max`
    /// takes all), sealing a filling one. `waiting`: whether younger blocks remain.
    func take(startedBefore cutoff: UInt64) -> (blocks: [Taken], waiting: Bool) {
        var blocks: [Taken] = []
        var waiting = false
        for (i, slot) in slots.enumerated() {
            let (taken, more) = slot.pending.withLock { s -> ([Taken], Bool) in
                var words: [UnsafeMutablePointer<UInt>] = []
                let more = s.take(startedBefore: cutoff, into: &words)
                if !words.isEmpty { slot.inFlight.wrappingAdd(words.count, ordering: .relaxed) }
                return (words.map { Taken(words: $0, slot: i) }, more)
            }
            blocks += taken
            waiting = waiting || more
        }
        return (blocks, waiting)
    }

    /// Call `free` on each pointer of `blocks`, then release the blocks. The caller has seen the
    /// grace period of every one's cookie pass.
    func free(_ blocks: [Taken], _ free: (UnsafeMutableRawPointer) -> Void) {
        for block in blocks {
            let n = Int(block.words[Self.countWord])
            for i in 0..<n { free(UnsafeMutableRawPointer(bitPattern: block.words[Self.headerWords + i])!) }
            block.words.deallocate()
            slots[block.slot].inFlight.wrappingSubtract(1, ordering: .releasing)
        }
    }

    /// Wait until no free taken out of a slot is still running. Each is short — a few pointers
    /// a CPU frees, or blocks freed after one grace period — so the wait polls.
    func waitForFrees() {
        for slot in slots {
            while slot.inFlight.load(ordering: .acquiring) != 0 { usleep(50) }
        }
    }
}
