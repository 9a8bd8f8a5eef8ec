import Logging
import VmallocTestSupport

@testable import Vmalloc

/// A `Logger` backend that keeps every line, so tests read warnings as a configured logger
/// receives them (`Configuration.logger`).
final class LogCapture: Sendable {
    private let lines = Lock<[String]>([])

    var logger: Logger { LineLogHandler.logger(label: "vmalloc-test") { [self] in append($0) } }
    var all: [String] { lines.withLock { $0 } }
    func lines(containing s: String) -> [String] { all.filter { $0.contains(s) } }
    private func append(_ line: String) { lines.withLock { $0.append(line) } }
}
