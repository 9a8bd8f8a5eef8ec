import CVmallocBench

/// What one census child's threads asked of the kernel during the timed loop: the total, and
/// the count for each syscall by name.
struct SyscallCensus: Sendable {
    /// Syscall numbers counted one by one; every number is below this on Linux today.
    static let slots = 1024
    /// The calls that create, split or change mappings (they take `mmap_lock` for write, so
    /// they do not scale with threads). A guard marker's `madvise` is not one of them.
    static let mappingCalls: Set<String> = ["mmap", "munmap", "mprotect", "mremap"]

    var total: Int
    var byName: [String: Int]

    /// Name the counts of `byNumber` (indexed by syscall number).
    init(total: Int, byNumber: [UInt64]) {
        self.total = total
        var names: [String: Int] = [:]
        for (nr, n) in byNumber.enumerated() where n > 0 {
            let name = vmbench_syscall_name(UInt32(nr)).map { String(cString: $0) } ?? "nr_\(nr)"
            names[name, default: 0] += Int(n)
        }
        byName = names
    }

    /// Mapping syscalls (`mappingCalls`) in all.
    var mapping: Int { byName.reduce(0) { $0 + (Self.mappingCalls.contains($1.key) ? $1.value : 0) } }
}
