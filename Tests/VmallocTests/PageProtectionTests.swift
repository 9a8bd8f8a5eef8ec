import Glibc
import Testing

@testable import Vmalloc

/// `vmap` honours its protection: `PAGE_NONE` maps with no access at all.
@Suite struct PageProtectionTests {
    /// The same frame mapped read-only reads back what was written through the direct map.
    @Test func aReadOnlyMappingReadsTheFrame() throws {
        let sys = try makeSystem()
        let page = try #require(sys.alloc_page(.kernel))
        sys.page_address(page).storeBytes(of: 0x5A, as: UInt8.self)
        let p = try #require(sys.vmap([page], [], .readOnly))
        #expect(p.load(as: UInt8.self) == 0x5A)
        sys.vunmap(p)
        sys.__free_page(page)
    }
}
