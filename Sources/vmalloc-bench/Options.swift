import ArgumentParser
import Foundation

/// The parameters of the kernel's lib/test_vmalloc.c module, spelled as its module parameters.
/// Unset values take the suite's defaults, which `--quick` shrinks (see `SuiteOptions.resolve`).
struct TestVmallocOptions: ParsableArguments {
    @Option(
        help:
            ArgumentHelp(
                "Tests to run: a bit per test, numbered as in lib/test_vmalloc.c (decimal or 0x hex). "
                    + "Default: all of them.",
                // The ids as the kernel module's usage text lists them.
                discussion: Workload.allCases.map { "id: \($0.maskBit), name: \($0.rawValue)" }.joined(separator: "\n"))
    )
    var runTestMask: TestMask?

    @Option(
        help:
            ArgumentHelp(
                "Worker threads. When above 1, every combination also runs on 1 thread for the scaling ratio. Default: "
                    + "online CPUs.")
    )
    var nrThreads: Int?

    @Option(help: "Loop iterations of each test per thread (kernel default 1000000).")
    var testLoopCount: Int?

    @Option(help: "Repeats of each test; figures are medians over them.")
    var testRepeatCount: Int?

    @Option(
        help: "Pages for fix_size_alloc_test, vm_map_ram_test and no_block_alloc_test; a comma list (1,16,256) sweeps.")
    var nrPages: PageCounts?

    @Flag(help: "Run tests in mask order instead of a shuffled order per repeat.")
    var sequentialTestOrder = false

    @Flag(help: "fix_size_alloc_test uses vmalloc_huge (mmap: MADV_HUGEPAGE).")
    var useHuge = false
}

/// Options of the suite that are not the kernel module's.
struct SuiteOptions: ParsableArguments {
    @Flag(
        help:
            ArgumentHelp(
                "A run of seconds that exercises every path (used by `make test`): 100 loops, 1 repeat, "
                    + "nr_pages 1, live sets of full_fit and long_busy_list / 16, census of 1-thread runs only; "
                    + "targets are not judged.")
    )
    var quick = false

    @Option(help: ArgumentHelp("Write the results as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(help: "Contenders, comma separated: vmalloc,mmap,glibc,jemalloc,mimalloc,libnuma.")
    var contenders: ContenderList = ContenderList(ContenderKind.allCases)

    @Option(help: "Seed of the random sizes and the test order; all contenders get the same sequence.")
    var seed: UInt64 = 0x5EED

    @Flag(inversion: .prefixedNo, help: "Count every syscall of each combination once under ptrace.")
    var syscallCensus = true

    @Option(
        help:
            ArgumentHelp(
                "Stop a run's loop after this many seconds even if test_loop_count is not reached (0: never, as the "
                    + "kernel). Keeps slow peers from dominating the wall time.")
    )
    var maxRunSeconds: Double = 0.5

    @Option(help: .hidden) var childContender: ContenderKind?
    @Option(help: .hidden) var childRequest: String?
}

/// A `--run-test-mask` value.
struct TestMask: ExpressibleByArgument, Sendable {
    let bits: Int
    init?(argument: String) {
        let hex = argument.lowercased().hasPrefix("0x")
        guard let v = Int(hex ? String(argument.dropFirst(2)) : argument, radix: hex ? 16 : 10), v > 0 else {
            return nil
        }
        bits = v
    }
}

/// A comma-separated `--nr-pages` list; 0 means 1 page, as in the kernel.
struct PageCounts: ExpressibleByArgument, Sendable {
    let values: [Int]
    init?(argument: String) {
        let parsed = argument.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
        values = parsed.map { max($0!, 1) }
    }
}

/// A comma-separated `--contenders` list.
struct ContenderList: ExpressibleByArgument, Sendable {
    let kinds: [ContenderKind]
    init(_ kinds: [ContenderKind]) { self.kinds = kinds }
    init?(argument: String) {
        let parsed = argument.split(separator: ",").map { ContenderKind(rawValue: String($0)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { return nil }
        kinds = parsed.map { $0! }
    }
    var defaultValueDescription: String { kinds.map(\.rawValue).joined(separator: ",") }
}

extension ContenderKind: ExpressibleByArgument {}

/// The suite's settings once defaults and `--quick` are applied.
struct SuiteSettings: Sendable {
    var workloads: [Workload]
    var threadCounts: [Int]
    var loops: Int
    var repeats: Int
    var nrPages: [Int]
    var sequential: Bool
    var useHuge: Bool
    var contenders: [ContenderKind]
    var seed: UInt64
    var census: Bool
    var maxRunSeconds: Double
    var quick: Bool
    var ignoredMaskBits: Int

    init(_ test: TestVmallocOptions, _ suite: SuiteOptions) {
        let mask = test.runTestMask?.bits ?? Workload.allCases.reduce(0) { $0 | $1.maskBit }
        workloads = Workload.allCases.filter { mask & $0.maskBit != 0 }
        ignoredMaskBits = mask & ~Workload.allCases.reduce(0) { $0 | $1.maskBit }
        let threads = max(1, min(test.nrThreads ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), Int(UInt16.max)))
        threadCounts = threads == 1 ? [1] : [1, threads]
        // Quick: enough iterations to reach every path, few enough for a debug build in seconds.
        // Otherwise 200,000: the fastest contenders do 20,000 iterations in 2 ms, too short to
        // time two threads against one; slow ones stop at maxRunSeconds.
        loops = max(1, test.testLoopCount ?? (suite.quick ? 100 : 200_000))
        repeats = max(1, test.testRepeatCount ?? (suite.quick ? 1 : 3))
        nrPages = test.nrPages?.values ?? (suite.quick ? [1] : [1, 16, 256])
        sequential = test.sequentialTestOrder
        useHuge = test.useHuge
        contenders = suite.contenders.kinds
        seed = suite.seed
        census = suite.syscallCensus
        maxRunSeconds = max(0, suite.maxRunSeconds)
        quick = suite.quick
    }
}
