import CShim
import CVmallocTestSupport
import Glibc
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The opt-in guard-page diagnostics and process hygiene (fork, close-on-exec).
@Suite struct FaultReportTests {
    static func reportingSystem(immediateUnmap: Bool = false) -> MemorySystem {
        var c = MemorySystem.Configuration()
        c.nodes = 1
        c.memoryPerNode = 16 << 20
        c.vmallocSize = 64 << 20
        c.kswapd = false
        c.faultReports = true
        c.immediateUnmap = immediateUnmap
        return try! MemorySystem(c)
    }

    @Test func overflowReport() async throws {
        let result = await #expect(processExitsWith: .signal(SIGSEGV), observing: [\.standardErrorContent]) {
            let sys = FaultReportTests.reportingSystem()
            let p = sys.vmalloc(2 * 4096)!
            p.storeBytes(of: 1, toByteOffset: 2 * 4096 + 16, as: UInt8.self)
        }
        let text = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(text.contains("BUG: KASAN: vmalloc-out-of-bounds"))
        #expect(text.contains("Write at addr"))
        #expect(text.contains("16 bytes to the right of"))
        #expect(text.contains("8192-byte region"))
        #expect(text.contains("FaultReportTests.swift"))
    }

    @Test func underflowReport() async throws {
        let result = await #expect(processExitsWith: .signal(SIGSEGV), observing: [\.standardErrorContent]) {
            let sys = FaultReportTests.reportingSystem()
            _ = sys.vmalloc(4096)!
            let q = sys.vmalloc(3 * 4096)!
            _ = (q - 8).load(as: UInt64.self)
        }
        let text = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(text.contains("BUG: KASAN: vmalloc-out-of-bounds"))
        #expect(text.contains("Read at addr"))
        #expect(text.contains("8 bytes to the left of"))
        #expect(text.contains("12288-byte region"))
    }

    @Test func useAfterVfreeReport() async throws {
        let result = await #expect(processExitsWith: .signal(SIGSEGV), observing: [\.standardErrorContent]) {
            let sys = FaultReportTests.reportingSystem(immediateUnmap: true)
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
            let sys = FaultReportTests.reportingSystem()
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

    @Test func memfdsAreCloseOnExec() throws {
        let sys = try makeSystem(nodes: 2, mib: 8)
        for fd in sys.memory.fds { #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0) }
    }
}
