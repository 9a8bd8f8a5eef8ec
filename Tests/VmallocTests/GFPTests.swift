import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct GFPTests {
    @Test func kernelValues() {
        #expect(GFP_KERNEL.rawValue == 0xcc0)
        #expect(GFP_NOFS.rawValue == 0xc40)
        #expect(GFP_NOIO.rawValue == 0xc00)
        #expect((GFP_NOFS | __GFP_ZERO).description == "GFP_NOFS|__GFP_ZERO")
        #expect((GFP_KERNEL & ~__GFP_FS) == GFP_NOFS)
    }
}
