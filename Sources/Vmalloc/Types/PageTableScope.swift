/// Which mask the page-table pages of a vmalloc mapping are allocated with.
public enum PageTableScope: Sendable, Hashable {
    /// The mapping step runs under the scope inferred from the caller's mask, the rule of the
    /// kernel commit "mm/vmalloc: alloc GFP_NO{FS,IO} for vmalloc": page-table pages obey NOFS/NOIO.
    case fromCaller
    /// Page tables always reclaim as `GFP_KERNEL`, whatever the caller said, as before that
    /// commit: a `GFP_NOFS` vmalloc may recurse into filesystem reclaim.
    case legacy
}
