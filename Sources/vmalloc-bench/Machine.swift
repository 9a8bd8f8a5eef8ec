import CNuma
import CShim
import CVmallocBench
import Foundation

/// Where the figures were taken: they are ratios, but the machine still explains them.
struct Machine: Codable, Sendable {
    var cpuModel: String
    var onlineCPUs: Int
    var numaNodes: Int
    var kernel: String
    var glibc: String
    var memTotalBytes: Int
    var maxMapCount: Int
    /// How vmalloc guards its areas here: "markers" (MADV_GUARD_INSTALL: size classes, one VMA
    /// per area) or "prot_none" (older kernels: exact sizes, a reservation split per area).
    var vmallocGuards: String
    var build: String
    var date: String

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model"
        case onlineCPUs = "online_cpus"
        case numaNodes = "numa_nodes"
        case kernel, glibc
        case memTotalBytes = "mem_total_bytes"
        case maxMapCount = "max_map_count"
        case vmallocGuards = "vmalloc_guards"
        case build, date
    }

    static func current() -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #if DEBUG
            let build = "debug"
        #else
            let build = "release"
        #endif
        return Machine(
            cpuModel: model,
            onlineCPUs: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            numaNodes: numa_available() < 0 ? 1 : Int(numa_max_node()) + 1,
            kernel: release,
            glibc: String(cString: vmbench_libc_version()),
            memTotalBytes: Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE))),
            maxMapCount: Int(vmshim_max_map_count()),
            vmallocGuards: vmshim_guard_probe() == 1 ? "markers" : "prot_none",
            build: build,
            date: ISO8601DateFormatter().string(from: Date()))
    }
}
