import CShim
import Foundation
import Vmalloc

/// What the kernel tells about this process's memory: resident set, its peak, mappings.
enum ProcessStats {
    /// Resets VmHWM to the current RSS (clear_refs "5"), so a later `peakRSS` is the peak of
    /// what ran in between, not of the whole process's life.
    static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .ascii)
    }

    /// VmHWM in bytes.
    static var peakRSS: Int { statusField("VmHWM") }

    /// VmRSS in bytes.
    static var rss: Int { statusField("VmRSS") }

    /// Lines of /proc/self/maps (0 when it cannot be read).
    static var vmas: Int { Int((try? Result(valueOrErrno: vmshim_count_vmas()).get()) ?? 0) }

    /// A "Name:   N kB" line of /proc/self/status, in bytes (0 when absent).
    private static func statusField(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let kb = line.dropFirst(name.count + 1).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 0
            return kb * 1024
        }
        return 0
    }
}
