import Vmalloc

/// One thing an input holds, with the call that frees it and the tag its bytes carry.
struct Holding {
    enum Kind {
        /// From the vmalloc family: `vfree`.
        case vmalloc
        /// From the kvmalloc family (kmalloc or vmalloc memory): `kvfree`.
        case kvmalloc
        /// From kmalloc (or `ZERO_SIZE_PTR`): `kfree`.
        case kmalloc
        /// A block from `alloc_pages`: `__free_pages(page, order)`.
        case pages(Page, order: Int)
        /// A `vmap` of the frames of `blocks`, page i mapping `pfns[i]`: `vunmap`, then the blocks.
        case vmap(PageProtection, pfns: [Int], blocks: [Holding])
        /// A `vm_map_ram` of the frames of `blocks`: `vm_unmap_ram(p, pfns.count)`, then the blocks.
        case mapRam(pfns: [Int], blocks: [Holding])
    }

    var kind: Kind
    /// The address the caller uses (the direct-map address of a page block).
    var p: UnsafeMutableRawPointer
    /// Bytes that carry the tag pattern.
    var size: Int
    var tag: UInt8

    /// Bytes of frames this holds (what counts against the input's budget).
    var footprint: Int {
        switch kind {
        case .vmap(_, _, let blocks), .mapRam(_, let blocks): blocks.reduce(0) { $0 + $1.footprint }
        default: (size + 4095) & ~4095
        }
    }

    /// Whether p is a vmalloc-space address that starts this holding's area.
    var startsArea: Bool {
        switch kind {
        case .vmalloc, .vmap, .mapRam: true
        case .kvmalloc, .kmalloc, .pages: false
        }
    }

    // The pattern: one byte at the start of every page and the last byte.
    private func expected(at i: Int) -> UInt8 { i == size - 1 ? ~tag : tag &+ UInt8(truncatingIfNeeded: i >> 12) }

    /// Write the pattern through p (touches every page: a wrong mapping shows up as a fault or
    /// as another holding's check failing).
    func fill() {
        guard size > 0 else { return }
        let b = p.assumingMemoryBound(to: UInt8.self)
        for i in stride(from: 0, to: size, by: 4096) { b[i] = expected(at: i) }
        b[size - 1] = expected(at: size - 1)
    }

    /// The first offset below `limit` whose byte is not the pattern, or nil.
    func mismatch(below limit: Int? = nil) -> Int? {
        guard size > 0 else { return nil }
        let end = min(size, limit ?? size)
        let b = p.assumingMemoryBound(to: UInt8.self)
        for i in stride(from: 0, to: end, by: 4096) where i != size - 1 && b[i] != expected(at: i) { return i }
        if size - 1 < end && b[size - 1] != expected(at: size - 1) { return size - 1 }
        return nil
    }
}
