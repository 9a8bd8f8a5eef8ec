import CShim
import Glibc
import Logging
import Synchronization

/// Where the system's warnings go (`printk`): the configured `Logger`, or stderr. Reports are
/// rate-limited per call site like `printk_ratelimited` (10 lines per 5 s), and `once` reports
/// print one time per call site like `WARN_ONCE`.
final class Printk: Sendable {
    private struct State {
        var windows: [String: (start: UInt64, printed: Int)] = [:]
        var onceSeen: Set<String> = []
    }
    private let logger: Logger?
    private let state = Lock(State())
    private static let burst = 10
    private static let intervalNs: UInt64 = 5_000_000_000

    init(logger: Logger?) { self.logger = logger }

    /// A rate-limited warning keyed by `site`.
    func warn(_ message: @autoclosure () -> String, site: String) {
        let emit: String? = state.withLock { s in
            // Read the clock under the lock: a reading taken before it could be older than the
            // window another thread just opened.
            let now = Self.monotonicNs()
            var w = s.windows[site] ?? (now, 0)
            if now - w.start > Self.intervalNs { w = (now, 0) }
            w.printed += 1
            s.windows[site] = w
            guard w.printed <= Self.burst else { return nil }
            return message()
        }
        if let emit { write(emit) }
    }

    /// A warning printed only the first time `site` reports (`WARN_ONCE`).
    func warnOnce(_ message: @autoclosure () -> String, site: String) {
        let emit: String? = state.withLock { s in
            guard s.onceSeen.insert(site).inserted else { return nil }
            return message()
        }
        if let emit { write(emit) }
    }

    private func write(_ line: String) {
        if let logger {
            logger.warning("\(line)")
        } else {
            vmshim_log_line("[vmalloc] \(line)")
        }
    }

    static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
