import ArgumentParser

/// `vmalloc-bench`: the root command. With no subcommand it runs the lib/test_vmalloc.c suite;
/// `seed` (page tables under the caller's scope vs. a fixed GFP_KERNEL), `kvmalloc` (against
/// malloc on fresh and fragmented memory) and `stress` (the whole family under memory pressure)
/// are scenarios of their own.
@main
struct VmallocBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vmalloc-bench",
        abstract: "Benchmarks swift-vmalloc against mmap, glibc, jemalloc, mimalloc and libnuma.",
        subcommands: [Suite.self, SeedScenario.self, KvmallocScenario.self, StressCommand.self],
        defaultSubcommand: Suite.self
    )
}
