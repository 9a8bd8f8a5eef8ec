import CShim
import CVmallocBench
import Foundation

/// The stderr progress line. Silent for runs that end within a couple of seconds; rewritten in
/// place on a terminal, a line every few seconds otherwise (logs).
struct Progress {
    private let total: Int
    private let start = vmbench_now_ns()
    private var done = 0
    private var lastPrint: UInt64 = 0
    private let terminal = isatty(STDERR_FILENO) != 0
    private(set) var printed = false

    init(total: Int) {
        self.total = total
    }

    /// One more step is starting; `what` names it.
    mutating func step(_ what: @autoclosure () -> String) {
        done += 1
        let now = vmbench_now_ns()
        guard now - start > 2_000_000_000, terminal || now - lastPrint > 5_000_000_000 else { return }
        lastPrint = now
        printed = true
        let line = "vmalloc-bench: [\(done)/\(total)] \(what())"
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    /// Clears the line on a terminal.
    func finish() {
        if printed && terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
