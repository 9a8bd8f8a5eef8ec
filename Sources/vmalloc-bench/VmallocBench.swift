import ArgumentParser

/// `vmalloc-bench`: the root command. With no subcommand it runs the lib/test_vmalloc.c suite;
/// `seed`, `kvmalloc` and `stress` are the scenarios of the later issues.
@main
struct VmallocBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vmalloc-bench",
        abstract: "Benchmarks swift-vmalloc against mmap, glibc, jemalloc, mimalloc and libnuma.",
        subcommands: [Suite.self, SeedScenario.self, KvmallocScenario.self, StressCommand.self],
        defaultSubcommand: Suite.self
    )
}
