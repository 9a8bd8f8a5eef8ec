import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct GFPTests {
    @Test func kernelValues() {
        #expect(GFP_KERNEL.rawValue == 0xcc0)
        // `.kernel` is an inlinable literal: it must stay the union of its named bits.
        #expect(GFP.kernel == [.reclaim, .io, .fs])
        #expect(GFP_NOFS.rawValue == 0xc40)
        #expect(GFP_NOIO.rawValue == 0xc00)
        #expect((GFP_NOFS | __GFP_ZERO).description == "GFP_NOFS|__GFP_ZERO")
        #expect((GFP_KERNEL & ~__GFP_FS) == GFP_NOFS)
    }

    @Test func namesPrintLikePGg() {
        #expect(GFP_KERNEL.description == "GFP_KERNEL")
        #expect((GFP_NOIO | __GFP_NOFAIL).description == "GFP_NOIO|__GFP_NOFAIL")
        #expect((GFP_ATOMIC | __GFP_NOWARN).description == "GFP_ATOMIC|__GFP_NOWARN")
        #expect((GFP_NOWAIT | __GFP_ZERO).description == "GFP_NOWAIT|__GFP_ZERO")
        #expect(
            (GFP_KERNEL | __GFP_NORETRY | __GFP_NOLOCKDEP).description == "GFP_KERNEL|__GFP_NORETRY|__GFP_NOLOCKDEP")
        #expect(GFP().description == "none")
    }
}
