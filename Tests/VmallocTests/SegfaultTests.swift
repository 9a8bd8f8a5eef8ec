import CShim
import CVmallocTestSupport
import Glibc
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// Every test that expects a process to die of SIGSEGV: an exit test's child, or a child the
/// test forks. The sanitizer runs skip this suite (`make test-tsan`, `make test-asan`): a sanitizer's own
/// SIGSEGV handler turns the fault into its report and another exit.
@Suite struct SegfaultTests {
    // MARK: Guard pages

    @Test func writingOneBytePastTheEndFaults() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let sys = try! makeSystem()
            let p = sys.vmalloc(3 * 4096)!
            p.storeBytes(of: 1, toByteOffset: 3 * 4096 - 1, as: UInt8.self)  // last byte: fine
            p.storeBytes(of: 1, toByteOffset: 3 * 4096, as: UInt8.self)  // guard page
        }
    }

    @Test func useAfterVfreeFaultsInImmediateMode() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let sys = try! makeSystem(immediateUnmap: true)
            let p = sys.vmalloc(4096)!
            p.storeBytes(of: 1, as: UInt8.self)
            sys.vfree(p)
            p.storeBytes(of: 2, as: UInt8.self)
        }
    }

    /// A lazily unmapped vm_map_ram area is gone once its frames are freed.
    @Test func staleMappingIsGoneOnceTheFramesAreFreed() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let sys = try! makeSystem()
            let page = sys.alloc_page(.kernel)!
            let p = sys.vm_map_ram([page])!
            sys.vm_unmap_ram(p, 1)
            sys.__free_page(page)
            p.storeBytes(of: 1, as: UInt8.self)  // the frame may belong to someone else now
        }
    }

    /// vrealloc's move into a pooled area frees the old area as vfree does: once its frame is
    /// wanted elsewhere (every frame taken, which purges), the stale pointer faults rather than
    /// reach the frame's new owner.
    @Test func staleMovedPointerFaultsOnceItsFrameIsTaken() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let sys = try! makeSystem(mib: 16)
            let p = sys.vrealloc(nil, 4096, .kernel)!
            let pooled = sys.vmalloc(4 * 4096)!
            sys.vfree(pooled)
            p.storeBytes(of: 1, as: UInt8.self)
            let n = sys.vrealloc(p, 4 * 4096, .kernel)!
            precondition(n == pooled, "the move did not take the pooled area")
            _ = holdAllFrames(sys)
            p.storeBytes(of: 2, as: UInt8.self)
        }
    }

    /// An area of a batch (`VmallocSpace.vmallocBatch`) taken from the pool has its guard page
    /// too: the frame mapped under it is not the area's, and the marker keeps it out of reach.
    @Test func batchedAreaFaultsAtItsGuardPage() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let sys = try! makeSystem(lazyMaxPages: 1 << 20)
            let first = sys.vmalloc(4096)!
            let p = sys.vmalloc(4096)!
            precondition(p != first, "no second area")
            p.storeBytes(of: 1, as: UInt8.self)
            p.storeBytes(of: 1, toByteOffset: 4096, as: UInt8.self)  // guard page
        }
    }

    // MARK: Size classes: the guard follows the requested end

    @Test func reusedClassAreaFaultsAtItsRequestedEnd() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let sys = try! makeSystem()
            let p = sys.vmalloc(8 * 4096)!
            p.storeBytes(of: 1, toByteOffset: 8 * 4096 - 1, as: UInt8.self)
            sys.vfree(p)
            let q = sys.vmalloc(5 * 4096 + 1)!  // 6 pages, class 6: a fresh area
            let r = sys.vmalloc(7 * 4096)!  // class 8: p again where markers exist
            q.storeBytes(of: 1, toByteOffset: 6 * 4096 - 1, as: UInt8.self)
            r.storeBytes(of: 1, toByteOffset: 7 * 4096 - 1, as: UInt8.self)  // last byte: fine
            r.storeBytes(of: 1, toByteOffset: 7 * 4096, as: UInt8.self)  // the guard
        }
    }

    @Test func freshClassAreaFaultsAtItsRequestedEnd() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let sys = try! makeSystem()
            let p = sys.vmalloc(17 * 4096)!  // class 20
            p.storeBytes(of: 1, toByteOffset: 17 * 4096 - 1, as: UInt8.self)
            p.storeBytes(of: 1, toByteOffset: 17 * 4096, as: UInt8.self)
        }
    }

    // MARK: Page protection

    /// A `vmap(pages, [], .none)` mapping is `PROT_NONE`, as `PAGE_NONE` is: a read through it faults.
    @Test func readingAProtNoneMappingFaults() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let sys = try! makeSystem()
            let page = sys.alloc_page(.kernel)!
            let p = sys.vmap([page], [], .none)!
            // The mapping exists and names the frame: only the access is refused.
            precondition(sys.vmalloc_to_page(p) == page)
            // The value decides an exit: a release build drops a load nobody uses, and its fault.
            if p.load(as: UInt8.self) == 0x5A { exit(3) }
        }
    }

    @Test func writeAfterSetMemoryRoFaults() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let sys = try! makeSystem()
            let p = sys.vmalloc(4 * 4096)!
            p.storeBytes(of: 7, toByteOffset: 4096, as: UInt8.self)
            precondition(sys.set_memory_ro(p + 4096, 2) == 0)
            precondition(p.load(fromByteOffset: 4096, as: UInt8.self) == 7)  // reads still work
            p.storeBytes(of: 1, toByteOffset: 4096, as: UInt8.self)
        }
    }

    // MARK: Fault reports (opt-in) and fork

    @Test func overflowReport() async throws {
        let result = await #expect(processExitsWith: .signal(SIGSEGV), observing: [\.standardErrorContent]) {
            let sys = try! makeSystem(mib: 16, vmallocMiB: 64, faultReports: true)
            let p = sys.vmalloc(2 * 4096)!
            p.storeBytes(of: 1, toByteOffset: 2 * 4096 + 16, as: UInt8.self)
        }
        let text = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(text.contains("BUG: KASAN: vmalloc-out-of-bounds"))
        #expect(text.contains("Write at addr"))
        #expect(text.contains("16 bytes to the right of"))
        #expect(text.contains("8192-byte region"))
        #expect(text.contains("SegfaultTests.swift"))
    }

    @Test func underflowReport() async throws {
        let result = await #expect(processExitsWith: .signal(SIGSEGV), observing: [\.standardErrorContent]) {
            let sys = try! makeSystem(mib: 16, vmallocMiB: 64, faultReports: true)
            _ = sys.vmalloc(4096)!
            let q = sys.vmalloc(3 * 4096)!
            if (q - 8).load(as: UInt64.self) == 0x5A { exit(3) }  // used, as above
        }
        let text = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(text.contains("BUG: KASAN: vmalloc-out-of-bounds"))
        #expect(text.contains("Read at addr"))
        #expect(text.contains("8 bytes to the left of"))
        #expect(text.contains("12288-byte region"))
    }

    @Test func useAfterVfreeReport() async throws {
        let result = await #expect(processExitsWith: .signal(SIGSEGV), observing: [\.standardErrorContent]) {
            let sys = try! makeSystem(mib: 16, vmallocMiB: 64, immediateUnmap: true, faultReports: true)
            let p = sys.vmalloc(5000)!
            sys.vfree(p)
            p.storeBytes(of: 7, toByteOffset: 4100, as: UInt8.self)
        }
        let text = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(text.contains("BUG: KASAN: vmalloc-use-after-free"))
        #expect(text.contains("4100 bytes inside of freed"))
        #expect(text.contains("5000-byte region"))
    }

    @Test func faultsElsewherePassThrough() async throws {
        let result = await #expect(processExitsWith: .signal(SIGSEGV), observing: [\.standardErrorContent]) {
            let sys = try! makeSystem(mib: 16, vmallocMiB: 64, faultReports: true)
            _ = sys.vmalloc(4096)!
            var other: UnsafeMutableRawPointer?
            _ = vmshim_reserve(&other, 4096, 4096)  // PROT_NONE, not ours
            other!.storeBytes(of: 1, as: UInt8.self)
        }
        let text = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(!text.contains("KASAN"))
    }

    @Test func forkedChildDoesNotShareVmallocMemory() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(4096))
        p.storeBytes(of: 0x11, as: UInt8.self)
        let status = vmtest_fork_and_write(p)
        // The child's write faults (its copy of the region is PROT_NONE) instead of landing in
        // the parent's frame.
        #expect(status & 0x7f == SIGSEGV)
        #expect(p.load(as: UInt8.self) == 0x11)
        let direct = sys.page_address(try #require(sys.vmalloc_to_page(p)))
        #expect(vmtest_fork_and_write(direct) & 0x7f == SIGSEGV)
        #expect(direct.load(as: UInt8.self) == 0x11)
        sys.vfree(p)
        expectNothingLost(sys)
    }
}
