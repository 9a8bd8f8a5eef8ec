import Glibc
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// Plain areas in size classes, the owner at the class's end and the guard marker right after it
/// (`SizeClass`).
@Suite struct SizeClassTests {
    @Test func classes() {
        #expect((1...6).map(SizeClass.pages(for:)) == Array(1...6))
        #expect(
            [7, 8, 9, 11, 16, 17, 21, 33, 65, 100, 129, 256].map(SizeClass.pages(for:))
                == [8, 8, 10, 12, 16, 20, 24, 40, 80, 112, 160, 256])
        #expect(SizeClass.pages(for: 257) == 257)
    }

    /// A lazily freed class area serves a smaller request of its class, ending where the last
    /// owner ended (the guard did not move), and the figures name the requested pages only:
    /// PTEs, nrPages, size, VmallocUsed; the page in front of the owner is nobody's.
    @Test func smallerRequestReusesTheClassArea() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(8 * 4096))
        sys.vfree(p)
        let q = try #require(sys.vmalloc(7 * 4096 - 100))
        if sys.space.mapper.guardMarkers {
            #expect(q == p + 4096)
            #expect(sys.vmalloc_to_page(p) == nil)
            #expect(sys.find_vm_area(p) == nil)
        }
        let area = try #require(sys.find_vm_area(q))
        #expect(area.addr == q)
        #expect(area.nrPages == 7)
        #expect(area.size == 8 * 4096)
        #expect(area.pagesPerNode.reduce(0, +) == 7)
        #expect(sys.meminfo().vmallocUsed == 7 * 4096)
        #expect(sys.vmalloc_to_page(q + 6 * 4096) != nil)
        #expect(sys.vmalloc_to_page(q + 7 * 4096) == nil)
        #expect(sys.vmallocinfo().contains("pages=7 vmalloc"))
        // set_memory_* covers the owner's pages only.
        if sys.space.mapper.guardMarkers { #expect(sys.set_memory_ro(p, 1) == -EINVAL) }
        fill(q, 7 * 4096 - 100, seed: 3)
        #expect(check(q, 7 * 4096 - 100, seed: 3))
        sys.vfree(q)
        expectNothingLost(sys)
    }

    /// A larger request of the class gets the page in front of its last owner.
    @Test func largerRequestGetsTheLeadBack() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(7 * 4096))
        sys.vfree(p)
        let q = try #require(sys.vmalloc(8 * 4096))
        if sys.space.mapper.guardMarkers { #expect(q == p - 4096) }
        fill(q, 8 * 4096, seed: 5)
        #expect(check(q, 8 * 4096, seed: 5))
        #expect(sys.vmalloc_to_page(q) != nil)
        sys.vfree(q)
        expectNothingLost(sys)
    }

    /// Owners of every size of one class, one after the other, all end at the class's end:
    /// every page of each is theirs and the area is the same.
    @Test func everyOwnerOfAClassEndsAtItsEnd() async {
        await #expect(processExitsWith: .success) {
            let sys = try! makeSystem()
            var ends: Set<UnsafeMutableRawPointer> = []
            for pages in [18, 17, 20, 19, 17, 20] {  // class 20
                let p = sys.vmalloc(pages * 4096)!
                ends.insert(p + pages * 4096)
                fill(p, pages * 4096, seed: UInt8(pages))
                precondition(check(p, pages * 4096, seed: UInt8(pages)))
                sys.vfree(p)
            }
            precondition(!sys.space.mapper.guardMarkers || ends.count == 1, "the class area was not reused")
        }
    }

    /// Mixed sizes, reused across classes: every live page holds its owner's data and maps its
    /// own frame, VmallocUsed counts requested pages, and at the end everything comes back.
    @Test func mixedSizesLoseNothing() throws {
        let sys = try makeSystem(mib: 128)
        var rng = SplitMix64(seed: 11)
        var live: [(UnsafeMutableRawPointer, Int, UInt8)] = []
        for step in 0..<3000 {
            if live.count > 40 || (!live.isEmpty && rng.next() % 3 == 0) {
                let (p, bytes, seed) = live.remove(at: Int(rng.next() % UInt64(live.count)))
                #expect(check(p, bytes, seed: seed))
                sys.vfree(p)
            } else {
                let bytes = Int(rng.next() % (100 * 4096)) + 1
                let p = try #require(sys.vmalloc(bytes))
                let seed = UInt8(truncatingIfNeeded: step)
                fill(p, bytes, seed: seed)
                live.append((p, bytes, seed))
                let pages = (bytes + 4095) / 4096
                #expect(sys.vmalloc_to_page(p + (pages - 1) * 4096) != nil)
                if pages < SizeClass.pages(for: pages) { #expect(sys.vmalloc_to_page(p + pages * 4096) == nil) }
            }
            let used = live.reduce(0) { $0 + ($1.1 + 4095) / 4096 * 4096 }
            if sys.meminfo().vmallocUsed != used { Issue.record("VmallocUsed \(sys.meminfo().vmallocUsed) != \(used)") }
        }
        for (p, bytes, seed) in live {
            #expect(check(p, bytes, seed: seed))
            sys.vfree(p)
        }
        #expect(sys.space.areas.slackPages == 0)
        expectNothingLost(sys)
    }
}
