import CShim

/// A constraint scope (include/linux/sched/mm.h): everything allocated inside it behaves as if
/// its mask lacked the bits the scope forbids.
public enum MemallocScope: Sendable, Hashable {
    /// `PF_MEMALLOC_NOFS`: no filesystem reclaim (`__GFP_FS` cleared).
    case noFS
    /// `PF_MEMALLOC_NOIO`: no IO and no filesystem reclaim (`__GFP_IO|__GFP_FS` cleared).
    case noIO
    /// `PF_MEMALLOC`: no direct reclaim; may use the reserves below the min watermark.
    case noReclaim

    var flag: ScopeFlags {
        switch self {
        case .noFS: .noFS
        case .noIO: .noIO
        case .noReclaim: .memalloc
        }
    }
}

/// The scope bits of a thread or task (`PF_MEMALLOC_NOFS`, `PF_MEMALLOC_NOIO`, `PF_MEMALLOC`,
/// `PF_MEMALLOC_PIN`).
struct ScopeFlags: OptionSet, Sendable {
    let rawValue: UInt32
    static let noFS = ScopeFlags(rawValue: UInt32(VMSHIM_PF_MEMALLOC_NOFS))
    static let noIO = ScopeFlags(rawValue: UInt32(VMSHIM_PF_MEMALLOC_NOIO))
    static let memalloc = ScopeFlags(rawValue: UInt32(VMSHIM_PF_MEMALLOC))
    /// `PF_MEMALLOC_PIN`: set only by C code (`memalloc_pin_save` sets the bit directly).
    static let pin = ScopeFlags(rawValue: UInt32(VMSHIM_PF_MEMALLOC_PIN))

    /// The thread's flags united with the current task's (`@TaskLocal`) flags.
    static var current: ScopeFlags {
        ScopeFlags(rawValue: vmshim_flags_get()).union(TaskScope.flags)
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
}

/// Set `flags` on this thread; returns the bits newly set (the token to restore).
private func save(_ flags: ScopeFlags) -> UInt32 {
    let old = vmshim_flags_get()
    let token = flags.rawValue & ~old
    vmshim_flags_set(old | flags.rawValue)
    precondition(vmshim_scope_push(token) == 0, "memalloc scopes nested deeper than 256")
    return token
}

/// Clear exactly the bits `token` set. Restoring on another thread or twice is a bug.
private func restore(_ token: UInt32, _ name: StaticString) {
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

/// Enter a NOFS scope on this thread; returns the token for `memalloc_nofs_restore`. Mirrors
/// `memalloc_nofs_save()`. Synchronous only: a task may change threads at an `await`.
@available(*, noasync, message: "use withMemallocScope(.noFS) in async code")
public func memalloc_nofs_save() -> UInt32 { save(.noFS) }
/// Leave the NOFS scope entered by the save that returned `flags` (`memalloc_nofs_restore()`).
public func memalloc_nofs_restore(_ flags: UInt32) { restore(flags, "memalloc_nofs_restore") }
/// Enter a NOIO scope on this thread (`memalloc_noio_save()`).
@available(*, noasync, message: "use withMemallocScope(.noIO) in async code")
public func memalloc_noio_save() -> UInt32 { save(.noIO) }
/// Leave a NOIO scope (`memalloc_noio_restore()`).
public func memalloc_noio_restore(_ flags: UInt32) { restore(flags, "memalloc_noio_restore") }
/// Enter a no-reclaim (`PF_MEMALLOC`) scope on this thread (`memalloc_noreclaim_save()`).
@available(*, noasync, message: "use withMemallocScope(.noReclaim) in async code")
public func memalloc_noreclaim_save() -> UInt32 { save(.memalloc) }
/// Leave a no-reclaim scope (`memalloc_noreclaim_restore()`).
public func memalloc_noreclaim_restore(_ flags: UInt32) { restore(flags, "memalloc_noreclaim_restore") }

/// The mask an allocation made here really gets: `gfp` filtered by the thread's and the task's
/// scopes. Mirrors `current_gfp_context()`.
public func current_gfp_context(_ gfp: GFP) -> GFP { ScopeFlags.current.apply(to: gfp) }

/// Run `body` with `scope` set on this thread (a save/restore pair around it).
public func withMemallocScope<R>(_ scope: MemallocScope, _ body: () throws -> R) rethrows -> R {
    try withThreadScope(scope.flag, body)
}

/// Run `body` with `scope` set for the current task and the child tasks it creates
/// (`@TaskLocal`; detached tasks do not inherit it).
public func withMemallocScope<R>(_ scope: MemallocScope, _ body: () async throws -> R) async rethrows -> R {
    try await TaskScope.$flags.withValue(TaskScope.flags.union(scope.flag)) { try await body() }
}

/// Internal form used by vmalloc's mapping step (the seed) and by reclaim.
func withThreadScope<R>(_ flags: ScopeFlags, _ body: () throws -> R) rethrows -> R {
    if flags.isEmpty { return try body() }
    let token = save(flags)
    defer { restore(token, "withMemallocScope") }
    return try body()
}
