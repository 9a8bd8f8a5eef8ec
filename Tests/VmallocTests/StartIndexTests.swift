import Testing

@testable import Vmalloc

/// A shard's start index: an owner start is found only at its exact offset — not a byte off
/// it, not on a page outside the slice — and entries move and go as the area's start does.
@Suite struct StartIndexTests {
    static let page = PhysicalMemory.pageSize

    @Test func findsOnlyExactStartsInsideItsSlice() throws {
        // A slice of 64 pages that starts 16 pages into the region.
        let start = 16 * Self.page
        let index = try StartIndex(start: start, size: 64 * Self.page)
        index.insert(start, 0)
        index.insert(start + 5 * Self.page, 7)
        index.insert(start + 63 * Self.page, 9)
        #expect(index[start] == 0)
        #expect(index[start + 5 * Self.page] == 7)
        #expect(index[start + 63 * Self.page] == 9)
        // Off a page boundary, beside the entry, below and past the slice, negative: none.
        for offset in [
            start + 5 * Self.page + 1, start + 5 * Self.page - 1, start + 6 * Self.page, start - Self.page,
            start + 64 * Self.page, -Self.page, Int.min, Int.max,
        ] {
            #expect(index[offset] == -1, "offset \(offset) found an area")
        }
        index.rekey(from: start + 5 * Self.page, to: start + 8 * Self.page)
        #expect(index[start + 5 * Self.page] == -1)
        #expect(index[start + 8 * Self.page] == 7)
        index.remove(start + 8 * Self.page)
        index.remove(start - Self.page)
        #expect(index[start + 8 * Self.page] == -1)
        #expect(index[start] == 0 && index[start + 63 * Self.page] == 9)
    }

    /// An index that cannot be mapped (here 4 PiB of entries, past any address space) is an
    /// error the system's init reports, not a crash.
    @Test func anUnmappableIndexThrows() {
        #expect(throws: MemorySystemError.self) { try StartIndex(start: 0, size: 1 << 62) }
    }
}
