import CShim
import CVmallocTestSupport
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct VMABudgetTests {
    @Test func largeAreaTakesAHandfulOfVMAs() throws {
        let sys = try makeSystem(mib: 256)
        let region = (sys.space.areas.base, sys.space.areas.base + sys.space.areas.regionSize)
        let before = vmtest_count_vmas_in(region.0, region.1)
        let p = try #require(sys.vmalloc(64 << 20))
        let added = vmtest_count_vmas_in(region.0, region.1) - before
        #expect(added <= 4, "64 MiB area added \(added) VMAs")
        #expect(try #require(sys.find_vm_area(p)).nrPages == 16384)
        sys.vfree(p)
        expectNothingLost(sys)
    }

    /// Runs in a child process (an exit test): its 60,000 VMAs would otherwise eat the budget of
    /// the tests running beside it, since `vm.max_map_count` is per process.
    @Test func tensOfThousandsOfSmallAreas() async {
        await #expect(processExitsWith: .success) {
            let sys = try! makeSystem(mib: 256, vmallocMiB: 2048, lazyMaxPages: 1 << 20)
            let region = (sys.space.areas.base, sys.space.areas.base + sys.space.areas.regionSize)
            let baseline = vmtest_count_vmas_in(region.0, region.1)
            var live: [UnsafeMutableRawPointer] = []
            var failed = 0
            for i in 0..<30_000 {
                guard let p = sys.vmalloc(4096, GFP_KERNEL | __GFP_NOWARN) else {
                    failed += 1
                    continue
                }
                p.storeBytes(of: UInt32(i), as: UInt32.self)
                live.append(p)
            }
            // Either every area exists or the budget ran out and the rest failed cleanly.
            precondition(live.count + failed == 30_000 && live.count > 20_000, "live \(live.count), failed \(failed)")
            precondition(
                Int(vmtest_count_vmas_in(region.0, region.1)) <= sys.space.mapper.vmas.used.load(ordering: .relaxed) + 1
            )
            for (i, p) in live.enumerated() where i % 997 == 0 { precondition(p.load(as: UInt32.self) == UInt32(i)) }
            live.forEach(sys.vfree)
            sys.vm_unmap_aliases()
            let info = sys.meminfo()
            precondition(
                info.nodes.allSatisfy { $0.memFree == $0.memTotal - $0.pageTables - $0.slab }, "frames lost: \(info)")
            precondition(vmtest_count_vmas_in(region.0, region.1) == baseline, "VMAs left behind")
            precondition(sys.space.mapper.vmas.used.load(ordering: .relaxed) == 0)
        }
    }

    /// full_fit_alloc_test at the kernel's size on two CPUs (fls(2) × 32 MiB of single pages,
    /// twice: 32,768 live areas) fits the default vm.max_map_count when guard markers put each
    /// guard page inside its area's mapping: one VMA per area. In a child process (an exit test)
    /// for the same reason as the test above.
    @Test func fullFitAtTheKernelsSize() async {
        await #expect(processExitsWith: .success) {
            let sys = try! makeSystem(mib: 256, vmallocMiB: 2048, lazyMaxPages: 1 << 20)
            guard sys.space.mapper.guardMarkers else { return }  // older kernels: 2 VMAs per area
            let region = (sys.space.areas.base, sys.space.areas.base + sys.space.areas.regionSize)
            let baseline = vmtest_count_vmas_in(region.0, region.1)
            var kept: [UnsafeMutableRawPointer] = []
            var junk: [UnsafeMutableRawPointer] = []
            for i in 0..<16_384 {
                guard let p = sys.vmalloc(4096), let q = sys.vmalloc(4096) else {
                    let used = sys.space.mapper.vmas.used.load(ordering: .relaxed)
                    preconditionFailure("area \(2 * i) of 32,768 failed: \(used) VMAs charged")
                }
                p.storeBytes(of: UInt32(i), as: UInt32.self)
                kept.append(p)
                junk.append(q)
            }
            let vmas = Int(vmtest_count_vmas_in(region.0, region.1) - baseline)
            precondition(vmas <= 32_768 + 2, "\(vmas) VMAs for 32,768 areas")
            precondition(vmas <= sys.space.mapper.vmas.used.load(ordering: .relaxed) + 1, "budget below the real count")
            junk.forEach(sys.vfree)
            for _ in 0..<1000 {
                guard let p = sys.vmalloc(4096) else { preconditionFailure("vmalloc in the holes failed") }
                sys.vfree(p)
            }
            for (i, p) in kept.enumerated() where i % 997 == 0 { precondition(p.load(as: UInt32.self) == UInt32(i)) }
            kept.forEach(sys.vfree)
            sys.vm_unmap_aliases()
            let info = sys.meminfo()
            let lost = info.nodes.contains { $0.memFree != $0.memTotal - $0.pageTables - $0.slab }
            precondition(!lost, "frames lost: \(info)")
            precondition(vmtest_count_vmas_in(region.0, region.1) == baseline, "VMAs left behind")
            precondition(sys.space.mapper.vmas.used.load(ordering: .relaxed) == 0)
        }
    }

    @Test func spentBudgetFailsCleanly() throws {
        let log = LogCapture()
        let sys = try makeSystem(maxMapCount: 500, log: log)
        var live: [UnsafeMutableRawPointer] = []
        while let p = sys.vmalloc(4096, GFP_KERNEL | __GFP_NOWARN) { live.append(p) }
        // A one-run area: its mapping, and with the guard in the reservation a split of it too.
        #expect(live.count == (sys.space.mapper.guardMarkers ? 500 : 250))
        #expect(log.all.contains { $0.contains("VMA budget spent") })
        let free = sys.meminfo().memFree
        #expect(sys.vmalloc(4096, GFP_KERNEL | __GFP_NOWARN) == nil)
        #expect(sys.meminfo().memFree == free)
        live.forEach(sys.vfree)
        expectNothingLost(sys)
        #expect(sys.space.mapper.vmas.used.load(ordering: .relaxed) == 0)
    }
}
