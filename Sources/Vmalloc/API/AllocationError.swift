/// Why a Swift-native owner (`VmallocBuffer`, `VmallocArray`) could not allocate. The kernel API
/// answers nil (`-ENOMEM` at the caller); the owners throw this instead, typed.
public enum AllocationError: Error, Sendable, Equatable {
    /// The size was zero, negative, or overflowed when multiplied by the element size.
    /// Nothing was allocated and nothing the owner held changed.
    case invalidSize(Int)
    /// The allocator returned nil for `size` bytes with mask `gfp` (the mask as given; the
    /// scope active at the call narrowed it further). What the owner held is still valid.
    case outOfMemory(size: Int, gfp: GFP)
}
