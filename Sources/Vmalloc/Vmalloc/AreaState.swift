/// Where an area slot stands. A lazily freed area keeps its VA and stays in the busy tree (its
/// range is still allocated until the purge), but every lookup treats it as absent.
enum AreaState: UInt8, Sendable {
    /// An unused slot of `VmapShard.State.records`.
    case vacant
    /// An area with an owner.
    case live
    /// Freed, not yet purged: still mapped, on the shard's lazy list, perhaps on a reuse pool.
    case lazy
}
