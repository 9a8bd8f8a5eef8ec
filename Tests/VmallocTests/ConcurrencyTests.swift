import Foundation
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct ConcurrencyTests {
    @Test func threadsAllocateWriteVerifyFree() throws {
        let sys = try makeSystem(nodes: 2, mib: 64, lazyMaxPages: 512)
        let threads = 4
        let failures = Counter()
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread {
                var rng = SystemRandomNumberGenerator()
                var live: [(UnsafeMutableRawPointer, Int, UInt8)] = []
                for i in 0..<1500 {
                    let pages = Int.random(in: 1...48, using: &rng)
                    let seed = UInt8(truncatingIfNeeded: t * 31 + i)
                    if let p = sys.vmalloc(pages * 4096) {
                        fill(p, pages * 4096, seed: seed)
                        live.append((p, pages, seed))
                    } else {
                        failures.add()
                    }
                    if live.count > 8 || (i % 3 == 0 && !live.isEmpty) {
                        let (p, n, s) = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                        if !check(p, n * 4096, seed: s) { failures.add() }
                        sys.vfree(p)
                    }
                }
                for (p, n, s) in live {
                    if !check(p, n * 4096, seed: s) { failures.add() }
                    sys.vfree(p)
                }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(failures.count == 0)
        expectNothingLost(sys)
    }
}
