extension Duration {
    /// The duration in whole nanoseconds, 0 for a negative one: what the kthreads' waits and
    /// the delays derived from a configured `Duration` count in.
    var nanoseconds: UInt64 {
        let (s, atto) = components
        return UInt64(max(s, 0)) * 1_000_000_000 + UInt64(max(atto, 0) / 1_000_000_000)
    }
}
