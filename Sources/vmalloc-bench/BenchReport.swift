import Foundation
import Histogram
import Vmalloc

/// Which figures belong together: one test variant on one contender at one thread count.
struct Combination: Hashable, Sendable {
    var workload: Workload
    var nrPages: Int?
    var threads: Int
    var contender: ContenderKind

    /// The same test variant at another thread count or on another contender.
    func with(threads: Int? = nil, contender: ContenderKind? = nil) -> Combination {
        Combination(
            workload: workload, nrPages: nrPages, threads: threads ?? self.threads,
            contender: contender ?? self.contender)
    }

    var variant: String {
        workload.rawValue + (nrPages.map { " nr_pages=\($0)" } ?? "")
    }
}

/// The figures of one combination over its repeats: a `results` entry of the JSON and a row of
/// the table. Throughput is the median of the repeats; latency percentiles come from the
/// repeats' merged histograms; VMAs and RSS are the largest seen.
struct Figures: Encodable {
    let combination: Combination
    var status: RunStatus
    var runs: [RunStatus]
    var loops: Int
    /// Operations over all repeats, and whether any repeat stopped at the time budget.
    var operations: Int
    var truncated: Bool
    var opsPerSecRuns: [Double]
    var opsPerSec: Double
    /// Median over repeats of `RunResult.cpuShare`.
    var cpuShare: Double
    var p50: UInt64
    var p99: UInt64
    /// Every syscall of the process during the loop (ptrace census), per operation.
    var syscallsPerOp: Double?
    /// The census per syscall name, per operation.
    var syscallsByName: [String: Double]?
    /// Mapping syscalls (`mmap`, `munmap`, `mprotect`, `mremap`) per operation, from the census.
    var mappingSyscallsPerOp: Double?
    /// Syscalls through the vmshim wrappers during the timed loops, per operation.
    var shimSyscallsPerOp: Double
    var vmas: Int
    var vmasProcess: Int
    var peakRSS: Int
    var rssGrowth: Int
    /// vmalloc only: bytes resident in its memfds while the live set was allocated (its frames'
    /// footprint in the host's Shmem, which RSS does not show for unmapped free frames).
    var memfdResident: Int?
    var metadataBytesPerPage: Double?
    var allocatorVerified: Bool?
    var scaling: Double?
    var ratioTo: [ContenderKind: Double] = [:]
    var notes: [String]

    init?(
        _ combination: Combination, loops: Int, runs results: [RunResult],
        census: (RunResult, syscalls: SyscallCensus)?, notes: [String]
    ) {
        guard let first = results.first else { return nil }
        self.combination = combination
        self.loops = loops
        let setupFailures = results.reduce(0) { $0 + $1.setupFailures }
        self.notes =
            notes
            + (setupFailures > 0
                ? [
                    "setup failed in \(setupFailures) worker(s) over \(results.count) repeat(s): the test's "
                        + "allocations before its loop returned nil"
                ] : [])
        runs = results.map(\.status)
        operations = results.reduce(0) { $0 + $1.operations }
        truncated = results.contains { $0.truncated }
        status = runs.max()!
        opsPerSecRuns = results.map { $0.seconds > 0 ? Double($0.operations) / $0.seconds : 0 }
        opsPerSec = median(opsPerSecRuns)
        cpuShare = median(results.map(\.cpuShare))
        var latency = first.latency
        for r in results.dropFirst() { latency.add(r.latency) }
        p50 = latency.totalCount > 0 ? latency.valueAtPercentile(50) : 0
        p99 = latency.totalCount > 0 ? latency.valueAtPercentile(99) : 0
        if let (run, syscalls) = census, run.operations > 0 {
            let ops = Double(run.operations)
            syscallsPerOp = Double(syscalls.total) / ops
            syscallsByName = syscalls.byName.mapValues { Double($0) / ops }
            mappingSyscallsPerOp = Double(syscalls.mapping) / ops
        }
        memfdResident = results.compactMap(\.memfdResident).max()
        shimSyscallsPerOp = operations > 0 ? Double(results.reduce(0) { $0 + $1.shimSyscalls }) / Double(operations) : 0
        vmas = results.map(\.vmasAdded).max()!
        vmasProcess = results.map(\.vmasProcess).max()!
        peakRSS = results.map(\.peakRSS).max()!
        rssGrowth = results.map(\.rssGrowth).max()!
        metadataBytesPerPage = results.compactMap(\.metadataBytesPerPage).max()
        allocatorVerified = results.compactMap(\.allocatorVerified).min { !$0 && $1 }
    }
}

extension Figures {
    enum CodingKeys: String, CodingKey {
        case workload, contender, threads
        case nrPages = "nr_pages"
        case status, passed, xfailed, failed, loops, repeats
        case operations, truncated
        case opsPerSec = "ops_per_sec"
        case opsPerSecRuns = "ops_per_sec_runs"
        case cpuShare = "cpu_share"
        case p50 = "p50_ns"
        case p99 = "p99_ns"
        case syscallsPerOp = "syscalls_per_op"
        case shimSyscallsPerOp = "shim_syscalls_per_op"
        case syscallsByName = "syscalls_by_name"
        case mappingSyscallsPerOp = "mapping_syscalls_per_op"
        case memfdResident = "memfd_resident_bytes"
        case vmas
        case vmasProcess = "vmas_process"
        case peakRSS = "peak_rss_bytes"
        case rssGrowth = "rss_growth_bytes"
        case metadataBytesPerPage = "metadata_bytes_per_page"
        case allocatorVerified = "allocator_verified"
        case scaling = "scaling_vs_1_thread"
        case ratioTo = "ratio_to"
        case notes
    }

    // Written by hand so that absent figures are explicit nulls, not missing keys.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(combination.workload, forKey: .workload)
        try c.encode(combination.contender, forKey: .contender)
        try c.encode(combination.threads, forKey: .threads)
        try c.encode(combination.nrPages, forKey: .nrPages)
        try c.encode(status, forKey: .status)
        try c.encode(runs.filter { $0 == .passed }.count, forKey: .passed)
        try c.encode(runs.filter { $0 == .xfailed }.count, forKey: .xfailed)
        try c.encode(runs.filter { $0 == .failed }.count, forKey: .failed)
        try c.encode(loops, forKey: .loops)
        try c.encode(runs.count, forKey: .repeats)
        try c.encode(operations, forKey: .operations)
        try c.encode(truncated, forKey: .truncated)
        try c.encode(opsPerSec, forKey: .opsPerSec)
        try c.encode(opsPerSecRuns, forKey: .opsPerSecRuns)
        try c.encode(cpuShare, forKey: .cpuShare)
        try c.encode(p50, forKey: .p50)
        try c.encode(p99, forKey: .p99)
        try c.encode(syscallsPerOp, forKey: .syscallsPerOp)
        try c.encode(syscallsByName, forKey: .syscallsByName)
        try c.encode(mappingSyscallsPerOp, forKey: .mappingSyscallsPerOp)
        try c.encode(shimSyscallsPerOp, forKey: .shimSyscallsPerOp)
        try c.encode(vmas, forKey: .vmas)
        try c.encode(vmasProcess, forKey: .vmasProcess)
        try c.encode(peakRSS, forKey: .peakRSS)
        try c.encode(rssGrowth, forKey: .rssGrowth)
        try c.encode(memfdResident, forKey: .memfdResident)
        try c.encode(metadataBytesPerPage, forKey: .metadataBytesPerPage)
        try c.encode(allocatorVerified, forKey: .allocatorVerified)
        try c.encode(scaling, forKey: .scaling)
        try c.encode(Dictionary(uniqueKeysWithValues: ratioTo.map { ($0.key.rawValue, $0.value) }), forKey: .ratioTo)
        try c.encode(notes, forKey: .notes)
    }
}

/// One figure outside the test suite (`vmalloc_to_page`).
struct MicroFigure: Codable {
    var name: String
    var nsPerOp: Double
    var operations: Int

    enum CodingKeys: String, CodingKey {
        case name
        case nsPerOp = "ns_per_op"
        case operations
    }
}

/// Everything a run produced: `--json` writes it, `table` renders it for people.
struct BenchReport: Encodable {
    var machine: Machine
    var settings: [String: String]
    var results: [Figures]
    var micro: [MicroFigure]
    var targets: [TargetCheck]
    var notes: [String]

    /// Fills in each figure's ratios to the other contenders and its scaling against 1 thread.
    mutating func relate() {
        let index = Dictionary(uniqueKeysWithValues: results.map { ($0.combination, $0.opsPerSec) })
        for i in results.indices {
            let c = results[i].combination
            for other in ContenderKind.allCases where other != c.contender {
                if let theirs = index[c.with(contender: other)], theirs > 0 {
                    results[i].ratioTo[other] = results[i].opsPerSec / theirs
                }
            }
            if c.threads > 1, let one = index[c.with(threads: 1)], one > 0 {
                results[i].scaling = results[i].opsPerSec / one
            }
        }
    }

    /// The human-readable report: one block per test variant, then micro figures and targets.
    var table: String {
        var out =
            "vmalloc-bench — \(machine.cpuModel), \(machine.onlineCPUs) CPUs, Linux \(machine.kernel), "
            + "\(machine.build) build\n"
        out +=
            machine.vmallocGuards == "markers"
            ? "vmalloc guards: MADV_GUARD_INSTALL markers (size classes, one VMA per area)\n"
            : "vmalloc guards: PROT_NONE pages of the reservation (exact sizes; guard markers need Linux 6.13+)\n"
        out += settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "\n"
        out +=
            "ops/s: median of repeats (one op = one loop iteration of the kernel test; * = loop cut at "
            + "max_run_seconds);\n"
        out += "vmalloc÷: vmalloc ops/s over this row's; scale: ops/s over the same row at 1 thread;\n"
        out +=
            "cpu%: CPU time the workers got over threads × wall time (low: the cores were busy elsewhere, or workers "
            + "slept);\n"
        out += "sys/op: all syscalls (ptrace census); map/op: mmap, munmap, mprotect, mremap among them;\n"
        out += "VMAs: mappings added by the live set; RSS+: peak RSS growth; memfd: vmalloc's resident memfd bytes\n"
        out += "with the live set allocated (MiB); meta: bytes/page\n"
        let header = [
            pad("contender", 9, alignLeft: true), pad("thr", 3), pad("ops/s", 8), pad("vmalloc÷", 8), pad("p50 ns", 8),
            pad("p99 ns", 8), pad("sys/op", 7), pad("map/op", 6), pad("VMAs", 6), pad("RSS+ MiB", 8),
            pad("memfd", 6), pad("meta", 5),
            pad("scale", 6), pad("cpu%", 4), "  status",
        ].joined(separator: " ")
        var variants: [String] = []
        var rows: [String: [Figures]] = [:]
        for f in results {
            if rows[f.combination.variant] == nil { variants.append(f.combination.variant) }
            rows[f.combination.variant, default: []].append(f)
        }
        for variant in variants {
            out += "\n== \(variant) ==\n" + header + "\n"
            let sorted = rows[variant]!.sorted {
                ($0.combination.threads, ContenderKind.allCases.firstIndex(of: $0.combination.contender)!)
                    < ($1.combination.threads, ContenderKind.allCases.firstIndex(of: $1.combination.contender)!)
            }
            for f in sorted {
                let c = f.combination
                let vs = c.contender == .vmalloc ? "1.00" : f.ratioTo[.vmalloc].map { format(1 / $0, 2) } ?? "-"
                var status = f.status.rawValue
                if f.allocatorVerified == false { status += " (preload NOT active)" }
                out +=
                    [
                        pad(c.contender.rawValue, 9, alignLeft: true), pad("\(c.threads)", 3),
                        pad((f.truncated ? "*" : "") + si(f.opsPerSec), 8), pad(vs, 8),
                        pad("\(f.p50)", 8), pad("\(f.p99)", 8), pad(f.syscallsPerOp.map { format($0, 2) } ?? "-", 7),
                        pad(f.mappingSyscallsPerOp.map { format($0, 2) } ?? "-", 6),
                        pad("\(f.vmas)", 6), pad(format(Double(f.rssGrowth) / 1_048_576, 1), 8),
                        pad(f.memfdResident.map { format(Double($0) / 1_048_576, 1) } ?? "-", 6),
                        pad(f.metadataBytesPerPage.map { format($0, 1) } ?? "-", 5),
                        pad(f.scaling.map { format($0, 2) + "x" } ?? "", 6), pad(format(f.cpuShare * 100, 0), 4),
                        "  " + status,
                    ].joined(separator: " ") + "\n"
                for note in f.notes { out += "           note: \(note)\n" }
            }
        }
        if !micro.isEmpty {
            out += "\n== micro ==\n"
            for m in micro { out += "\(m.name): \(format(m.nsPerOp, 1)) ns/op over \(m.operations) operations\n" }
        }
        if !targets.isEmpty {
            out += "\n== targets ==\n"
            for t in targets {
                let verdict = t.met.map { $0 ? "MET " : "MISS" } ?? "n/a "
                out += "[\(verdict)] \(t.goal): \(t.measured)\n"
            }
        }
        for note in notes { out += "note: \(note)\n" }
        return out
    }
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func format(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

/// 1234567 → "1.23M".
private func si(_ value: Double) -> String {
    switch value {
    case 1e9...: format(value / 1e9, 2) + "G"
    case 1e6...: format(value / 1e6, 2) + "M"
    case 1e3...: format(value / 1e3, 1) + "k"
    default: format(value, 0)
    }
}
