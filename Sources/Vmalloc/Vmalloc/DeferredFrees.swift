/// Who holds frees that wait to be handed to RCU (`kvfree_rcu`'s batches, above this layer).
/// The VA space asks it to queue them before it waits for pending RCU frees on a shortage, so
/// memory freed just before the shortage counts.
protocol DeferredFrees: AnyObject, Sendable {
    /// Queue every batched free now, whatever its age.
    func flushRCUBatches()
}
