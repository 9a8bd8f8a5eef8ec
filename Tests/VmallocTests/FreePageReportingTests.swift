import Glibc
import Testing

@testable import Vmalloc

/// Freed memory goes back to the OS by itself: after a burst of vmalloc/vfree the node memfds
/// shrink back to the live set within a bounded time, with no call from the program.
@Suite(.serialized) struct FreePageReportingTests {
    static let burst = 256 << 20

    /// Allocate and touch `burst` bytes in 1 MiB areas, keep `live` bytes of it, free the rest.
    func burstThenFree(_ sys: MemorySystem, keep live: Int) -> [UnsafeMutableRawPointer] {
        var areas: [UnsafeMutableRawPointer] = []
        for _ in 0..<(Self.burst >> 20) {
            guard let p = sys.vmalloc(1 << 20) else { break }
            memset(p, 0x5a, 1 << 20)
            areas.append(p)
        }
        let kept = Array(areas.prefix(live >> 20))
        for p in areas.dropFirst(live >> 20) { sys.vfree(p) }
        return kept
    }

    /// Poll until `body` holds or `seconds` pass; true when it held.
    func eventually(within seconds: Double, _ body: () -> Bool) -> Bool {
        var waited = 0.0
        while waited < seconds {
            if body() { return true }
            usleep(50_000)
            waited += 0.05
        }
        return body()
    }

    /// With the default reporting delay, as a program gets it.
    @Test func aFreedBurstGoesBackWithinTwoSeconds() throws {
        let sys = try makeSystem(mib: 384, freePageReportingDelay: MemorySystem.Configuration().freePageReportingDelay)
        let live = 8 << 20
        let kept = burstThenFree(sys, keep: live)
        #expect(sys.residentBytes() >= Self.burst, "the burst was touched")
        // The kernel's free page reporting leaves small free blocks resident: allow 32 MiB above
        // the live set (page tables and slab included).
        let limit = live + (32 << 20)
        #expect(
            eventually(within: 2.0) { sys.residentBytes() <= limit },
            "resident \(sys.residentBytes() >> 20) MiB, live \(live >> 20) MiB")
        for p in kept {
            #expect(check(p, 1 << 20, byte: 0x5a), "live data survives reporting")
            sys.vfree(p)
        }
        expectNothingLost(sys)
    }

    @Test func withoutTheReporterFreedMemoryStaysResident() throws {
        let sys = try makeSystem(mib: 384, freePageReportingDelay: nil)
        let kept = burstThenFree(sys, keep: 0)
        #expect(kept.isEmpty)
        usleep(600_000)
        #expect(sys.residentBytes() >= Self.burst, "nothing gives the frames back by itself")
        #expect(sys.reportFreePages() >= Self.burst / 2, "an explicit report does")
        expectNothingLost(sys)
    }

    func check(_ p: UnsafeMutableRawPointer, _ bytes: Int, byte: UInt8) -> Bool {
        let b = p.assumingMemoryBound(to: UInt8.self)
        return stride(from: 0, to: bytes, by: 4096).allSatisfy { b[$0] == byte }
    }
}
