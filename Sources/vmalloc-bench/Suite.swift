import ArgumentParser
import Foundation
import VmallocTestSupport

/// The default command: the lib/test_vmalloc.c suite on every contender, side by side.
struct Suite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run the lib/test_vmalloc.c workloads on vmalloc and its peers (the default command).")

    @OptionGroup(title: "lib/test_vmalloc.c parameters") var test: TestVmallocOptions
    @OptionGroup var options: SuiteOptions

    func run() throws {
        if let kind = options.childContender {
            try ChildProcess.serve(kind, request: options.childRequest)
            return
        }
        BenchLog.start()
        var run = SuiteRun(SuiteSettings(test, options))
        let report = run.execute()
        print(report.table, terminator: "")
        if let summary = BenchLog.summary { print(summary) }
        if let path = options.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: path))
        }
    }
}

/// One execution of the suite. Repeats are the outer loop and the contender order rotates
/// with each, so that drift (thermal, page cache, other load) hits every contender alike.
struct SuiteRun {
    let settings: SuiteSettings
    /// Instances to run in this process, or to ask what they support (child contenders).
    private var contenders: [(ContenderKind, any Contender)] = []
    private var notes: [String] = []
    private var runs: [Combination: [RunResult]] = [:]
    private var runNotes: [Combination: [String]] = [:]
    private var census: [Combination: (RunResult, syscalls: SyscallCensus)] = [:]
    private var children: [ContenderKind: ChildProcess] = [:]

    init(_ settings: SuiteSettings) {
        self.settings = settings
        for kind in settings.contenders {
            switch kind.make() {
            case .success(let c): contenders.append((kind, c))
            case .failure(let why): notes.append("\(kind.rawValue) skipped: \(why)")
            }
        }
        if settings.ignoredMaskBits != 0 {
            notes.append(
                "run_test_mask bits 0x\(String(settings.ignoredMaskBits, radix: 16)) name no test of "
                    + "lib/test_vmalloc.c; ignored"
            )
        }
    }

    /// The combinations to measure: each test variant, thread count and applicable contender.
    private var combinations: [Combination] {
        settings.workloads.flatMap { w in
            (w.usesNrPages ? settings.nrPages.map { Optional($0) } : [nil]).flatMap { pages in
                settings.threadCounts.flatMap { threads in
                    contenders.filter { w.applies(to: $0.1, useHuge: settings.useHuge) }
                        .map { Combination(workload: w, nrPages: pages, threads: threads, contender: $0.0) }
                }
            }
        }
    }

    mutating func execute() -> BenchReport {
        let all = combinations
        let censused = all.filter { settings.census && (!settings.quick || $0.threads == 1) }
        var progress = Progress(total: all.count * settings.repeats + censused.count)
        for r in 0..<settings.repeats {
            var order = settings.workloads
            var random = SplitMix64(seed: settings.seed &+ UInt64(r))
            if !settings.sequential { random.shuffle(&order) }
            for w in order {
                var group = all.filter { $0.workload == w }
                group = Array(group[(r % max(1, group.count))...] + group[..<(r % max(1, group.count))])
                for c in group.sorted(by: { ($0.nrPages ?? 0, $0.threads) < ($1.nrPages ?? 0, $1.threads) }) {
                    progress.step(
                        "repeat \(r + 1)/\(settings.repeats) \(c.variant) threads=\(c.threads) \(c.contender.rawValue)")
                    measure(c, repeat: r)
                }
            }
        }
        children.removeAll()
        // Quick counts the syscalls of 1-thread runs only: each census is a fresh child process.
        for c in censused {
            progress.step("syscall census \(c.variant) threads=\(c.threads) \(c.contender.rawValue)")
            do {
                census[c] = try ChildProcess.census(request(c, repeat: 0))
            } catch {
                runNotes[c, default: []].append("syscall census: \(error)")
            }
        }
        let micro = microFigures()
        progress.finish()

        var results = all.compactMap { c in
            Figures(c, loops: settings.loops, runs: runs[c] ?? [], census: census[c], notes: runNotes[c] ?? [])
        }
        for c in all where runs[c] == nil {
            notes.append(
                "\(c.variant) threads=\(c.threads) \(c.contender.rawValue): no result "
                    + "(\(runNotes[c]?.joined(separator: "; ") ?? "?"))"
            )
        }
        results.sort { a, b in
            let ia = settings.workloads.firstIndex(of: a.combination.workload)!
            let ib = settings.workloads.firstIndex(of: b.combination.workload)!
            return (ia, a.combination.nrPages ?? 0) < (ib, b.combination.nrPages ?? 0)
        }
        var report = BenchReport(
            machine: .current(), settings: settingsEcho, results: results, micro: micro, targets: [],
            notes: notes + notApplicable)
        report.relate()
        report.targets = TargetCheck.evaluate(
            report.results, micro: micro, judged: !settings.quick && report.machine.build == "release")
        return report
    }

    /// One repeat of one combination, in this process or in a child with its allocator preloaded.
    private mutating func measure(_ c: Combination, repeat r: Int) {
        let request = request(c, repeat: r)
        do {
            if c.contender.preload != nil {
                let child = try children[c.contender] ?? ChildProcess(c.contender)
                children[c.contender] = child
                runs[c, default: []].append(try child.run(request))
            } else {
                Runner.measure(request, on: contenders.first { $0.0 == c.contender }!.1) {
                    runs[c, default: []].append($0)
                }
            }
        } catch {
            runNotes[c, default: []].append("repeat \(r + 1): \(error)")
        }
    }

    /// Every contender gets the same seed for a given repeat, hence the same random sizes.
    private func request(_ c: Combination, repeat r: Int) -> RunRequest {
        RunRequest(
            workload: c.workload, contender: c.contender, threads: c.threads, loops: settings.loops,
            nrPages: c.nrPages ?? 1, liveSetDivisor: settings.quick ? 16 : 1, useHuge: settings.useHuge,
            seed: settings.seed &* 0x9E37_79B9 &+ UInt64(r), budgetNanoseconds: UInt64(settings.maxRunSeconds * 1e9))
    }

    private func microFigures() -> [MicroFigure] {
        guard let vmalloc = contenders.first(where: { $0.0 == .vmalloc })?.1 as? VmallocContender else { return [] }
        let lookups = settings.quick ? 100_000 : 10_000_000
        return vmalloc.lookupNanoseconds(lookups: lookups).map {
            [MicroFigure(name: "vmalloc_to_page", nsPerOp: $0, operations: lookups)]
        } ?? []
    }

    /// Which contenders sit out which tests, and why.
    private var notApplicable: [String] {
        settings.workloads.compactMap { w in
            let out = contenders.filter { !w.applies(to: $0.1, useHuge: settings.useHuge) }.map(\.0.rawValue)
            return out.isEmpty ? nil : "\(w.rawValue): n/a for \(out.joined(separator: ", ")) (no such operation)"
        }
    }

    private var settingsEcho: [String: String] {
        [
            "run_test_mask": "0x" + String(settings.workloads.reduce(0) { $0 | $1.maskBit }, radix: 16),
            "nr_threads": settings.threadCounts.map(String.init).joined(separator: ","),
            "test_loop_count": "\(settings.loops)",
            "test_repeat_count": "\(settings.repeats)",
            "nr_pages": settings.nrPages.map(String.init).joined(separator: ","),
            "sequential_test_order": "\(settings.sequential)",
            "use_huge": "\(settings.useHuge)",
            "seed": "\(settings.seed)",
            "max_run_seconds": "\(settings.maxRunSeconds)",
        ]
    }
}
