import Vmalloc

/// The fuzzer's bytes, read front to back; reads past the end give zeros, so every input decodes.
struct Input {
    private let bytes: UnsafeRawBufferPointer
    private var at = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isEmpty: Bool { at >= bytes.count }

    mutating func u8() -> UInt8 {
        guard at < bytes.count else { return 0 }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func u16() -> Int { Int(u8()) | Int(u8()) << 8 }

    mutating func u32() -> Int { u16() | u16() << 16 }

    /// A number below `n` (n > 0).
    mutating func below(_ n: Int) -> Int { u16() % n }

    /// A size: mostly valid ones of every scale, sometimes zero, negative, overflowing, or more
    /// than the system has.
    mutating func size(totalBytes: Int) -> Int {
        switch u8() % 16 {
        case 0: return 0
        case 1: return -1 - u16()
        case 2: return Int.max - Int(u8())
        case 3: return totalBytes + u16()
        case 4, 5, 6, 7: return 1 + u16() % 8192
        case 8, 9, 10, 11: return 1 + (u16() << 4)
        case 12, 13: return 1 + u32() % (4 << 20)
        case 14: return 1 + u32() % (16 << 20)
        default: return u32()
        }
    }

    /// A node: valid ones and NUMA_NO_NODE mostly, sometimes out of range either way.
    mutating func node(count: Int) -> Int {
        switch u8() % 8 {
        case 0, 1, 2: return NUMA_NO_NODE
        case 3, 4, 5: return Int(u8()) % count
        case 6: return count + Int(u8())
        default: return -2 - Int(u8())
        }
    }

    /// A mask: a kernel compound with modifier bits, or raw random bits (unsupported ones included).
    mutating func gfp() -> GFP {
        let bases: [GFP] = [GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_NOWAIT, GFP_ATOMIC, GFP_USER, GFP_KERNEL_ACCOUNT]
        let pick = Int(u8())
        if pick % 8 == 7 { return GFP(rawValue: UInt32(truncatingIfNeeded: u32())) }
        var g = bases[pick % 8]
        let modifiers: [GFP] = [
            __GFP_ZERO, __GFP_NOWARN, __GFP_NOFAIL, __GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_THISNODE,
            __GFP_HIGH, __GFP_MEMALLOC, __GFP_NOMEMALLOC, __GFP_HIGHMEM, __GFP_DMA32, __GFP_MOVABLE,
        ]
        let bits = u16()
        for (i, m) in modifiers.enumerated() where bits & (1 << i) != 0 { g = g | m }
        return g
    }

    /// An alignment: powers of two up to 4 MiB mostly, sometimes larger than the region, zero,
    /// negative or not a power of two.
    mutating func alignment() -> Int {
        switch u8() % 8 {
        case 0: return 0
        case 1: return -Int(u8()) - 1
        case 2: return 3 + Int(u8()) * 2
        case 3: return 1 << (Int(u8()) % 63)
        default: return 1 << (Int(u8()) % 23)
        }
    }
}
