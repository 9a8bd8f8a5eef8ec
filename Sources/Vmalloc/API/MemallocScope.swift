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

/// Enter a NOFS scope on this thread; returns the token for `memalloc_nofs_restore`. Mirrors
/// `memalloc_nofs_save()`. Synchronous only: a task may change threads at an `await`.
@available(*, noasync, message: "use withMemallocScope(.noFS) in async code")
public func memalloc_nofs_save() -> UInt32 { saveScope(.noFS) }
/// Leave the NOFS scope entered by the save that returned `flags` (`memalloc_nofs_restore()`).
public func memalloc_nofs_restore(_ flags: UInt32) { restoreScope(flags, "memalloc_nofs_restore") }
/// Enter a NOIO scope on this thread (`memalloc_noio_save()`).
@available(*, noasync, message: "use withMemallocScope(.noIO) in async code")
public func memalloc_noio_save() -> UInt32 { saveScope(.noIO) }
/// Leave a NOIO scope (`memalloc_noio_restore()`).
public func memalloc_noio_restore(_ flags: UInt32) { restoreScope(flags, "memalloc_noio_restore") }
/// Enter a no-reclaim (`PF_MEMALLOC`) scope on this thread (`memalloc_noreclaim_save()`).
@available(*, noasync, message: "use withMemallocScope(.noReclaim) in async code")
public func memalloc_noreclaim_save() -> UInt32 { saveScope(.memalloc) }
/// Leave a no-reclaim scope (`memalloc_noreclaim_restore()`).
public func memalloc_noreclaim_restore(_ flags: UInt32) { restoreScope(flags, "memalloc_noreclaim_restore") }

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
    try await TaskScope.with(scope.flag, body)
}
