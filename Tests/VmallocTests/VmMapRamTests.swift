import CShim
import CVmallocTestSupport
import Foundation
import Glibc
import Synchronization
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct VmMapRamTests {
    @Test func remappingTheSameFramesCostsNoSyscall() throws {
        let sys = try makeSystem()
        let block = try #require(sys.alloc_pages(.kernel, 3))
        let frames = (0..<8).map { Page(pfn: block.pfn + $0) }
        let first = try #require(sys.vm_map_ram(frames))
        sys.vm_unmap_ram(first, 8)
        #expect(sys.find_vm_area(first) == nil)
        #expect(sys.vmalloc_to_page(first) == nil)
        let before = vmshim_thread_syscalls()
        for i in 0..<100 {
            let p = try #require(sys.vm_map_ram(frames))
            p.storeBytes(of: UInt32(i), toByteOffset: 7 * 4096, as: UInt32.self)
            #expect(sys.page_address(frames[7]).load(as: UInt32.self) == UInt32(i))
            sys.vm_unmap_ram(p, 8)
        }
        #expect(vmshim_thread_syscalls() == before)
        // Freeing the frames unmaps every lingering alias first.
        sys.__free_pages(block, 3)
        #expect(!sys.vmallocinfo().contains("unpurged"))
        expectNothingLost(sys)
    }

    @Test func vmMapRamRoundTrip() throws {
        let sys = try makeSystem()
        let block = try #require(sys.alloc_pages(.kernel, 2))
        let pages = (0..<4).map { Page(pfn: block.pfn + $0) }
        let p = try #require(sys.vm_map_ram(pages))
        p.storeBytes(of: 42, as: Int.self)
        #expect(sys.page_address(block).load(as: Int.self) == 42)
        sys.vm_unmap_ram(p, 3)  // wrong count: refused
        #expect(sys.find_vm_area(p) != nil)
        sys.vm_unmap_ram(p, 4)
        #expect(sys.find_vm_area(p) == nil)
        sys.__free_pages(block, 2)
        expectNothingLost(sys)
    }

    /// `vm_map_ram` refuses a node that does not exist, as vmalloc does, and maps nothing.
    @Test func vmMapRamRefusesABadNode() throws {
        let capture = LogCapture()
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: capture)
        let page = try #require(sys.alloc_page(GFP_KERNEL))
        #expect(sys.vm_map_ram([page], 99) == nil)
        #expect(capture.lines(containing: "vm_map_ram: node 99 out of range: this system has 1 node(s)").count == 1)
        let p = try #require(sys.vm_map_ram([page], 0))
        sys.vm_unmap_ram(p, 1)
        sys.__free_page(page)
        expectNothingLost(sys)
    }

    /// Reuse is keyed by the first frame and the count, and checked frame by frame: a list with
    /// the same first frame and count but other frames gets a mapping of its own frames, and
    /// each list then takes its own area back with no syscall.
    @Test func sameFirstFrameAndCountWithOtherFramesIsMappedAfresh() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        let block = try #require(sys.alloc_pages(.kernel, 2))
        let pages = (0..<4).map { Page(pfn: block.pfn + $0) }
        for (i, page) in pages.enumerated() { sys.page_address(page).storeBytes(of: UInt32(100 + i), as: UInt32.self) }
        let a = [pages[0], pages[1], pages[2]]
        let b = [pages[0], pages[2], pages[1]]
        let p = try #require(sys.vm_map_ram(a))
        sys.vm_unmap_ram(p, 3)
        let q = try #require(sys.vm_map_ram(b))
        #expect(q != p)
        for (i, page) in b.enumerated() {
            #expect(sys.vmalloc_to_page(q + i * 4096) == page)
            #expect((q + i * 4096).load(as: UInt32.self) == UInt32(100 + page.pfn - block.pfn))
        }
        sys.vm_unmap_ram(q, 3)
        let before = vmshim_thread_syscalls()
        let r = try #require(sys.vm_map_ram(a))
        let s = try #require(sys.vm_map_ram(b))
        #expect(vmshim_thread_syscalls() == before)
        #expect(r == p)
        #expect(s == q)
        #expect((r + 4096).load(as: UInt32.self) == 101)
        #expect((s + 4096).load(as: UInt32.self) == 102)
        sys.vm_unmap_ram(r, 3)
        sys.vm_unmap_ram(s, 3)
        sys.__free_pages(block, 2)
        #expect(!sys.vmallocinfo().contains("unpurged"))
        expectNothingLost(sys)
    }

    /// A list of scattered frames (a run per page) is taken back with no syscall whether the
    /// caller passes the same array or an equal one built afresh (as a C caller does), and each
    /// page then maps its own frame; a list that differs in its last frame only is mapped anew.
    @Test func scatteredFramesAreRemappedPageByPage() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        let block = try #require(sys.alloc_pages(.kernel, 4))
        let order = [5, 0, 9, 3, 14, 7, 1, 12, 10, 2, 15, 4, 8, 11, 6]
        let frames = order.map { Page(pfn: block.pfn + $0) }
        for (i, page) in frames.enumerated() { sys.page_address(page).storeBytes(of: UInt32(i), as: UInt32.self) }
        let p = try #require(sys.vm_map_ram(frames))
        sys.vm_unmap_ram(p, frames.count)
        #expect(sys.vmalloc_to_page(p) == nil)
        let before = vmshim_thread_syscalls()
        let q = try #require(sys.vm_map_ram(frames))
        sys.vm_unmap_ram(q, frames.count)
        let r = try #require(sys.vm_map_ram(order.map { Page(pfn: block.pfn + $0) }))
        #expect(vmshim_thread_syscalls() == before)
        #expect(q == p && r == p)
        for (i, page) in frames.enumerated() {
            #expect(sys.vmalloc_to_page(r + i * 4096) == page)
            #expect((r + i * 4096).load(as: UInt32.self) == UInt32(i))
        }
        sys.vm_unmap_ram(r, frames.count)
        let other = frames.dropLast() + [Page(pfn: block.pfn + 13)]
        let s = try #require(sys.vm_map_ram(Array(other)))
        #expect(s != p)
        #expect(sys.vmalloc_to_page(s + 14 * 4096) == Page(pfn: block.pfn + 13))
        sys.vm_unmap_ram(s, frames.count)
        sys.__free_pages(block, 4)
        #expect(!sys.vmallocinfo().contains("unpurged"))
        expectNothingLost(sys)
    }

    /// The page allocator's alias count follows the shard's lingering areas: above 0 once one
    /// lingers, and still after a remap takes the last back (so a map/unmap loop writes no
    /// shared line); a frame free then only drops the count, purging nothing — a lazily freed
    /// vmalloc area stays for reuse — and freeing frames while they linger purges them first.
    @Test func theAliasCountFollowsTheLingeringAreas() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        let block = try #require(sys.alloc_pages(.kernel, 1))
        let other = try #require(sys.alloc_page(.kernel))
        let f0 = [Page(pfn: block.pfn)]
        let f1 = [Page(pfn: block.pfn + 1)]
        let aliases = { sys.allocator.lazyAliases.load(ordering: .acquiring) }
        let p = try #require(sys.vm_map_ram(f0))
        let q = try #require(sys.vm_map_ram(f1))
        #expect(aliases() == 0)
        sys.vm_unmap_ram(p, 1)
        sys.vm_unmap_ram(q, 1)
        #expect(aliases() > 0)
        let r = try #require(sys.vm_map_ram(f0))
        #expect(r == p)
        #expect(aliases() > 0)
        let s = try #require(sys.vm_map_ram(f1))
        #expect(s == q)
        #expect(aliases() > 0)
        let v = try #require(sys.vmalloc(4096))
        sys.vfree(v)
        let purges = sys.allocator.stat[.lazyPurges]
        sys.__free_page(other)
        #expect(aliases() == 0)
        #expect(sys.allocator.stat[.lazyPurges] == purges)
        #expect(sys.vmallocinfo().contains("unpurged"))
        sys.vm_unmap_ram(r, 1)
        #expect(aliases() > 0)
        sys.vm_unmap_ram(s, 1)
        sys.__free_pages(block, 1)
        #expect(aliases() == 0)
        #expect(!sys.vmallocinfo().contains("unpurged"))
        expectNothingLost(sys)
    }

    /// The rule for lingering aliases (ARCHITECTURE, "VA space and lazy free"): once `__free_pages` returns, no lazily unmapped
    /// area maps the frame any more — not even one that another thread's purge has taken off
    /// its shard and not yet unmapped (the space's `aliasPurge` lock makes the free wait for
    /// that unmap). One thread maps a frame, writes, unmaps and frees it in a loop while
    /// another purges without pause; after every free the alias's address must not read.
    @Test func aFreedFrameIsNeverReachedThroughALingeringAlias() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        let stop = Atomic(false)
        let done = DispatchSemaphore(value: 0)
        Thread {
            while !stop.load(ordering: .relaxed) { sys.vm_unmap_aliases() }
            done.signal()
        }.start()
        var stale = 0
        var rounds = 0
        for i in 0..<10000 {
            guard let page = sys.alloc_page(.kernel), let p = sys.vm_map_ram([page]) else { continue }
            p.storeBytes(of: UInt32(i), as: UInt32.self)
            // The probe must see a live mapping, or a stale one would go unseen too.
            #expect(vmtest_is_readable(p) != 0, "a live vm_map_ram area did not read")
            rounds += 1
            sys.vm_unmap_ram(p, 1)
            sched_yield()  // room for the purger to take the alias before the free
            sys.__free_page(page)
            if vmtest_is_readable(p) != 0 { stale += 1 }
        }
        stop.store(true, ordering: .relaxed)
        done.wait()
        #expect(rounds > 0, "no round mapped its frame")
        #expect(stale == 0, "a freed frame stayed mapped by a lingering alias \(stale) times")
        expectNothingLost(sys)
    }
}
