import CShim
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The reuse pools (`PoolHeads` per node, an `IDTable` above 256 pages, aligned requests served
/// from their class's pool): which lazily freed area a request takes back, with no syscall.
@Suite struct ReusePoolTests {
    /// A node-specific request takes back an area freed by a request for the same node, and only
    /// such a request does: a `NUMA_NO_NODE` request gets an area of its own.
    @Test func nodeSpecificRequestsReuseTheirNodesAreas() throws {
        let sys = try makeSystem(nodes: 2, mib: 32)
        let p = try #require(sys.vmalloc_node(3 * 4096, 1))
        #expect(sys.find_vm_area(p)?.pagesPerNode == [0, 3])
        sys.vfree(p)
        var before = vmshim_thread_syscalls()
        let q = try #require(sys.vmalloc_node(3 * 4096, 1))
        #expect(vmshim_thread_syscalls() == before)
        #expect(q == p)
        fill(q, 3 * 4096, seed: 9)
        #expect(check(q, 3 * 4096, seed: 9))
        sys.vfree(q)
        let r = try #require(sys.vmalloc(3 * 4096))
        #expect(r != p)
        before = vmshim_thread_syscalls()
        let s = try #require(sys.vmalloc_node(3 * 4096, 1))
        #expect(vmshim_thread_syscalls() == before)
        #expect(s == p)
        sys.vfree(r)
        sys.vfree(s)
        expectNothingLost(sys)
    }

    /// A node that does not exist is refused with its warning, whatever the pools hold: the
    /// fast path takes only valid nodes.
    @Test func anInvalidNodeIsRefusedWithPooledAreas() throws {
        let capture = LogCapture()
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: capture)
        for node in [NUMA_NO_NODE, 0] {
            let p = try #require(sys.vmalloc_node(2 * 4096, node))
            sys.vfree(p)
        }
        #expect(sys.vmalloc_node(2 * 4096, 1) == nil)
        #expect(sys.__vmalloc_node(2 * 4096, align: 4096, .kernel, node: 7) == nil)
        #expect(capture.lines(containing: "node 1 out of range").count == 1)
        #expect(capture.lines(containing: "node 7 out of range").count == 1)
        expectNothingLost(sys)
    }

    /// An aligned request takes back an area of its class whose owner start is aligned enough —
    /// the area an equal request freed, or one made for a larger alignment — and a plain request
    /// of the class takes aligned areas too. Misaligned pooled areas are skipped, not taken.
    @Test func alignedRequestsReuseAnAlignedEnoughArea() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        for align in [8 << 10, 64 << 10, 1 << 20] {
            let p = try #require(sys.__vmalloc_node(5 * 4096, align: align, .kernel, node: NUMA_NO_NODE))
            #expect(Int(bitPattern: p) % align == 0)
            sys.vfree(p)
            let before = vmshim_thread_syscalls()
            let q = try #require(sys.__vmalloc_node(5 * 4096, align: align, .kernel, node: NUMA_NO_NODE))
            #expect(vmshim_thread_syscalls() == before)
            #expect(q == p)
            sys.vfree(q)
            // A smaller alignment, and none, take the same area back.
            let r = try #require(sys.__vmalloc_node(5 * 4096, align: align / 2, .kernel, node: NUMA_NO_NODE))
            #expect(r == p)
            sys.vfree(r)
            let s = try #require(sys.vmalloc(5 * 4096))
            #expect(s == p)
            fill(s, 5 * 4096, seed: 4)
            #expect(check(s, 5 * 4096, seed: 4))
            sys.vfree(s)
        }
        // A class whose owner start moves with its size (7 pages of class 8): still aligned.
        let t = try #require(sys.__vmalloc_node(7 * 4096, align: 1 << 21, .kernel, node: 0))
        #expect(Int(bitPattern: t) % (1 << 21) == 0)
        #expect(sys.find_vm_area(t)?.nrPages == 7)
        sys.vfree(t)
        let u = try #require(sys.__vmalloc_node(7 * 4096, align: 1 << 21, .kernel, node: 0))
        #expect(u == t)
        sys.vfree(u)
        expectNothingLost(sys)
    }

    /// Random sizes and alignments (random_size_align_alloc_test's), some kept live: every
    /// pointer is aligned, every live page holds its owner's data, and everything comes back.
    @Test func randomAlignedRequestsStayAlignedAndLoseNothing() throws {
        let sys = try makeSystem(mib: 128)
        var rng = SplitMix64(seed: 18)
        var live: [(UnsafeMutableRawPointer, Int, UInt8)] = []
        for step in 0..<2000 {
            if live.count > 12 || (!live.isEmpty && rng.next() % 2 == 0) {
                let (p, bytes, seed) = live.remove(at: Int(rng.next() % UInt64(live.count)))
                #expect(check(p, bytes, seed: seed))
                sys.vfree(p)
                continue
            }
            let align = 1 << Int(rng.next() % 23)
            let bytes = Int(rng.next() % (10 * 4096)) + 1
            let node = rng.next() % 2 == 0 ? NUMA_NO_NODE : 0
            let p = try #require(sys.__vmalloc_node(bytes, align: align, .kernel, node: node))
            #expect(Int(bitPattern: p) % max(align, 4096) == 0)
            let seed = UInt8(truncatingIfNeeded: step)
            fill(p, bytes, seed: seed)
            live.append((p, bytes, seed))
        }
        for (p, bytes, seed) in live {
            #expect(check(p, bytes, seed: seed))
            sys.vfree(p)
        }
        #expect(sys.space.areas.slackPages == 0)
        expectNothingLost(sys)
    }

    /// A loop of mixed sizes keeps reusing the area it freed last, as the kernel's vmalloc keeps
    /// taking the hot pages of its per-CPU lists: every size up to the class of 100 pages takes
    /// the 112-page area back, its owner's pages the area's last (the guard right after them),
    /// with no syscall; the lead counts as slack, not as used.
    @Test func mixedSizesReuseTheAreaFreedLast() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        guard sys.space.mapper.guardMarkers else { return }  // exact areas: no class to share
        let first = try #require(sys.vmalloc(100 * 4096))
        let end = first + 100 * 4096
        sys.vfree(first)
        let before = vmshim_thread_syscalls()
        for pages in [1, 37, 100, 2, 64, 99, 5, 16, 3] {
            let p = try #require(sys.vmalloc(pages * 4096))
            #expect(p + pages * 4096 == end, "\(pages) pages")
            #expect(sys.vmalloc_to_page(p - 4096) == nil)
            #expect(sys.meminfo().vmallocUsed == pages * 4096)
            #expect(sys.space.areas.slackPages == 112 - pages)
            fill(p, pages * 4096, seed: UInt8(pages))
            #expect(check(p, pages * 4096, seed: UInt8(pages)))
            sys.vfree(p)
        }
        #expect(vmshim_thread_syscalls() == before)
        expectNothingLost(sys)
    }

    /// A lead of more than a quarter of the class is taken only within the shard's slack budget
    /// (`VmapAreas.hotSlackBudget`): a page that would pass it gets an area of its own class,
    /// and the hot area stays pooled.
    @Test func leadsPastAQuarterStayWithinTheSlackBudget() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        guard sys.space.mapper.guardMarkers else { return }
        let big = try #require(sys.vmalloc(256 * 4096))
        sys.vfree(big)
        let a = try #require(sys.vmalloc(4096))
        #expect(a == big + 255 * 4096)
        #expect(sys.space.areas.slackPages == 255)
        let mid = try #require(sys.vmalloc(8 * 4096))
        sys.vfree(mid)
        let b = try #require(sys.vmalloc(4096))
        #expect(b != mid + 7 * 4096)
        #expect(sys.space.areas.slackPages == 255)
        // Within a quarter the budget does not apply: seven pages take the eight-page area.
        let c = try #require(sys.vmalloc(7 * 4096))
        #expect(c == mid + 4096)
        #expect(sys.space.areas.slackPages == 256)
        for p in [a, b, c] { sys.vfree(p) }
        #expect(sys.space.areas.slackPages == 0)
        expectNothingLost(sys)
    }

    /// Areas above the direct pools' 256 pages are pooled by (pages, node) in the flat table.
    @Test func largeAreasAreReusedWithoutASyscall() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        var areas: [UnsafeMutableRawPointer] = []
        for pages in [300, 301, 300] { areas.append(try #require(sys.vmalloc(pages * 4096))) }
        for p in areas { sys.vfree(p) }
        let before = vmshim_thread_syscalls()
        let p = try #require(sys.vmalloc(301 * 4096))
        let q = try #require(sys.vmalloc(300 * 4096))
        let r = try #require(sys.vmalloc(300 * 4096))
        #expect(vmshim_thread_syscalls() == before)
        #expect(p == areas[1])
        #expect(Set([q, r]) == Set([areas[0], areas[2]]))
        for a in [p, q, r] { sys.vfree(a) }
        expectNothingLost(sys)
    }
}
