/// Mutable state a workload's timed loop owns (its random sequence, its live pointers), held
/// behind a pointer. A stored `var` of a class pays Swift's dynamic exclusivity check on every
/// access (`swift_beginAccess`/`swift_endAccess` and a thread-local lookup, about 100
/// instructions a pair under callgrind): the loop would count that as the contender's cost.
/// pcpu_alloc_test spent about 430 instructions a pair on it, for every contender alike.
final class LoopState<Value> {
    /// The state, read and written in place; valid for the life of this object.
    let pointer: UnsafeMutablePointer<Value>

    init(_ value: Value) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: value)
    }

    deinit {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}
