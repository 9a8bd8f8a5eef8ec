import CShim
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The PTE stores of one table (`vmshim_pte_set`/`vmshim_pte_clear`): a run of any length from
/// any entry (the sixteen-byte stores start on an even one, the 32-byte stores of a CPU with
/// AVX2 on a multiple of four), none included, sets or clears exactly its entries and leaves its
/// neighbours alone, whatever is left after the whole rounds of vector stores.
@Suite struct PTEStoreTests {
    static let sentinel: UInt64 = 0xDEAD_BEEF
    static let pfn: UInt64 = 0x12345

    @Test func runsSetAndClearExactlyTheirEntries() {
        // Page-aligned, as a PTE table is: which entries are odd does not depend on malloc.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { raw.deallocate() }
        let table = raw.bindMemory(to: UInt64.self, capacity: 512)
        for first in 0..<4 {
            for count in [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 19, 20, 23, 31, 33, 36, 47, 48, 49, 64, 100, 256] + [
                512 - first
            ] {
                table.update(repeating: Self.sentinel, count: 512)
                vmshim_pte_set(table, UInt64(first), Self.pfn, UInt64(count))
                let set = (0..<512).filter { k in
                    let inRun = k >= first && k < first + count
                    let want = inRun ? (Self.pfn + UInt64(k - first)) << 12 | 1 : Self.sentinel
                    return table[k] != want
                }
                #expect(set.isEmpty, "set of \(count) from \(first): wrong entries \(set.prefix(8))")
                vmshim_pte_clear(table, UInt64(first), UInt64(count))
                let cleared = (0..<512).filter { k in
                    table[k] != (k >= first && k < first + count ? 0 : Self.sentinel)
                }
                #expect(cleared.isEmpty, "clear of \(count) from \(first): wrong entries \(cleared.prefix(8))")
            }
        }
    }

    /// Through the page table: every page of an area of each length maps the frame that holds
    /// what was written through it (a PTE one frame off, or two swapped lanes, would name
    /// another), and none does once the area is freed; nothing is lost. Each size twice: a new
    /// area's PTEs, then those of the same area taken back from its reuse pool (the run stores).
    @Test func areasMapEveryPageAndFreeThemAll() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        let sizes = [1, 2, 3, 5, 9, 16, 17, 33, 100, 256, 300]
        for pages in sizes + sizes {
            let p = try #require(sys.vmalloc(pages * 4096))
            for k in 0..<pages { (p + k * 4096).storeBytes(of: UInt32(k) &* 2_654_435_761, as: UInt32.self) }
            let pfns = (0..<pages).map { sys.vmalloc_to_pfn(p + $0 * 4096) }
            #expect(pfns.allSatisfy { $0 != nil }, "\(pages) pages: a page without a frame")
            #expect(Set(pfns.compactMap { $0 }).count == pages, "\(pages) pages: frames shared")
            let wrong = (0..<pages).filter { k in
                pfns[k].map { sys.page_address(Page(pfn: $0)).load(as: UInt32.self) != UInt32(k) &* 2_654_435_761 }
                    ?? true
            }
            #expect(wrong.isEmpty, "\(pages) pages: PTEs of pages \(wrong.prefix(8)) name another frame")
            sys.vfree(p)
            #expect((0..<pages).allSatisfy { sys.vmalloc_to_pfn(p + $0 * 4096) == nil }, "\(pages) pages: left mapped")
        }
        // Every frame back, page-table pages aside (they stay), as the memFree check here did.
        expectNothingLost(sys)
    }
}
