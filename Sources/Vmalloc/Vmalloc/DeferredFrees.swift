/// Who holds frees that wait for a grace period (`kvfree_rcu`'s batches, above this layer).
/// The VA space asks it to free them before it purges on a shortage, so memory freed just
/// before the shortage counts.
protocol DeferredFrees: AnyObject, Sendable {
    /// Free every batched free after a grace period now, whatever its age, and wait for it
    /// (unless waiting would wait for itself).
    func flushRCUBatches()
}
