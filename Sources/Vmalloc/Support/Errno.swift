/// The errno of a failed system call: what a `vmshim_` wrapper's negative return carries.
///
/// Every wrapper returns 0 (or a value) on success and -errno on failure; Swift turns that into
/// a `Result<_, Errno>` at the call and never reads the global `errno`.
package struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    package let rawValue: Int32

    package init(_ rawValue: Int32) { self.rawValue = rawValue }

    package var description: String { "errno \(rawValue)" }
}

extension Result where Success == Void, Failure == Errno {
    /// The outcome of a wrapper that returns 0 or -errno.
    @inline(__always)
    package init(returned rc: Int32) {
        self = rc < 0 ? .failure(Errno(-rc)) : .success(())
    }
}

extension Result where Success: SignedInteger, Failure == Errno {
    /// The value of a wrapper that returns one (a descriptor, a count) or -errno.
    @inline(__always)
    package init(valueOrErrno rc: Success) {
        self = rc < 0 ? .failure(Errno(Int32(-rc))) : .success(rc)
    }
}
