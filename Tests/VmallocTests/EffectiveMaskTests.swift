import Testing

@testable import Vmalloc

/// What vmalloc does with the caller's mask as mm/vmalloc.c does: the `GFP_VMALLOC_SUPPORTED`
/// fix-up only where the kernel runs `vmalloc_fix_flags`, and failure reports that print the
/// mask in effect under the caller's scope.
@Suite(.serialized) struct EffectiveMaskTests {
    /// Zone and mobility modifiers and `__GFP_THISNODE` are not in the kernel's set: `__vmalloc`
    /// fixes them up; `GFP_USER`, `__GFP_RETRY_MAYFAIL` and `__GFP_ACCOUNT` are in it.
    @Test func fixupSetMatchesTheKernel() throws {
        let capture = LogCapture()
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: capture)
        let p = try #require(sys.__vmalloc(4096, GFP_KERNEL | __GFP_DMA32 | __GFP_MOVABLE))
        sys.vfree(p)
        let q = try #require(sys.__vmalloc(4096, GFP_KERNEL | __GFP_THISNODE))
        sys.vfree(q)
        let r = try #require(sys.__vmalloc(4096, GFP_USER | __GFP_RETRY_MAYFAIL | __GFP_ACCOUNT | __GFP_NOLOCKDEP))
        sys.vfree(r)
        #expect(
            capture.lines(containing: "Unexpected gfp:") == [
                "Unexpected gfp: 0xc (GFP_DMA32|__GFP_MOVABLE). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!",
                "Unexpected gfp: 0x200000 (__GFP_THISNODE). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!",
            ])
        expectNothingLost(sys)
    }

    /// `__vmalloc`, `vmalloc_array` and `vcalloc` (through `__vmalloc_noprof`) and `vmalloc_huge`
    /// fix up; `vmalloc`, `vmalloc_node`, `__vmalloc_node` and the kvmalloc fallback do not.
    @Test func fixupRunsOnlyWhereTheKernelFilters() throws {
        let capture = LogCapture()
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: capture)
        let odd = GFP_KERNEL | __GFP_NOMEMALLOC
        var filtered: [UnsafeMutableRawPointer?] = []
        filtered.append(sys.__vmalloc(4096, odd))
        filtered.append(sys.vmalloc_array(2, 4096, odd))
        filtered.append(sys.vcalloc(2, 4096, odd))
        filtered.append(sys.vmalloc_huge(4096, odd))
        #expect(capture.lines(containing: "Unexpected gfp: 0x80000").count == 4)
        var plain: [UnsafeMutableRawPointer?] = []
        plain.append(sys.vmalloc(4096, odd))
        plain.append(sys.vmalloc_node(4096, 0, odd))
        plain.append(sys.__vmalloc_node(4096, align: 4096, odd, node: 0))
        plain.append(sys.kvmalloc(1 << 20, odd))
        #expect(capture.lines(containing: "Unexpected gfp:").count == 4)
        for p in filtered + plain { #expect(p != nil) }
        filtered.forEach(sys.vfree)
        plain.dropLast().forEach(sys.vfree)
        sys.kvfree(plain.last!)
        expectNothingLost(sys)
    }

    /// A failure inside a NOFS scope reports `GFP_NOFS`, the mask the allocation really had.
    @Test func failureReportsPrintTheEffectiveMask() throws {
        let capture = LogCapture()
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: capture)
        let held = drainAllFrames(sys)
        let token = memalloc_nofs_save()
        #expect(sys.vmalloc(4096, GFP_KERNEL | __GFP_NORETRY) == nil)
        #expect(sys.alloc_page(GFP_KERNEL | __GFP_NORETRY) == nil)
        memalloc_nofs_restore(token)
        for b in held { sys.__free_pages(b.page, b.order) }
        let reports = capture.all.filter { $0.contains("vmalloc error:") || $0.contains("page allocation failure:") }
        #expect(!reports.isEmpty)
        for line in reports { #expect(line.contains("mode:0x10c40(GFP_NOFS|__GFP_NORETRY)"), "\(line)") }
        expectNothingLost(sys)
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

    @Test func unsupportedGFPBitsAreFixedUp() throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        let p = try #require(sys.__vmalloc(4096, GFP_KERNEL | GFP(rawValue: 0x1000)))
        #expect(
            log.all.contains { $0.contains("Unexpected gfp: 0x1000") && $0.contains("Fix your code!") })
        sys.vfree(p)
        expectNothingLost(sys)
    }
}
