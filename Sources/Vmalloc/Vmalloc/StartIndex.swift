import CShim
import Glibc

/// A shard's areas by their owner's start (`vfree`'s lookup, and `vrealloc`'s in place): one
/// entry per page of the shard's slice, the id of the area whose owner starts on that page, plus
/// one (0: none). A lookup is a subtraction, a rotation, a compare and a load, where a hash table
/// (`IDTable`) takes a multiply and a probe; a revival that moves its owner's start is two stores.
///
/// The entries are one anonymous mapping of zero pages: only the pages of entries ever written
/// become memory, 4 bytes per page of VA in use (0.1 % of it), one mapping per shard. (Not
/// `calloc`: the C library may serve a block of this size from its heap and clear it all.)
///
/// Reference semantics, as `IDTable`: owned by one `VmapShard.State`, never copied.
/// Unchecked Sendable: the entries are reached only under the owning shard's lock.
struct StartIndex: @unchecked Sendable {
    /// Owns the entries: frees them with the shard's state.
    private final class Block {
        let entries: UnsafeMutablePointer<Int32>
        let bytes: Int

        init(count: Int) throws(MemorySystemError) {
            bytes = count * MemoryLayout<Int32>.stride
            let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            guard let p, p != MAP_FAILED else { throw .systemCallFailed("mmap(start index)", errno: errno) }
            entries = p.bindMemory(to: Int32.self, capacity: count)
        }

        deinit { munmap(entries, bytes) }
    }

    private let block: Block
    /// The block's entries, the slice's first offset in the region and its pages, held here
    /// too: a lookup then reads them from the shard's state, not through the block.
    private let entries: UnsafeMutablePointer<Int32>
    private let start: Int
    private let pages: UInt

    /// An empty index of the slice [start, start + size) of the region; throws when its mapping
    /// cannot be had (a strict overcommit policy counts it whole).
    init(start: Int, size: Int) throws(MemorySystemError) {
        let pages = max(size >> Int(VMSHIM_PAGE_SHIFT), 1)
        block = try Block(count: pages)
        entries = block.entries
        self.start = start
        self.pages = UInt(pages)
    }

    /// The page of the slice that offset starts, as an entry index: rotated right by the page
    /// shift, an offset off a page boundary (or below the slice) is past every page.
    @inline(__always)
    private func page(_ offset: Int) -> UInt {
        let d = UInt(bitPattern: offset &- start)
        return d &>> UInt(VMSHIM_PAGE_SHIFT) | d &<< UInt(UInt.bitWidth - Int(VMSHIM_PAGE_SHIFT))
    }

    /// The id of the area whose owner starts at offset, or -1 (any offset: none outside the
    /// slice or off a page boundary).
    subscript(offset: Int) -> Int32 {
        @inline(__always) get {
            let i = page(offset)
            return i < pages ? entries[Int(bitPattern: i)] &- 1 : -1
        }
    }

    /// Enter `id` (≥ 0) under offset, a page of the slice that no owner starts on.
    func insert(_ offset: Int, _ id: Int32) {
        let i = page(offset)
        precondition(i < pages && entries[Int(bitPattern: i)] == 0, "StartIndex: \(offset) taken or not in the slice")
        entries[Int(bitPattern: i)] = id &+ 1
    }

    /// Remove the entry of offset, if any.
    func remove(_ offset: Int) {
        let i = page(offset)
        if i < pages { entries[Int(bitPattern: i)] = 0 }
    }

    /// Move the entry of `old` (which has one) to `new` (which has none), both pages of the slice.
    @inline(__always)
    func rekey(from old: Int, to new: Int) {
        let (i, j) = (Int(bitPattern: page(old)), Int(bitPattern: page(new)))
        assert(
            UInt(i) < pages && UInt(j) < pages && entries[j] == 0,
            "StartIndex: rekey off the slice or onto a taken page")
        entries[j] = entries[i]
        entries[i] = 0
    }
}
