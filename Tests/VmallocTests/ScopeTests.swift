import CShim
import Foundation
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The scope API (include/linux/sched/mm.h). Scopes live on the thread, so the suite is serialized
/// and every test leaves its thread as it found it.
@Suite(.serialized) struct ScopeTests {
    @Test func nestedSavesReturnOnlyNewBitsAndRestoreSafely() {
        #expect(current_gfp_context(GFP_KERNEL) == GFP_KERNEL)
        let outer = memalloc_nofs_save()
        #expect(outer != 0)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_NOFS)
        let inner = memalloc_nofs_save()
        #expect(inner == 0, "a nested save of a set bit returns no bits")
        let io = memalloc_noio_save()
        #expect(current_gfp_context(GFP_KERNEL) == GFP_NOIO)
        memalloc_noio_restore(io)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_NOFS)
        memalloc_nofs_restore(inner)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_NOFS, "the inner restore keeps the outer scope")
        memalloc_nofs_restore(outer)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_KERNEL)

        let noreclaim = memalloc_noreclaim_save()
        #expect(ScopeFlags.current.contains(.memalloc))
        #expect(current_gfp_context(GFP_KERNEL) == GFP_KERNEL, "PF_MEMALLOC does not change the mask")
        memalloc_noreclaim_restore(noreclaim)
        #expect(!ScopeFlags.current.contains(.memalloc))
    }

    static let masks: [GFP] = [
        GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_NOWAIT, GFP_ATOMIC, GFP_KERNEL | __GFP_ZERO | __GFP_NOFAIL,
    ]

    @Test(arguments: masks)
    func currentGfpContextTruthTable(mask: GFP) {
        let cases: [([MemallocScope], GFP)] = [
            ([], mask),
            ([.noFS], mask.subtracting(__GFP_FS)),
            ([.noIO], mask.subtracting(__GFP_IO | __GFP_FS)),
            ([.noFS, .noIO], mask.subtracting(__GFP_IO | __GFP_FS)),
            ([.noIO, .noFS], mask.subtracting(__GFP_IO | __GFP_FS)),
            ([.noReclaim], mask),
            ([.noReclaim, .noFS], mask.subtracting(__GFP_FS)),
        ]
        for (scopes, expected) in cases {
            func nest(_ rest: ArraySlice<MemallocScope>) -> GFP {
                guard let first = rest.first else { return current_gfp_context(mask) }
                return withMemallocScope(first) { nest(rest.dropFirst()) }
            }
            #expect(nest(scopes[...]) == expected, "\(scopes) \(mask)")
        }
        #expect(current_gfp_context(mask) == mask)
    }

    @Test func asyncScopeReachesChildTasksButNotDetachedOnes() async {
        await withMemallocScope(.noFS) {
            #expect(current_gfp_context(GFP_KERNEL) == GFP_NOFS)
            async let child = current_gfp_context(GFP_KERNEL)
            #expect(await child == GFP_NOFS)
            let grouped = await withTaskGroup(of: GFP.self) { group in
                group.addTask { current_gfp_context(GFP_KERNEL) }
                return await group.next()!
            }
            #expect(grouped == GFP_NOFS)
            let unstructured = await Task { current_gfp_context(GFP_KERNEL) }.value
            #expect(unstructured == GFP_NOFS, "Task {} inherits task-locals")
            let detached = await Task.detached { current_gfp_context(GFP_KERNEL) }.value
            #expect(detached == GFP_KERNEL, "detached tasks do not inherit the scope")
            await withMemallocScope(.noIO) {
                await Task.yield()
                #expect(current_gfp_context(GFP_KERNEL) == GFP_NOIO)
            }
            // The task scope follows the task across suspension points.
            await Task.yield()
            #expect(current_gfp_context(GFP_KERNEL) == GFP_NOFS)
        }
        #expect(current_gfp_context(GFP_KERNEL) == GFP_KERNEL)
    }

    @Test func syncScopeInsideAsyncCode() async {
        let body: () -> GFP = { current_gfp_context(GFP_KERNEL) }
        let inside = withMemallocScope(.noIO, body)
        #expect(inside == GFP_NOIO)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_KERNEL)
        await withMemallocScope(.noFS) {
            await Task.yield()
            let both = withMemallocScope(.noIO, body)
            #expect(both == GFP_NOIO)
            #expect(current_gfp_context(GFP_KERNEL) == GFP_NOFS)
        }
    }

    /// The effective mask of a real allocation is the thread's scope united with the task's.
    @Test func allocationsSeeTheTaskScope() async throws {
        let sys = try makeSystem(minFreePages: 16)
        let fs = FrameCache(sys, name: "fs-inode-cache", requires: __GFP_FS)
        fs.fill()
        await withMemallocScope(.noFS) {
            await Task.yield()
            #expect(sys.alloc_page(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN) == nil)
        }
        #expect(fs.stats.skippedForGFP == 1)
        #expect(fs.masks.isEmpty)
        fs.close()
        expectNothingLost(sys)
    }

    /// `PF_MEMALLOC_PIN`, set in the thread's flags word directly as the C surface's
    /// `memalloc_pin_save` does: `current_gfp_context` clears `__GFP_MOVABLE`, beside NOFS/NOIO.
    @Test func pinFlagClearsMovable() {
        let start = vmshim_flags_get()
        vmshim_flags_set(start | UInt32(VMSHIM_PF_MEMALLOC_PIN))
        #expect(current_gfp_context(GFP(rawValue: __GFP_MOVABLE.rawValue | GFP_KERNEL.rawValue)) == GFP_KERNEL)
        #expect(current_gfp_context(GFP_NOFS | __GFP_MOVABLE) == GFP_NOFS)
        let noio = memalloc_noio_save()
        #expect(current_gfp_context(GFP_KERNEL | __GFP_MOVABLE | __GFP_ZERO) == GFP_NOIO | __GFP_ZERO)
        memalloc_noio_restore(noio)
        vmshim_flags_set(start)
        #expect(current_gfp_context(GFP_KERNEL | __GFP_MOVABLE) == GFP_KERNEL | __GFP_MOVABLE)
    }

    /// The page allocator applies the pin rule: a failing `__GFP_MOVABLE` allocation under
    /// `PF_MEMALLOC_PIN` reports a mask without it (the report prints the effective mask).
    @Test func pageAllocatorHonoursThePinFlag() throws {
        let log = LogCapture()
        let sys = try makeSystem(mib: 16, log: log)
        let held = drainAllFrames(sys)
        #expect(sys.alloc_page(GFP_ATOMIC | __GFP_MOVABLE) == nil)
        let start = vmshim_flags_get()
        vmshim_flags_set(start | UInt32(VMSHIM_PF_MEMALLOC_PIN))
        #expect(sys.alloc_pages(GFP_ATOMIC | __GFP_MOVABLE, 1) == nil)
        vmshim_flags_set(start)
        #expect(log.lines(containing: "order:0, mode:0x").allSatisfy { $0.contains("__GFP_MOVABLE") })
        let pinned = log.lines(containing: "order:1, mode:0x")
        #expect(pinned.count == 1 && !pinned[0].contains("__GFP_MOVABLE"), "\(log.all)")
        for b in held { sys.__free_pages(b.page, b.order) }
        expectNothingLost(sys)
    }

    /// C code sets and clears `PF_*` bits directly (bcachefs does; so do the C surface's inline
    /// saves) between a Swift save and its restore: the restore's token check still holds, and
    /// it clears only the bits its save set.
    @Test func directFlagChangesInsideASwiftScope() {
        let nofs = UInt32(VMSHIM_PF_MEMALLOC_NOFS)
        let noio = UInt32(VMSHIM_PF_MEMALLOC_NOIO)
        let pin = UInt32(VMSHIM_PF_MEMALLOC_PIN)
        let start = vmshim_flags_get()
        let token = memalloc_nofs_save()
        vmshim_flags_set(vmshim_flags_get() | noio)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_NOIO)
        vmshim_flags_set(vmshim_flags_get() & ~noio)
        memalloc_nofs_restore(token)
        #expect(vmshim_flags_get() == start)

        let outer = memalloc_nofs_save()
        vmshim_flags_set(vmshim_flags_get() | noio | pin)
        let inner = memalloc_noreclaim_save()
        memalloc_noreclaim_restore(inner)
        memalloc_nofs_restore(outer)
        #expect(vmshim_flags_get() == start | noio | pin, "bits set directly stay set")
        vmshim_flags_set(start)

        vmshim_flags_set(start | nofs)
        let none = memalloc_nofs_save()
        #expect(none == 0, "the bit was already set")
        memalloc_nofs_restore(none)
        #expect(vmshim_flags_get() == start | nofs, "a save that set nothing clears nothing")
        vmshim_flags_set(start)
    }

    @Test func restoreOnAnotherThreadIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) { Self.restoreOnAnotherThread() }
    }

    static func restoreOnAnotherThread() {
        let token = memalloc_nofs_save()
        let t = Thread { memalloc_nofs_restore(token) }
        t.start()
        sleep(10)
    }

    @Test func restoringTwiceIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) { Self.restoreTwice() }
    }

    static func restoreTwice() {
        let token = memalloc_noio_save()
        memalloc_noio_restore(token)
        memalloc_noio_restore(token)
    }
}
