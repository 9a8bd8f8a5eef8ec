/// splitmix64: a cheap deterministic generator, so a seed replays the same sequence — every bench
/// contender sees the same sizes in the same order, and a failing stress or property run can be
/// repeated (the kernel's test_vmalloc uses get_random_*).
public struct SplitMix64: Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (`get_random_u32_below`); `bound` must be positive.
    public mutating func next(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// `get_random_u8()`.
    public mutating func u8() -> Int {
        Int(next() & 0xFF)
    }

    /// `get_random_u32_inclusive(lower, upper)`.
    public mutating func inclusive(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// A Fisher–Yates shuffle, as the kernel's `shuffle_array`.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, Int(next() % UInt64(i + 1)))
        }
    }
}
