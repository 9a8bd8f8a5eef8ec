import ArgumentParser
import Vmalloc
import VmallocTestSupport

/// `vmalloc-bench stress`: the library's stress run (`StressTest`) for as long as asked — the
/// long form of the bounded stress test in `make test`. Exits non-zero when a check fails.
struct StressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract:
            "Threads mixing every operation, mask and scope under memory pressure, with kswapd and allocating "
            + "shrinkers."
    )

    @Option(help: "Worker threads.") var threads = 4
    @Option(help: "Seconds to run.") var seconds = 60.0
    @Option(help: "Nodes of the system under test.") var nodes = 2
    @Option(help: "MiB of frames per node (small keeps memory near the watermarks).") var memoryMib = 32
    @Option(help: "Seconds without progress before the watchdog declares a deadlock.") var watchdog = 30.0

    func run() throws {
        var options = StressTest.Options()
        options.threads = threads
        options.seconds = seconds
        options.nodes = nodes
        options.memoryPerNode = memoryMib << 20
        options.watchdogSeconds = watchdog
        let report = try StressTest.run(options)
        print(report)
        if !report.passed { throw ExitCode.failure }
    }
}
