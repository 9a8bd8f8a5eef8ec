import CShim
import Synchronization

/// A `Mutex` whose critical sections, in a ThreadSanitizer build, are also chained through one
/// atomic counter. Package-visible: the test-support target guards its shared state with it too,
/// for the same reason.
///
/// Why: on Linux the stdlib `Mutex` is implemented inside the prebuilt Synchronization library,
/// which ThreadSanitizer cannot see into, so every access it protects looks like a race. The
/// acquire-release increments on entry and exit give TSan the happens-before edges the lock
/// really provides. Other builds skip them: four locked adds per vmalloc+vfree were about a fifth
/// of the fast path's cycles.
package struct Lock<Value: ~Copyable>: ~Copyable {
    private let mutex: Mutex<Value>
    private let order = Atomic<Int>(0)

    package init(_ value: consuming sending Value) { mutex = Mutex(value) }

    @inline(__always)
    private func chain() { if vmshim_tsan != 0 { order.wrappingAdd(1, ordering: .acquiringAndReleasing) } }

    /// Run `body` with the value, holding the lock (`Mutex.withLock`).
    package borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            chain()
            defer { chain() }
            return try body(&value)
        }
    }

    /// Run `body` if the lock is free now; nil otherwise (`Mutex.withLockIfAvailable`).
    package borrowing func withLockIfAvailable<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result? {
        try mutex.withLockIfAvailable { (value: inout sending Value) throws(E) -> sending Result in
            chain()
            defer { chain() }
            return try body(&value)
        }
    }
}

// Unchecked Sendable: the value is reached only inside the mutex (not inferable for ~Copyable).
extension Lock: @unchecked Sendable where Value: ~Copyable {}
