import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The page-table pages of a mapping are allocated under the caller's mask: a GFP_NOFS/GFP_NOIO
/// vmalloc must not enter FS/IO reclaim through them, as it would with a fixed GFP_KERNEL-like
/// mask (the kernel's "mm/vmalloc: alloc GFP_NO{FS,IO} for vmalloc").
@Suite(.serialized) struct PageTableMaskTests {
    struct Outcome {
        /// Calls into the guarded shrinker whose mask carried the forbidden bit.
        var guardedEntered: Int
        var guardedSkipped: Int
        var helperCalls: Int
        var tablePagesAdded: Int
    }

    /// Memory held by a cache guarded by `bit` (FS- or IO-class) and a cache any reclaim may
    /// shrink; free memory is exactly the min watermark plus the data pages, so the data pages
    /// come without reclaim and the page-table pages of the fresh region must come from it.
    func run(_ scope: PageTableScope, mask: GFP, bit: GFP) throws -> Outcome {
        let sys = try makeSystem(mib: 64, scope: scope, minFreePages: 16)
        let guarded = FrameCache(sys, name: bit == __GFP_FS ? "fs-inode-cache" : "io-buffer-cache", requires: bit)
        let helper = FrameCache(sys, name: "anon-cache")
        guarded.fill(limit: 4096)
        helper.fill()
        let nrPages = 64
        let zone = sys.allocator.zones[0]
        setFree(sys, to: zone.minPages + nrPages, using: helper)
        #expect(freePages(sys) == zone.minPages + nrPages)
        let tablesBefore = sys.meminfo().pageTables / 4096

        let p = try #require(sys.__vmalloc(nrPages * 4096, mask))
        fill(p, nrPages * 4096, seed: 7)
        #expect(check(p, nrPages * 4096, seed: 7))
        let outcome = Outcome(
            guardedEntered: guarded.entered(with: bit), guardedSkipped: guarded.stats.skippedForGFP,
            helperCalls: helper.stats.calls, tablePagesAdded: sys.meminfo().pageTables / 4096 - tablesBefore)
        sys.vfree(p)
        guarded.close()
        helper.close()
        expectNothingLost(sys)
        return outcome
    }

    @Test func nofsPageTablesNeverEnterFSReclaim() throws {
        let fixed = try run(.fromCaller, mask: GFP_NOFS, bit: __GFP_FS)
        #expect(fixed.tablePagesAdded >= 1)
        #expect(fixed.helperCalls > 0, "the page tables must have come from reclaim")
        #expect(fixed.guardedSkipped > 0)
        #expect(fixed.guardedEntered == 0, "the FS shrinker was entered with __GFP_FS under a GFP_NOFS vmalloc")

        let legacy = try run(.legacy, mask: GFP_NOFS, bit: __GFP_FS)
        #expect(legacy.guardedEntered > 0, "legacy page tables reclaim as GFP_KERNEL and enter FS reclaim")
    }

    @Test func noioPageTablesNeverEnterIOReclaim() throws {
        let fixed = try run(.fromCaller, mask: GFP_NOIO, bit: __GFP_IO)
        #expect(fixed.helperCalls > 0)
        #expect(fixed.guardedSkipped > 0)
        #expect(fixed.guardedEntered == 0, "the IO shrinker was entered with __GFP_IO under a GFP_NOIO vmalloc")

        let legacy = try run(.legacy, mask: GFP_NOIO, bit: __GFP_IO)
        #expect(legacy.guardedEntered > 0)
    }

    @Test func mappingScopeFollowsTheCallersMask() throws {
        let sys = try makeSystem()
        #expect(sys.space.mappingScope(GFP_KERNEL) == [])
        #expect(sys.space.mappingScope(GFP_NOFS) == .noFS)
        #expect(sys.space.mappingScope(GFP_NOIO) == .noIO)
        #expect(sys.space.mappingScope(GFP_NOWAIT).contains(.memalloc))
        #expect(sys.space.mappingScope(GFP_KERNEL | __GFP_NORETRY) == .memalloc)
        #expect(sys.space.mappingScope(GFP_NOFS | __GFP_RETRY_MAYFAIL) == [.noFS, .memalloc])
        let legacy = try makeSystem(scope: .legacy)
        #expect(legacy.space.mappingScope(GFP_NOIO) == [])
    }

    /// NORETRY maps under the noreclaim scope: its page tables come from the reserves and no
    /// shrinker is entered for them, even with FS allowed.
    @Test func noretryPageTablesUseNoReclaim() throws {
        let sys = try makeSystem(mib: 64, minFreePages: 16)
        let cache = FrameCache(sys, name: "fs-inode-cache", requires: __GFP_FS)
        cache.fill()
        setFree(sys, to: sys.allocator.zones[0].minPages + 64, using: cache)
        let passes = sys.vmstat()[.directReclaimPasses]!
        let p = try #require(sys.__vmalloc(64 * 4096, GFP_KERNEL | __GFP_NORETRY))
        #expect(sys.vmstat()[.directReclaimPasses]! == passes)
        #expect(cache.stats.calls == 0)
        sys.vfree(p)
        cache.close()
        expectNothingLost(sys)
    }
}
