import Glibc
import Logging
import VmallocTestSupport

/// Where the bench's `MemorySystem`s send their warnings: a log file instead of stderr. The
/// workloads provoke failures on purpose (alignment shifts, exhausted nodes, the legacy
/// page-table scope), and their hundreds of "vmalloc error" and lockdep lines would otherwise
/// scroll past the table. Child contender processes inherit the path through the environment
/// and append to the same file; `summary` counts its lines at the end.
enum BenchLog {
    static let environmentKey = "VMALLOC_BENCH_LOG"

    /// The log file: `$VMALLOC_BENCH_LOG`, else `vmalloc-bench.log` in the temporary directory.
    static let path: String = {
        if let p = getenv(environmentKey) { return String(cString: p) }
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        let p = dir + "/vmalloc-bench.log"
        setenv(environmentKey, p, 1)  // children append to the parent's file
        return p
    }()

    private static let fd: Int32 = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)

    /// Empty the file at the start of a run (the parent only; children append).
    static func start() {
        _ = path
        _ = truncate(path, 0)
    }

    /// A logger writing one line per warning to the file (stderr when the file cannot be opened).
    static var logger: Logger {
        let out = fd >= 0 ? fd : 2
        // One write per line: appends from several processes do not interleave within a line.
        return LineLogHandler.logger(label: "vmalloc", logLevel: .warning) { message in
            let text = "[vmalloc] \(message)\n"
            _ = text.utf8CString.withUnsafeBufferPointer { write(out, $0.baseAddress, $0.count - 1) }
        }
    }

    /// One line for after the table: how many warnings the run logged and where.
    static var summary: String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var lines = 0
        while true {
            let c = getc(f)
            if c == EOF { break }
            if c == 10 { lines += 1 }
        }
        return lines == 0
            ? nil : "\(lines) warning line(s) from the allocators (most provoked on purpose) went to \(path)"
    }
}
