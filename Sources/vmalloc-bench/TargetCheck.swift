/// The issue's performance targets, judged from this run's figures (never assumed). Figures of
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

        let onePage = single.first { $0.combination.nrPages == 1 }
        checks.append(
            TargetCheck(
                goal: "1 page, 1 thread ≥ 0.5× glibc ops/s",
                measured: onePage?.ratioTo[.glibc].map { "\(format($0, 2))x" } ?? "not measured",
                met: onePage?.ratioTo[.glibc].map { $0 >= 0.5 }))

        checks.append(scalingCheck(results, .fixSize, atLeast: 1.8))

        let mixed = results.first {
            $0.combination.workload == .randomSize && $0.combination.contender == .vmalloc
                && $0.combination.threads == 1
        }
        // Judged only with all three figures: a run without mmap or without the census measured less.
        let vsMmap = mixed?.ratioTo[.mmap]
        let maps = mixed?.mappingSyscallsPerOp
        let p99 = mixed.map { Double($0.p99) / 1000 }
        checks.append(
            TargetCheck(
                goal: "random_size 1 thread ≥ 20× mmap, p99 ≤ 20 µs, ≤ 0.1 mapping syscalls/op",
                measured: mixed == nil
                    ? "not measured"
                    : "\(vsMmap.map { format($0, 1) + "x" } ?? "mmap not run"), p99 \(format(p99 ?? 0, 1)) µs, "
                        + "\(maps.map { format($0, 2) } ?? "no census") maps/op",
                met: vsMmap.flatMap { r in maps.flatMap { m in p99.map { r >= 20 && $0 <= 20 && m <= 0.1 } } }))
        checks.append(scalingCheck(results, .randomSize, atLeast: 1.6))

        // The kernel sizes full_fit per worker: each of n threads builds its own set of areas.
        let fullFit = results.filter { $0.combination.workload == .fullFit && $0.combination.contender == .vmalloc }
            .sorted { $0.combination.threads < $1.combination.threads }
        let oneWorker = fullFit.first { $0.combination.threads == 1 }
        checks.append(
            TargetCheck(
                goal: "full_fit_alloc_test passes at the kernel's size (one worker's set) under vm.max_map_count",
                measured: fullFit.isEmpty
                    ? "not measured"
                    : fullFit.map { "\($0.combination.threads) thread(s) \($0.status.rawValue)" }.joined(
                        separator: ", "),
                met: oneWorker.map { $0.status == .passed }))

        checks.append(glibcParityCheck(results))
        checks.append(vmMapRamCheck(results))
        checks.append(everyWorkloadScalingCheck(results, atLeast: 1.9))

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

    /// vmalloc ÷ glibc ops/s at one thread on every workload both ran, at every page count: the
    /// rows below 1.0× are named.
    private static func glibcParityCheck(_ results: [Figures]) -> TargetCheck {
        let rows = results.filter { $0.combination.contender == .vmalloc && $0.combination.threads == 1 }
            .compactMap { f in f.ratioTo[.glibc].map { (label(f.combination), $0) } }
        let behind = rows.filter { $0.1 < 1 }
        return TargetCheck(
            goal: "1 thread: vmalloc ≥ 1.0× glibc ops/s on every workload glibc runs",
            measured: rows.isEmpty
                ? "not measured (needs glibc)"
                : behind.isEmpty
                    ? "\(rows.count) rows, lowest \(format(rows.map(\.1).min()!, 2))x"
                    : "below: " + behind.map { "\($0.0) \(format($0.1, 2))x" }.joined(separator: ", "),
            met: rows.isEmpty ? nil : behind.isEmpty)
    }

    /// vm_map_ram_test ÷ vmalloc's fix_size ops/s at the same page count and thread count.
    private static func vmMapRamCheck(_ results: [Figures]) -> TargetCheck {
        let vmalloc = results.filter { $0.combination.contender == .vmalloc }
        let pairs = vmalloc.filter { $0.combination.workload == .vmMapRam }.compactMap { m in
            vmalloc.first {
                $0.combination.workload == .fixSize && $0.combination.nrPages == m.combination.nrPages
                    && $0.combination.threads == m.combination.threads && $0.opsPerSec > 0
            }.map { (label(m.combination), m.opsPerSec / $0.opsPerSec) }
        }
        return TargetCheck(
            goal: "vm_map_ram_test ≥ 0.8× vmalloc fix_size ops/s at the same page count",
            measured: pairs.isEmpty
                ? "not measured (needs vm_map_ram_test and fix_size)"
                : pairs.map { "\($0.0) \(format($0.1, 2))x" }.joined(separator: ", "),
            met: pairs.isEmpty ? nil : pairs.allSatisfy { $0.1 >= 0.8 })
    }

    /// vmalloc's 2-thread aggregate over 1 thread on every workload run at 2 threads, judged as
    /// `scalingCheck` judges one workload.
    private static func everyWorkloadScalingCheck(_ results: [Figures], atLeast goal: Double) -> TargetCheck {
        let rows = results.filter { $0.combination.threads == 2 }
        let scaling = rows.filter { $0.combination.contender == .vmalloc }
            .compactMap { f in f.scaling.map { (label(f.combination), $0) } }
        let peerShare = median(rows.filter { $0.combination.contender != .vmalloc }.map(\.cpuShare))
        let twoCores = rows.contains { $0.combination.contender != .vmalloc } && peerShare >= 0.8
        let behind = scaling.filter { $0.1 < goal }
        return TargetCheck(
            goal: "every workload: 2 threads aggregate ≥ \(format(goal, 1))× one thread",
            measured: scaling.isEmpty
                ? "not measured (needs --nr-threads 2)"
                : (behind.isEmpty
                    ? "\(scaling.count) rows, lowest \(format(scaling.map(\.1).min()!, 2))x"
                    : "below: " + behind.map { "\($0.0) \(format($0.1, 2))x" }.joined(separator: ", "))
                    + (twoCores ? "" : " (the machine did not give 2 cores, not judged)"),
            met: scaling.isEmpty || !twoCores ? nil : behind.isEmpty)
    }

    /// "fix_size_alloc_test 16p" style name of a row ("… 2t" at more than one thread).
    private static func label(_ c: Combination) -> String {
        c.workload.rawValue + (c.nrPages.map { " \($0)p" } ?? "") + (c.threads > 1 ? " \(c.threads)t" : "")
    }

    /// vmalloc's 2-thread aggregate over 1 thread on `workload`, judged only when the machine gave
    /// two cores: the peers' own scaling on the same test is the control (glibc or mimalloc
    /// share nothing between threads), and their cpu share at 2 threads must be ≥ 80%.
    private static func scalingCheck(_ results: [Figures], _ workload: Workload, atLeast goal: Double) -> TargetCheck {
        let rows = results.filter { $0.combination.workload == workload && $0.combination.threads == 2 }
        let scaling = rows.filter { $0.combination.contender == .vmalloc }
            .sorted { ($0.combination.nrPages ?? 0) < ($1.combination.nrPages ?? 0) }
            .compactMap { f in f.scaling.map { (f.combination.nrPages.map { "\($0)p " } ?? "", $0) } }
        let peers = rows.filter { $0.combination.contender != .vmalloc }
        let controls = peers.compactMap { f in
            f.scaling.map {
                "\(f.combination.contender.rawValue) \(f.combination.nrPages.map { "\($0)p " } ?? "")\(format($0, 2))x"
            }
        }
        let peerShare = median(peers.map(\.cpuShare))
        let twoCores = !peers.isEmpty && peerShare >= 0.8
        return TargetCheck(
            goal: "\(workload.rawValue) 2 threads aggregate ≥ \(format(goal, 1))× one thread",
            measured: scaling.isEmpty
                ? "not measured (needs --nr-threads 2)"
                : scaling.map { "\($0.0)\(format($0.1, 2))x" }.joined(separator: ", ")
                    + " (peers: " + controls.joined(separator: ", ")
                    + "; peers' cpu share at 2 threads \(format(peerShare * 100, 0))%"
                    + (twoCores ? ")" : ": the machine did not give 2 cores, not judged)"),
            met: scaling.isEmpty || !twoCores ? nil : scaling.allSatisfy { $0.1 >= goal })
    }
}
