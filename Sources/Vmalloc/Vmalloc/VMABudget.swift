import CShim
import Synchronization

/// A budget of kernel VMAs (`vm.max_map_count`): every run of frames is a VMA, and every piece
/// the reservation is split into is one more (an area's guard page in the reservation splits
/// it; with guard markers the guard lives in the area's mapping and the pieces are counted
/// from the free VA ranges, so areas side by side cost one VMA each). Each system has its own
/// (`Configuration.maxMapCount`) and all share the process's, since the kernel's limit is per
/// process.
final class VMABudget: Sendable {
    /// Slack left for the rest of the process (thread stacks, libraries, malloc arenas).
    static let slack = 2048
    /// The process-wide budget, read from /proc/sys/vm/max_map_count at first use.
    static let process: VMABudget = {
        // An unreadable /proc/self/maps counts as no VMAs in use.
        let used = (try? Result(valueOrErrno: vmshim_count_vmas()).get()) ?? 0
        return VMABudget(limit: max(Int(vmshim_max_map_count()) - Int(used) - slack, 256))
    }()

    let limit: Int
    /// VMAs in use. Adds and subtracts wrap (one `lock xadd` each, where the checked ones are a
    /// `cmpxchg` loop): the count is of VMAs that exist, far from `Int.max`.
    let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    private func take(_ n: Int) -> Bool {
        var cur = used.load(ordering: .relaxed)
        while true {
            if cur + n > limit { return false }
            let (done, now) = used.compareExchange(expected: cur, desired: cur + n, ordering: .relaxed)
            if done { return true }
            cur = now
        }
    }

    /// Spend n VMAs of this budget and of the process's; false (nothing spent) when either is out.
    func charge(_ n: Int) -> Bool {
        guard take(n) else { return false }
        guard self === Self.process || Self.process.take(n) else {
            used.wrappingSubtract(n, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Count n more VMAs that exist whatever the budget says (a new reservation piece): a
    /// later `charge` then sees them.
    func add(_ n: Int) {
        used.wrappingAdd(n, ordering: .relaxed)
        if self !== Self.process { Self.process.used.wrappingAdd(n, ordering: .relaxed) }
    }

    /// Give back n VMAs charged earlier.
    func release(_ n: Int) {
        used.wrappingSubtract(n, ordering: .relaxed)
        if self !== Self.process { Self.process.used.wrappingSubtract(n, ordering: .relaxed) }
    }
}
