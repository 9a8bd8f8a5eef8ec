import Foundation
import Testing

@testable import Vmalloc

/// `__GFP_NOFAIL` as the kernel's slow path keeps it: it beats NORETRY, RETRY_MAYFAIL and
/// `PF_MEMALLOC`, waiting until someone frees memory; its misuse is warned once per call site.
@Suite(.serialized) struct NofailTests {
    /// On a system with no free frame at all, NOFAIL beside NORETRY or RETRY_MAYFAIL returns only
    /// once another thread has freed memory, and never nil.
    @Test(arguments: [__GFP_NORETRY, __GFP_RETRY_MAYFAIL])
    func nofailBeatsRetryModifiersAndWaitsForMemory(_ modifier: GFP) throws {
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: LogCapture())
        let held = drainAllFrames(sys)
        #expect(sys.alloc_page(GFP_NOWAIT) == nil)
        let (group, started) = freeLater(sys, held, delayMs: 300)
        let p = sys.vmalloc(64 * 4096, GFP_KERNEL | __GFP_NOFAIL | modifier)
        let returnedAt = Printk.monotonicNs()
        #expect(p != nil)
        let freedAt = started.ns.load(ordering: .sequentiallyConsistent)
        #expect(freedAt != 0 && returnedAt > freedAt, "returned before any frame was freed")
        group.wait()
        sys.vfree(p)
        expectNothingLost(sys)
    }

    /// VA that cannot be had: a plain vmalloc fails, a NOFAIL one says `vm_struct allocation
    /// failed. Retrying.` once and waits a tick and tries again until it gets the VA.
    @Test func nofailRetriesTheVAAllocation() throws {
        let capture = LogCapture()
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: capture)
        sys.setFaultInjection(.vmapArea, FaultAttributes(times: 2))
        #expect(sys.vmalloc(4096) == nil)
        sys.setFaultInjection(.vmapArea, FaultAttributes(times: 6))
        for _ in 0..<2 {
            let p = sys.vmalloc(4096, GFP_KERNEL | __GFP_NOFAIL)
            #expect(p != nil)
            sys.vfree(p)
        }
        #expect(capture.lines(containing: "vm_struct allocation failed. Retrying.").count == 1)
        sys.setFaultInjection(.vmapArea, nil)
        expectNothingLost(sys)
    }

    /// The page allocator itself: NOFAIL|NORETRY waits rather than failing.
    @Test func nofailNoretryPageWaitsForMemory() throws {
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: LogCapture())
        let held = drainAllFrames(sys)
        let (group, started) = freeLater(sys, held, delayMs: 300)
        let page = sys.alloc_page(GFP_KERNEL | __GFP_NOFAIL | __GFP_NORETRY)
        let returnedAt = Printk.monotonicNs()
        #expect(page != nil)
        #expect(returnedAt > started.ns.load(ordering: .sequentiallyConsistent))
        group.wait()
        if let page { sys.__free_page(page) }
        expectNothingLost(sys)
    }

    /// Inside `memalloc_noreclaim_save()` (what a shrinker runs under) NOFAIL cannot reclaim; it
    /// waits until memory is freed instead of failing once the reserves are gone, and the
    /// misuse is warned once per call site.
    @Test func nofailUnderNoreclaimScopeWaits() throws {
        let capture = LogCapture()
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: capture)
        for round in 0..<2 {
            let held = drainAllFrames(sys)
            let (group, started) = freeLater(sys, held, delayMs: 300)
            let token = memalloc_noreclaim_save()
            // alloc_pages first: it warns in the slow path, which it reaches only while nothing is
            // free (vmalloc warns on entry).
            let page = sys.alloc_page(GFP_KERNEL | __GFP_NOFAIL)
            let p = sys.vmalloc(16 * 4096, GFP_KERNEL | __GFP_NOFAIL)
            memalloc_noreclaim_restore(token)
            let returnedAt = Printk.monotonicNs()
            #expect(p != nil && page != nil, "round \(round)")
            #expect(returnedAt > started.ns.load(ordering: .sequentiallyConsistent))
            group.wait()
            sys.vfree(p)
            if let page { sys.__free_page(page) }
        }
        let warnings = capture.lines(containing: "__GFP_NOFAIL under PF_MEMALLOC")
        #expect(warnings.count == 2, "one for the vmalloc call site, one for alloc_pages: \(warnings)")
        #expect(warnings.contains { $0.contains("NofailTests.swift") })
        expectNothingLost(sys)
    }

    /// NOFAIL with a mask that cannot block is ignored (the allocation may fail) and warned once
    /// per call site.
    @Test func nofailWithNonBlockingMaskIsWarnedOncePerCallSite() throws {
        let capture = LogCapture()
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: capture)
        for _ in 0..<3 {
            let p = try #require(sys.vmalloc(4096, GFP_NOWAIT | __GFP_NOFAIL))
            sys.vfree(p)
        }
        let q = try #require(sys.__vmalloc(4096, GFP_ATOMIC | __GFP_NOFAIL))
        sys.vfree(q)
        let page = try #require(sys.alloc_page(GFP_ATOMIC | __GFP_NOFAIL))
        sys.__free_page(page)
        let warnings = capture.lines(containing: "__GFP_NOFAIL with a mask that cannot block")
        #expect(warnings.count == 3, "\(warnings)")
        // Ignored means ignored: on an exhausted system such a request fails at once.
        sys.vm_unmap_aliases()
        let held = drainAllFrames(sys)
        #expect(sys.vmalloc(4096, GFP_NOWAIT | __GFP_NOFAIL) == nil)
        for b in held { sys.__free_pages(b.page, b.order) }
        expectNothingLost(sys)
    }

    /// NOFAIL `alloc_pages` above order 1 is warned (once); orders 0 and 1 are not.
    @Test func nofailAboveOrderOneIsWarned() throws {
        let capture = LogCapture()
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: capture)
        for order in [0, 1, 2, 2, 3] {
            let page = try #require(sys.alloc_pages(GFP_KERNEL | __GFP_NOFAIL, order))
            sys.__free_pages(page, order)
        }
        let warnings = capture.lines(containing: "__GFP_NOFAIL allocation of order")
        #expect(warnings.count == 1 && warnings.first?.contains("order 2") == true, "\(warnings)")
        expectNothingLost(sys)
    }
}
