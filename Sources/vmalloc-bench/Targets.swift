/// The performance targets, judged from this run's figures (never assumed). Figures of
/// a debug build or a `--quick` run are shown but not judged.
struct TargetCheck: Codable {
    var goal: String
    var measured: String
    /// nil when this run did not measure what the target needs.
    var met: Bool?

    static func evaluate(_ results: [Figures], micro: [MicroFigure], judged: Bool) -> [TargetCheck] {
        guard judged else {
            return evaluate(results, micro: micro, judged: true).map {
                TargetCheck(goal: $0.goal, measured: $0.measured + " (not judged: quick or debug run)", met: nil)
            }
        }
        let fixSize = results.filter { $0.combination.workload == .fixSize && $0.combination.contender == .vmalloc }
            .sorted { ($0.combination.nrPages ?? 0) < ($1.combination.nrPages ?? 0) }
        var checks: [TargetCheck] = []

        let single = fixSize.filter { $0.combination.threads == 1 && ($0.combination.nrPages ?? 0) <= 256 }
        let ratios = single.compactMap { f in f.ratioTo[.mmap].map { (f.combination.nrPages ?? 1, $0) } }
        checks.append(
            TargetCheck(
                goal: "vmalloc+touch+vfree of 1–256 pages ≥ 2× mmap+touch+munmap, 1 thread",
                measured: ratios.isEmpty
                    ? "not measured" : ratios.map { "\($0.0)p \(format($0.1, 2))x" }.joined(separator: ", "),
                met: ratios.isEmpty ? nil : ratios.allSatisfy { $0.1 >= 2 }))

        let scaling = fixSize.filter { $0.combination.threads == 2 }.compactMap { f in
            f.scaling.map { (f.combination.nrPages ?? 1, $0) }
        }
        // The peers' own scaling on the same test is the control: when glibc or mimalloc, which
        // share nothing between threads, do not reach 1.8× either, the machine did not give 2 cores.
        let peers = results.filter {
            $0.combination.workload == .fixSize && $0.combination.threads == 2 && $0.combination.contender != .vmalloc
        }
        let controls = peers.compactMap { f in
            f.scaling.map { "\(f.combination.contender.rawValue) \(f.combination.nrPages ?? 1)p \(format($0, 2))x" }
        }
        // Judged only when the peers' 2-thread runs really had 2 cores (cpu share ≥ 80%).
        let peerShare = median(peers.map(\.cpuShare))
        let twoCores = !peers.isEmpty && peerShare >= 0.8
        checks.append(
            TargetCheck(
                goal: "fix_size 2 threads aggregate ≥ 1.8× one thread",
                measured: scaling.isEmpty
                    ? "not measured (needs --nr-threads 2)"
                    : scaling.map { "\($0.0)p \(format($0.1, 2))x" }.joined(separator: ", ")
                        + " (peers: " + controls.joined(separator: ", ")
                        + "; peers' cpu share at 2 threads \(format(peerShare * 100, 0))%"
                        + (twoCores ? ")" : ": the machine did not give 2 cores, not judged)"),
                met: scaling.isEmpty || !twoCores ? nil : scaling.allSatisfy { $0.1 >= 1.8 }))

        let lookup = micro.first { $0.name == "vmalloc_to_page" }
        checks.append(
            TargetCheck(
                goal: "vmalloc_to_page ≤ 30 ns",
                measured: lookup.map { format($0.nsPerOp, 1) + " ns" } ?? "not measured",
                met: lookup.map { $0.nsPerOp <= 30 }))

        let metadata = results.compactMap(\.metadataBytesPerPage).max()
        checks.append(
            TargetCheck(
                goal: "metadata ≤ 1% of managed memory",
                measured: metadata.map { "\(format($0, 1)) B/page = \(format($0 / Double(pageSize) * 100, 2))%" }
                    ?? "not measured",
                met: metadata.map { $0 / Double(pageSize) <= 0.01 }))
        return checks
    }
}
