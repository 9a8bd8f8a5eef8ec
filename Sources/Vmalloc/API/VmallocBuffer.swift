/// One `kvmalloc`'d allocation with a single owner: it `kvfree`s itself when dropped.
///
/// The Swift spelling of the kernel pattern `p = kvmalloc(n, gfp); ...; kvfree(p)`. Small
/// buffers come from the slab (kmalloc), large ones from vmalloc, exactly as `kvmalloc` decides.
/// Every allocation uses the buffer's mask under whatever memalloc scope is active at the call,
/// so a `resize(to:)` inside `withMemallocScope(.noFS)` is a NOFS allocation.
public struct VmallocBuffer: ~Copyable {
    private var base: UnsafeMutableRawPointer
    /// The size in bytes the buffer was allocated or last resized to.
    public private(set) var byteCount: Int
    private let gfp: GFP
    private let system: MemorySystem

    /// Allocate `byteCount` bytes with `kvmalloc_node(byteCount, gfp, node)`.
    /// Throws `.invalidSize` for a size ≤ 0 and `.outOfMemory` when the allocator says nil.
    public init(
        byteCount: Int, gfp: GFP = GFP_KERNEL, node: Int = NUMA_NO_NODE,
        system: MemorySystem = .shared
    ) throws(AllocationError) {
        // kvmalloc(0) would hand out ZERO_SIZE_PTR: a pointer no byte may be read through.
        guard byteCount > 0 else { throw .invalidSize(byteCount) }
        guard let p = system.kvmalloc_node(byteCount, gfp, node) else {
            throw .outOfMemory(size: byteCount, gfp: gfp)
        }
        base = p
        self.byteCount = byteCount
        self.gfp = gfp
        self.system = system
    }

    deinit { system.kvfree(base) }

    /// The buffer's bytes for reading; valid while the buffer is borrowed.
    public var bytes: RawSpan {
        @_lifetime(borrow self)
        borrowing get {
            let span = RawSpan(_unsafeStart: UnsafeRawPointer(base), byteCount: byteCount)
            return _overrideLifetime(span, borrowing: self)
        }
    }

    /// The buffer's bytes for writing; valid while the buffer is exclusively accessed.
    public var mutableBytes: MutableRawSpan {
        @_lifetime(&self)
        mutating get {
            let span = MutableRawSpan(_unsafeStart: base, byteCount: byteCount)
            return _overrideLifetime(span, mutating: &self)
        }
    }

    /// Change the size keeping the first `min(old, new)` bytes (`kvrealloc`): a vmalloc buffer
    /// grows in place inside its area when it can, a slab buffer may move to vmalloc.
    /// On a throw the buffer is unchanged: same address, size and content.
    public mutating func resize(to newByteCount: Int) throws(AllocationError) {
        // kvrealloc(p, 0) frees p; an owner that must stay valid refuses instead.
        guard newByteCount > 0 else { throw .invalidSize(newByteCount) }
        guard let p = system.kvrealloc(base, newByteCount, gfp) else {
            throw .outOfMemory(size: newByteCount, gfp: gfp)
        }
        base = p
        byteCount = newByteCount
    }

    /// Call `body` with the buffer's address and size, for C interop. The pointer must not
    /// escape `body`: a later `resize(to:)` may move the memory, and dropping the buffer frees it.
    public func withUnsafeMutableBytes<R, E: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        try body(UnsafeMutableRawBufferPointer(start: base, count: byteCount))
    }
}

// A single owner may hand its allocation to another thread; the allocator is thread-safe.
extension VmallocBuffer: @unchecked Sendable {}
