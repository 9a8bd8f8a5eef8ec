import CShim
import Glibc

// Lock order: one slot lock at a time, never nested; under it only a new block's malloc and the
// clock are called, never a lock or an allocator of this library.

/// `kvfree_rcu`'s per-CPU batches (mm/slab_common.c `kfree_rcu_cpu`): freed pointers wait in a
/// block of the CPU the caller runs on, and a block goes to the monitor whole — one grace period
/// for up to `capacity` frees and more — when it is full or has waited `drainDelayNs`. So a free
/// costs a slot lock and a store instead of a callback each, and needs no `rcu_head` inside the
/// object.
final class RCUFreeBatches: Sendable {
    /// Pointers in a block; with its count word a block is 2 KiB.
    static let capacity = 255
    /// How long a block that is not full waits before it is queued: long enough that a burst
    /// of frees shares a grace period, short enough that the memory comes back soon. Every VA
    /// or memory shortage drains the blocks at once, as the kernel's kfree_rcu shrinker does.
    static let drainDelayNs: UInt64 = 5_000_000

    /// A block handed to RCU: word 0 is the count, words 1…count the pointers' bit patterns.
    struct Block: @unchecked Sendable {
        let words: UnsafeMutablePointer<UInt>
    }

    /// What `add` did with the slot's block.
    enum Added {
        /// The block was empty before: the monitor must learn that one is waiting.
        case first
        /// The block is full and was taken: queue it.
        case full(Block)
        /// Neither.
        case added
    }

    private struct Pending {
        var block: UnsafeMutablePointer<UInt>?
        var since: UInt64 = 0
    }

    /// One CPU's block, on cache lines of its own.
    private final class Slot: Sendable {
        private let padBefore = CacheLinePad()
        let pending = Lock(Pending())
        private let padAfter = CacheLinePad()
    }

    private let slots: [Slot]

    init() {
        slots = (0..<PerCPUAllocator.nrPossibleCPUs).map { _ in Slot() }
    }

    deinit {
        // Blocks still pending belong to nobody once their owner is gone: free the blocks (the
        // owner flushed what it meant to free before it let go).
        for s in slots { s.pending.withLock { $0.block?.deallocate() } }
    }

    /// Put p in the block of the CPU the caller runs on.
    func add(_ p: UnsafeMutableRawPointer) -> Added {
        let slot = slots[Int(max(vmshim_cpu(), 0)) % slots.count]
        return slot.pending.withLock { s -> Added in
            guard let block = s.block else {
                let words = UnsafeMutablePointer<UInt>.allocate(capacity: Self.capacity + 1)
                words[0] = 1
                words[1] = UInt(bitPattern: p)
                s.block = words
                s.since = Printk.monotonicNs()
                return .first
            }
            let n = Int(block[0]) &+ 1
            block[n] = UInt(bitPattern: p)
            block[0] = UInt(n)
            guard n == Self.capacity else { return .added }
            s.block = nil
            return .full(Block(words: block))
        }
    }

    /// Take every block that has waited since before `cutoff` (ns of the monotonic clock; `.max`
    /// takes all). `waiting`: whether blocks younger than the cutoff remain.
    func take(queuedBefore cutoff: UInt64) -> (blocks: [Block], waiting: Bool) {
        var blocks: [Block] = []
        var waiting = false
        for slot in slots {
            let taken = slot.pending.withLock { s -> Block? in
                guard let block = s.block else { return nil }
                guard s.since < cutoff else {
                    waiting = true
                    return nil
                }
                s.block = nil
                return Block(words: block)
            }
            if let taken { blocks.append(taken) }
        }
        return (blocks, waiting)
    }

    /// Call `free` on each pointer of `block`, then release the block.
    static func drain(_ block: Block, _ free: (UnsafeMutableRawPointer) -> Void) {
        for i in 1...Int(block.words[0]) { free(UnsafeMutableRawPointer(bitPattern: block.words[i])!) }
        block.words.deallocate()
    }
}
