/// A growable array with a single owner whose storage comes from `kvmalloc` and grows by
/// `kvrealloc`: slab memory while small, vmalloc memory once large, and a large array grows in
/// place inside its vmalloc area when the area has room. Modelled on swift-collections'
/// `UniqueArray`; the kernel has no such type, callers there open-code `kvrealloc_array` growth.
///
/// Every allocation uses the array's mask under whatever memalloc scope is active at the call,
/// so an `append` inside `withMemallocScope(.noFS)` is a NOFS allocation.
public struct VmallocArray<Element: BitwiseCopyable>: ~Copyable {
    /// nil while the capacity is 0: an empty array holds no allocation.
    private var storage: UnsafeMutablePointer<Element>?
    /// The number of elements.
    public private(set) var count: Int
    /// The number of elements the storage holds before the next `append` must grow it.
    public private(set) var capacity: Int
    private let gfp: GFP
    private let system: MemorySystem

    /// An empty array with room for `capacity` elements (none allocated for 0).
    /// Throws `.invalidSize` for a negative or overflowing capacity, `.outOfMemory` when
    /// `kvmalloc` says nil.
    public init(capacity: Int = 0, gfp: GFP = GFP_KERNEL, system: MemorySystem = .shared) throws(AllocationError) {
        // kmalloc guarantees ARCH_KMALLOC_MINALIGN (8 bytes), vmalloc a page.
        precondition(MemoryLayout<Element>.alignment <= 8, "VmallocArray: element alignment above 8 bytes")
        self.count = 0
        self.capacity = 0
        self.storage = nil
        self.gfp = gfp
        self.system = system
        guard capacity >= 0 else { throw .invalidSize(capacity) }
        if capacity > 0 { try grow(to: capacity) }
    }

    deinit { system.kvfree(storage.map(UnsafeMutableRawPointer.init)) }

    /// Whether the array holds no element.
    public var isEmpty: Bool { count == 0 }

    /// The element at `i`; traps unless `0 <= i < count`, like `Array`.
    public subscript(i: Int) -> Element {
        get {
            precondition(i >= 0 && i < count, "VmallocArray index \(i) out of range 0..<\(count)")
            return storage.unsafelyUnwrapped[i]
        }
        set {
            precondition(i >= 0 && i < count, "VmallocArray index \(i) out of range 0..<\(count)")
            storage.unsafelyUnwrapped[i] = newValue
        }
    }

    /// Add `e` at the end, doubling the storage with `kvrealloc` when it is full. On a throw
    /// the array is unchanged.
    public mutating func append(_ e: Element) throws(AllocationError) {
        if count == capacity {
            let (doubled, overflow) = capacity.multipliedReportingOverflow(by: 2)
            try grow(to: overflow ? Int.max : max(doubled, 4))
        }
        (storage.unsafelyUnwrapped + count).initialize(to: e)
        count += 1
    }

    /// Remove every element; the storage (and so the capacity) is kept for reuse.
    public mutating func removeAll() { count = 0 }

    /// The elements for reading; valid while the array is borrowed.
    public var span: Span<Element> {
        @_lifetime(borrow self)
        borrowing get {
            let span = Span(_unsafeElements: UnsafeBufferPointer(start: storage, count: count))
            return _overrideLifetime(span, borrowing: self)
        }
    }

    /// The elements for writing in place; valid while the array is exclusively accessed.
    public var mutableSpan: MutableSpan<Element> {
        @_lifetime(&self)
        mutating get {
            let span = MutableSpan(_unsafeElements: UnsafeMutableBufferPointer(start: storage, count: count))
            return _overrideLifetime(span, mutating: &self)
        }
    }

    /// Reallocate the storage for `newCapacity` elements, keeping the elements.
    private mutating func grow(to newCapacity: Int) throws(AllocationError) {
        guard let bytes = arraySize(newCapacity, MemoryLayout<Element>.stride) else {
            throw .invalidSize(newCapacity)
        }
        guard let p = system.kvrealloc(storage.map(UnsafeMutableRawPointer.init), bytes, gfp) else {
            throw .outOfMemory(size: bytes, gfp: gfp)
        }
        storage = p.bindMemory(to: Element.self, capacity: newCapacity)
        capacity = newCapacity
    }
}

// A single owner may hand its storage to another thread; the allocator is thread-safe.
extension VmallocArray: @unchecked Sendable {}
