import CShim
import Synchronization

/// The scope bits of a thread or task (`PF_MEMALLOC_NOFS`, `PF_MEMALLOC_NOIO`, `PF_MEMALLOC`,
/// `PF_MEMALLOC_PIN`).
struct ScopeFlags: OptionSet, Sendable {
    let rawValue: UInt32
    static let noFS = ScopeFlags(rawValue: UInt32(VMSHIM_PF_MEMALLOC_NOFS))
    static let noIO = ScopeFlags(rawValue: UInt32(VMSHIM_PF_MEMALLOC_NOIO))
    static let memalloc = ScopeFlags(rawValue: UInt32(VMSHIM_PF_MEMALLOC))
    /// `PF_MEMALLOC_PIN`: set only by C code (`memalloc_pin_save` sets the bit directly).
    static let pin = ScopeFlags(rawValue: UInt32(VMSHIM_PF_MEMALLOC_PIN))

    /// The thread's flags united with the current task's (`@TaskLocal`) flags. The task-local
    /// read (a runtime call, ~130 instructions) is skipped until some task has entered a scope
    /// (`TaskScope.entered`): every page allocation asks, and most processes never do.
    static var current: ScopeFlags {
        let thread = ScopeFlags(rawValue: vmshim_flags_get())
        guard TaskScope.entered.load(ordering: .relaxed) else { return thread }
        return thread.union(TaskScope.flags)
    }

    /// `current_gfp_context`: NOIO clears IO and FS; else NOFS clears FS. PIN clears MOVABLE:
    /// pages about to be pinned for a long time must not sit where compaction wants to move.
    func apply(to gfp: GFP) -> GFP {
        var g = gfp
        if contains(.noIO) {
            g.subtract([.io, .fs])
        } else if contains(.noFS) {
            g.remove(.fs)
        }
        if contains(.pin) { g.remove(.movable) }
        return g
    }
}

/// Task-scoped flags: inherited by child tasks, not by detached ones.
enum TaskScope {
    @TaskLocal static var flags: ScopeFlags = []

    /// Whether any task has entered a scope in this process; never cleared. `flags` is empty
    /// in every task until then, so `ScopeFlags.current` need not read it. A relaxed load
    /// suffices: `flags` is non-empty only inside a `with(_:_:)` body, in the task that set
    /// this first (program order) or in a child task it created there (task creation orders
    /// the parent's earlier writes before the child runs), and a task that moves to another
    /// thread at an `await` sees what it wrote before; so a read that could find the scope
    /// happens after the store, and coherence makes it see `true`.
    static let entered = Atomic<Bool>(false)

    /// Run `body` with `scope` added to the current task's flags (and its child tasks').
    static func with<R>(_ scope: ScopeFlags, _ body: () async throws -> R) async rethrows -> R {
        // Stored once: a store on every entry would make every task's scope write one shared line.
        if !entered.load(ordering: .relaxed) { entered.store(true, ordering: .relaxed) }
        return try await $flags.withValue(flags.union(scope)) { try await body() }
    }
}

/// Set `flags` on this thread; returns the bits newly set (the token to restore).
func saveScope(_ flags: ScopeFlags) -> UInt32 {
    let old = vmshim_flags_get()
    let token = flags.rawValue & ~old
    vmshim_flags_set(old | flags.rawValue)
    precondition(vmshim_scope_push(token) == 0, "memalloc scopes nested deeper than 256")
    return token
}

/// Clear exactly the bits `token` set. Restoring on another thread or twice is a bug.
func restoreScope(_ token: UInt32, _ name: StaticString) {
    switch vmshim_scope_pop(token) {
    case 0: break
    case -1:
        preconditionFailure(
            "\(name)(0x\(String(token, radix: 16))): no open save on this thread "
                + "(restored twice, or on another thread than the save)"
        )
    default:
        preconditionFailure(
            "\(name)(0x\(String(token, radix: 16))): scopes must be restored in reverse order of their saves")
    }
    vmshim_flags_set(vmshim_flags_get() & ~token)
}

/// Run `body` with `flags` set on this thread: vmalloc's mapping step (so page-table pages obey
/// the caller's NOFS/NOIO) and reclaim (`PF_MEMALLOC`) use it.
func withThreadScope<R>(_ flags: ScopeFlags, _ body: () throws -> R) rethrows -> R {
    if flags.isEmpty { return try body() }
    let token = saveScope(flags)
    defer { restoreScope(token, "withMemallocScope") }
    return try body()
}
