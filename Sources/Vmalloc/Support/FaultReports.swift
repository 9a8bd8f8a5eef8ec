import CShim
import Synchronization

/// What owns a region registered for fault reports: it knows what lies at an address of the
/// region, so it writes the report. Called from the SIGSEGV handler, so it may only *try* its
/// locks.
protocol FaultReporter: AnyObject, Sendable {
    /// The KASAN-like text for a fault at `address` (`isWrite`: 1 write, 0 read, else
    /// unknown), or nil when the fault is not one to report.
    func faultReport(at address: UnsafeRawPointer, isWrite: Int32) -> String?
}

/// The opt-in guard-page diagnostics (`faultReports` in the configuration): a SIGSEGV in a
/// registered region whose reporter answers prints a KASAN-like report, then the process dies
/// with SIGSEGV as before. Faults anywhere else pass through untouched.
enum FaultReports {
    private struct Region {
        let start: UInt
        let end: UInt
        /// Weak: the registry must not keep a region's owner alive (its deinit unregisters).
        weak var reporter: (any FaultReporter)?
    }
    private static let regions = Lock<[UInt: Region]>([:])

    static func register(base: UnsafeRawPointer, size: Int, _ reporter: any FaultReporter) {
        let start = UInt(bitPattern: base)
        regions.withLock { $0[start] = Region(start: start, end: start + UInt(size), reporter: reporter) }
        vmshim_fault_reports_install(handler)
    }

    static func unregister(base: UnsafeRawPointer) {
        _ = regions.withLock { $0.removeValue(forKey: UInt(bitPattern: base)) }
    }

    // Runs in the signal handler. It only ever *tries* the locks, so a fault taken while one is
    // held (by this or a frozen thread) passes through instead of deadlocking. Building the
    // text allocates; that is tolerated because the process is about to die anyway.
    private static let handler: vmshim_fault_reporter = { addr, isWrite, buf, len in
        guard let addr, let buf else { return 0 }
        let a = UInt(bitPattern: addr)
        let found = regions.withLockIfAvailable { r in r.values.first { a >= $0.start && a < $0.end } } ?? nil
        guard let region = found, let text = region.reporter?.faultReport(at: UnsafeRawPointer(addr), isWrite: isWrite)
        else { return 0 }
        let bytes = Array(text.utf8.prefix(Int(len)))
        for (i, b) in bytes.enumerated() { buf[i] = CChar(bitPattern: b) }
        return Int32(bytes.count)
    }
}
