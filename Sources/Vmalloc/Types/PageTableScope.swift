/// Which mask the page-table pages of a vmalloc mapping are allocated with.
public enum PageTableScope: Sendable, Hashable {
    /// The seed patch: the mapping step runs under the scope inferred from the caller's mask.
    case fromCaller
    /// Before the patch: page tables always reclaim as `GFP_KERNEL`, whatever the caller said.
    case legacy
}
