import Glibc
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct GuardPageTests {
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
}
