import CShim
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The PTE stores of one table (`vmshim_pte_set`/`vmshim_pte_clear`): a run of any length from
/// any entry, odd or even (the sixteen-byte stores start on an even one), sets or clears exactly
/// its entries and leaves its neighbours alone.
@Suite struct PTEStoreTests {
    static let sentinel: UInt64 = 0xDEAD_BEEF
    static let pfn: UInt64 = 0x12345

    @Test func runsSetAndClearExactlyTheirEntries() {
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: 512)
        defer { table.deallocate() }
        for first in 0..<4 {
            for count in [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 256] + [512 - first] {
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

    /// Through the page table: every page of an area of each length maps its frame, and none
    /// does once the area is freed; nothing is lost (page-table pages aside, which stay).
    @Test func areasMapEveryPageAndFreeThemAll() throws {
        let sys = try makeSystem()
        let before = sys.meminfo()
        for pages in [1, 2, 3, 5, 9, 16, 17, 33, 100, 256, 300] {
            let p = try #require(sys.vmalloc(pages * 4096))
            let pfns = (0..<pages).map { sys.vmalloc_to_pfn(p + $0 * 4096) }
            #expect(pfns.allSatisfy { $0 != nil }, "\(pages) pages: a page without a frame")
            #expect(Set(pfns.compactMap { $0 }).count == pages, "\(pages) pages: frames shared")
            sys.vfree(p)
            #expect((0..<pages).allSatisfy { sys.vmalloc_to_pfn(p + $0 * 4096) == nil }, "\(pages) pages: left mapped")
        }
        sys.vm_unmap_aliases()
        let after = sys.meminfo()
        #expect(after.memFree + after.pageTables == before.memFree + before.pageTables)
    }
}
