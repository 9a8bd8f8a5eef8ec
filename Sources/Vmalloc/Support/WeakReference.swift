/// An object kept weakly under the protocol it conforms to: how a lower layer keeps the higher
/// one that conforms to its protocol (the page allocator its `AliasPurger`, the reclaimer its
/// `ReclaimSource`s). The higher layer holds the lower one, so a strong reference back would be
/// a cycle that keeps a `MemorySystem`'s parts alive after the system is gone.
///
/// Generic over the protocol's existential (`any AliasPurger`), which Swift does not count as a
/// class type, so the reference is kept as `AnyObject` and cast back; only `init` stores it, so
/// the cast cannot fail while the object lives. Read on slow paths only (a purge, a reclaim pass).
/// Unchecked Sendable: the one stored property is a `let` weak reference to a Sendable `Object`.
struct WeakReference<Object: Sendable>: @unchecked Sendable {
    private weak let reference: AnyObject?

    init(_ object: Object?) { reference = object.map { $0 as AnyObject } }

    /// The object, or nil once it is gone.
    var object: Object? { reference.map { $0 as! Object } }
}
