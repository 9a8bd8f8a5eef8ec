import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct GFPFixupTests {
    @Test func namesPrintLikePGg() {
        #expect(GFP_KERNEL.description == "GFP_KERNEL")
        #expect((GFP_NOIO | __GFP_NOFAIL).description == "GFP_NOIO|__GFP_NOFAIL")
        #expect((GFP_ATOMIC | __GFP_NOWARN).description == "GFP_ATOMIC|__GFP_NOWARN")
        #expect((GFP_NOWAIT | __GFP_ZERO).description == "GFP_NOWAIT|__GFP_ZERO")
        #expect(
            (GFP_KERNEL | __GFP_NORETRY | __GFP_NOLOCKDEP).description == "GFP_KERNEL|__GFP_NORETRY|__GFP_NOLOCKDEP")
        #expect(GFP().description == "none")
    }

    /// Unsupported bits are masked off by `__vmalloc` with one warning per call site; the
    /// allocation goes on.
    @Test func unsupportedVmallocBitsAreFixedUpOncePerCallSite() throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        for _ in 0..<3 {
            let p = try #require(sys.__vmalloc(4096, GFP_KERNEL | __GFP_MEMALLOC))
            sys.vfree(p)
        }
        let other = try #require(sys.__vmalloc(4096, GFP_NOFS | __GFP_NOMEMALLOC))
        sys.vfree(other)
        let lines = log.all.filter { $0.hasPrefix("Unexpected gfp:") }
        #expect(
            lines == [
                "Unexpected gfp: 0x20000 (__GFP_MEMALLOC). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!",
                "Unexpected gfp: 0x80000 (__GFP_NOMEMALLOC). Fixing up to gfp: 0xc40 (GFP_NOFS). Fix your code!",
            ])
        expectNothingLost(sys)
    }
}
