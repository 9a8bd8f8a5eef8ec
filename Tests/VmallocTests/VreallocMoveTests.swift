import CShim
import Foundation
import Glibc
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// vrealloc's move: into an area of the home shard's reuse pool in the critical section that
/// found the old area too small (`VmapAreas.moveLocked`), the long way (vmalloc, copy, vfree)
/// otherwise. Either way the content moves, the old area is freed as vfree frees it, a stale
/// pointer never reaches another owner's frame, and a failed move changes nothing.
@Suite struct VreallocMoveTests {
    /// A system whose pool holds a four-page area, and a one-page area from `vrealloc(nil)`
    /// filled from `seed`: what a move of that page to four pages finds.
    func pooledAreaAndPage(seed: UInt8) throws -> (MemorySystem, UnsafeMutableRawPointer, UnsafeMutableRawPointer) {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        // The page first: made after the four-page area's vfree, it would take that area (the
        // shard's hot one, `VmapShard.State.reuseHot`).
        let p = try #require(sys.vrealloc(nil, 4096, .kernel))
        let pooled = try #require(sys.vmalloc(4 * 4096))
        sys.vfree(pooled)
        fill(p, 4096, seed: seed)
        return (sys, pooled, p)
    }

    /// A page grown to four while the pool holds a four-page area: the content moves into that
    /// area with no syscall, and the old area is lazily freed onto its pool as vfree frees it —
    /// its PTEs gone, its frame counted free at once, and the next one-page vmalloc takes it back.
    @Test func aMoveIntoAPooledAreaKeepsContentAndFreesTheOldAreaAsVfree() throws {
        let (sys, pooled, p) = try pooledAreaAndPage(seed: 5)
        let before = sys.meminfo()
        let syscalls = vmshim_thread_syscalls()
        let n = try #require(sys.vrealloc(p, 4 * 4096, .kernel))
        #expect(vmshim_thread_syscalls() == syscalls)
        #expect(n == pooled)
        #expect(check(n, 4096, seed: 5))
        #expect(sys.find_vm_area(n)?.requestedSize == 4 * 4096)
        #expect(sys.find_vm_area(p) == nil)
        #expect(sys.vmalloc_to_pfn(p) == nil)
        // The pooled area's four frames are in use now, and the old area's one is free.
        let after = sys.meminfo()
        #expect(after.memFree == before.memFree - 3 * 4096)
        #expect(after.vmallocUsed == before.vmallocUsed + 3 * 4096)
        let q = try #require(sys.vmalloc(4096))
        #expect(q == p)
        sys.vfree(q)
        sys.vfree(n)
        expectNothingLost(sys)
    }

    /// `__GFP_ZERO` on a move into a pooled area whose last owner wrote every byte: the old
    /// content (its requested bytes, no more) and zeroes after it, as a zeroed vmalloc and a copy
    /// leave them.
    @Test func aZeroingMoveClearsWhatThePooledAreaHeld() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        let p = try #require(sys.vrealloc(nil, 3000, .kernel))
        let pooled = try #require(sys.vmalloc(4 * 4096))
        memset(pooled, 0xA5, 4 * 4096)
        sys.vfree(pooled)
        fill(p, 3000, seed: 2)
        p.storeBytes(of: 0xEE, toByteOffset: 3500, as: UInt8.self)  // past the requested size
        let size = 4 * 4096 - 100
        let n = try #require(sys.vrealloc(p, size, GFP_KERNEL | __GFP_ZERO))
        #expect(n == pooled)
        #expect(check(n, 3000, seed: 2))
        #expect(UnsafeRawBufferPointer(start: n + 3000, count: 4 * 4096 - 3000).allSatisfy { $0 == 0 })
        sys.vfree(n)
        expectNothingLost(sys)
    }

    /// An old area that vfree's fast path does not free (`set_memory_ro` changed its pages, so it
    /// is never revived) moves the long way, whose vmalloc takes the pooled area: the pool gives
    /// it once, and nothing is lost.
    @Test func anAreaVfreeFreesTheLongWayMovesTheLongWay() throws {
        let (sys, pooled, p) = try pooledAreaAndPage(seed: 8)
        #expect(sys.set_memory_ro(p, 1) == 0)
        let n = try #require(sys.vrealloc(p, 4 * 4096, .kernel))
        #expect(n == pooled)
        #expect(check(n, 4096, seed: 8))
        #expect(sys.find_vm_area(p) == nil)
        #expect(sys.audit().consistent)
        sys.vfree(n)
        expectNothingLost(sys)
    }

    /// With no pooled area and no VA to be had (`alloc_vmap_area` failing), the move fails
    /// cleanly: nil, p live with its content, nothing lost. A pooled area still serves it, as it
    /// serves vmalloc: a reuse takes no VA.
    @Test func aMoveThatGetsNoAreaChangesNothing() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        let p = try #require(sys.vrealloc(nil, 4096, .kernel))
        fill(p, 4096, seed: 3)
        sys.setFaultInjection(.vmapArea, FaultAttributes(probability: 100))
        #expect(sys.vrealloc(p, 4 * 4096, GFP_KERNEL | __GFP_NOWARN) == nil)
        #expect(sys.injectedFaults(.vmapArea) > 0)
        #expect(sys.find_vm_area(p)?.requestedSize == 4096)
        #expect(check(p, 4096, seed: 3))
        sys.setFaultInjection(.vmapArea, nil)
        let pooled = try #require(sys.vmalloc(4 * 4096))
        sys.vfree(pooled)
        sys.setFaultInjection(.vmapArea, FaultAttributes(probability: 100))
        let n = try #require(sys.vrealloc(p, 4 * 4096, .kernel))
        #expect(n == pooled)
        #expect(check(n, 4096, seed: 3))
        sys.setFaultInjection(.vmapArea, nil)
        sys.vfree(n)
        expectNothingLost(sys)
    }

    /// Once every frame is taken (which purges the lazily freed areas), the old area of a move
    /// maps nothing: its frame went to the new owner unmapped from the stale address.
    @Test func theOldAreasFrameLeavesItsMappingBeforeAnotherOwnerGetsIt() throws {
        let sys = try makeSystem(mib: 16)
        let p = try #require(sys.vrealloc(nil, 4096, .kernel))
        let pooled = try #require(sys.vmalloc(4 * 4096))
        sys.vfree(pooled)
        let pfn = try #require(sys.vmalloc_to_pfn(p))
        let n = try #require(sys.vrealloc(p, 4 * 4096, .kernel))
        #expect(n == pooled)
        let held = holdAllFrames(sys)
        #expect(held.contains { $0.pfn == pfn })
        #expect(!sys.vmallocinfo().contains("unpurged"))
        held.forEach(sys.__free_page)
        sys.vfree(n)
        expectNothingLost(sys)
    }

    /// Threads grow, shrink and free while another purges every lazily freed area again and
    /// again: each move copies from an area still its own, so every check holds.
    @Test func threadsMoveWhileAnotherPurges() throws {
        let sys = try makeSystem(lazyMaxPages: 64)
        let failures = Counter()
        let stop = Counter()
        let group = DispatchGroup()
        let purging = DispatchGroup()
        purging.enter()
        Thread {
            while stop.count == 0 { sys.vm_unmap_aliases() }
            purging.leave()
        }.start()
        for t in 0..<3 {
            group.enter()
            Thread {
                for i in 0..<2000 {
                    let seed = UInt8(truncatingIfNeeded: t * 37 + i)
                    guard var p = sys.vrealloc(nil, 4096, .kernel) else {
                        failures.add()
                        continue
                    }
                    fill(p, 4096, seed: seed)
                    for size in [4 * 4096, 4096, 6 * 4096] {
                        guard let q = sys.vrealloc(p, size, .kernel) else {
                            failures.add()
                            break
                        }
                        p = q
                        if !check(p, 4096, seed: seed) { failures.add() }
                    }
                    sys.vfree(p)
                }
                group.leave()
            }.start()
        }
        group.wait()
        stop.add()
        purging.wait()
        #expect(failures.count == 0)
        expectNothingLost(sys)
    }
}
