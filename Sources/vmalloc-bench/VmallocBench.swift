import ArgumentParser

/// `vmalloc-bench`: the root command. With no subcommand it runs the lib/test_vmalloc.c suite;
/// later commands (seed, stress, kvmalloc workloads) join `subcommands`.
@main
struct VmallocBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vmalloc-bench",
        abstract: "Benchmarks swift-vmalloc against mmap, glibc, jemalloc, mimalloc and libnuma.",
        subcommands: [Suite.self, Seed.self],
        defaultSubcommand: Suite.self
    )
}
