/// A page-allocation mask: what an allocation may do to find memory (include/linux/gfp_types.h).
///
/// Bit values are the kernel's, so masks print and compare as they do in kernel logs.
/// `description` prints like the kernel's `%pGg`: `GFP_NOFS|__GFP_ZERO`.
public struct GFP: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    /// A mask from raw kernel bits.
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `__GFP_DMA`: zone modifier; accepted and ignored (one zone per node here).
    public static let dma = GFP(rawValue: 0x01)
    /// `__GFP_HIGHMEM`: zone modifier; accepted and ignored.
    public static let highmem = GFP(rawValue: 0x02)
    /// `__GFP_DMA32`: zone modifier; accepted and ignored.
    public static let dma32 = GFP(rawValue: 0x04)
    /// `__GFP_MOVABLE`: mobility hint; accepted and ignored.
    public static let movable = GFP(rawValue: 0x08)
    /// `__GFP_RECLAIMABLE`: mobility hint; accepted and ignored.
    public static let reclaimable = GFP(rawValue: 0x10)
    /// `__GFP_HIGH`: the caller is high priority and may dip below the min watermark (to half).
    public static let high = GFP(rawValue: 0x20)
    /// `__GFP_IO`: reclaim may start physical IO (IO-class shrinkers may run).
    public static let io = GFP(rawValue: 0x40)
    /// `__GFP_FS`: reclaim may call into the filesystem (FS-class shrinkers may run).
    public static let fs = GFP(rawValue: 0x80)
    /// `__GFP_ZERO`: return zeroed memory.
    public static let zero = GFP(rawValue: 0x100)
    /// `__GFP_DIRECT_RECLAIM`: the caller may sleep and reclaim directly.
    public static let directReclaim = GFP(rawValue: 0x400)
    /// `__GFP_KSWAPD_RECLAIM`: wake kswapd when memory is low.
    public static let kswapdReclaim = GFP(rawValue: 0x800)
    /// `__GFP_NOWARN`: no failure report.
    public static let noWarn = GFP(rawValue: 0x2000)
    /// `__GFP_RETRY_MAYFAIL`: retry while reclaim makes progress, then fail.
    public static let retryMayFail = GFP(rawValue: 0x4000)
    /// `__GFP_NOFAIL`: never fail; wait and retry instead.
    public static let noFail = GFP(rawValue: 0x8000)
    /// `__GFP_NORETRY`: one light reclaim attempt, then fail.
    public static let noRetry = GFP(rawValue: 0x10000)
    /// `__GFP_MEMALLOC`: may use all reserves (ignore watermarks).
    public static let memalloc = GFP(rawValue: 0x20000)
    /// `__GFP_NOMEMALLOC`: never use reserves, even under `PF_MEMALLOC`.
    public static let noMemalloc = GFP(rawValue: 0x80000)
    /// `__GFP_HARDWALL`: enforce the cpuset memory policy (accepted, no cpusets here).
    public static let hardwall = GFP(rawValue: 0x100000)
    /// `__GFP_THISNODE`: the requested node only, no fallback.
    public static let thisNode = GFP(rawValue: 0x200000)
    /// `__GFP_ACCOUNT`: charge to the memory cgroup (accepted; there are no memory cgroups here).
    public static let account = GFP(rawValue: 0x400000)
    /// `__GFP_NOLOCKDEP`: skip the fs_reclaim dependency check for this allocation (bit 24: the
    /// 6.12 kernel's on x86_64 with lockdep).
    public static let noLockdep = GFP(rawValue: 0x100_0000)

    /// `__GFP_RECLAIM`: direct reclaim and kswapd.
    public static let reclaim: GFP = [.directReclaim, .kswapdReclaim]
    /// `GFP_KERNEL`: may sleep, reclaim, do IO and call into filesystems.
    // A constant the caller's module folds (`__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM |
    // __GFP_IO | __GFP_FS`), not a lazily initialised global: it is the default mask of every
    // vmalloc call, and reading a global costs each call its addressor.
    @inlinable public static var kernel: GFP { GFP(rawValue: 0x400 | 0x800 | 0x40 | 0x80) }
    /// `GFP_NOFS`: like `GFP_KERNEL` but never recurses into filesystem reclaim.
    public static let nofs: GFP = [.reclaim, .io]
    /// `GFP_NOIO`: like `GFP_NOFS` and never starts IO either.
    public static let noio: GFP = [.reclaim]
    /// `GFP_NOWAIT`: never sleeps; wakes kswapd; no failure report.
    public static let nowait: GFP = [.kswapdReclaim, .noWarn]
    /// `GFP_ATOMIC`: never sleeps, may use part of the reserves.
    public static let atomic: GFP = [.high, .kswapdReclaim]
    /// `GFP_USER`: a user-space allocation (`GFP_KERNEL | __GFP_HARDWALL`).
    public static let user: GFP = [.kernel, .hardwall]
    /// `GFP_KERNEL_ACCOUNT`: `GFP_KERNEL` charged to the memory cgroup.
    public static let kernelAccount: GFP = [.kernel, .account]

    /// Whether an allocation with this mask may sleep (`gfpflags_allow_blocking`).
    public var allowsBlocking: Bool { contains(.directReclaim) }

    // Compound names first, as the kernel's __def_gfpflag_names orders them, so that
    // GFP_KERNEL prints as one name rather than its four bits.
    private static let names: [(GFP, String)] = [
        (.user, "GFP_USER"), (.kernelAccount, "GFP_KERNEL_ACCOUNT"), (.kernel, "GFP_KERNEL"),
        (.nofs, "GFP_NOFS"), (.atomic, "GFP_ATOMIC"), (.noio, "GFP_NOIO"), (.nowait, "GFP_NOWAIT"),
        (.dma, "GFP_DMA"), (.highmem, "__GFP_HIGHMEM"), (.dma32, "GFP_DMA32"), (.high, "__GFP_HIGH"),
        (.io, "__GFP_IO"), (.fs, "__GFP_FS"), (.zero, "__GFP_ZERO"),
        (.directReclaim, "__GFP_DIRECT_RECLAIM"), (.kswapdReclaim, "__GFP_KSWAPD_RECLAIM"),
        (.noWarn, "__GFP_NOWARN"), (.retryMayFail, "__GFP_RETRY_MAYFAIL"), (.noFail, "__GFP_NOFAIL"),
        (.noRetry, "__GFP_NORETRY"), (.memalloc, "__GFP_MEMALLOC"), (.noMemalloc, "__GFP_NOMEMALLOC"),
        (.hardwall, "__GFP_HARDWALL"), (.thisNode, "__GFP_THISNODE"), (.account, "__GFP_ACCOUNT"),
        (.noLockdep, "__GFP_NOLOCKDEP"), (.movable, "__GFP_MOVABLE"), (.reclaimable, "__GFP_RECLAIMABLE"),
    ]

    /// The mask as the kernel's `%pGg` prints it, e.g. `GFP_NOFS|__GFP_ZERO`; `none` when empty.
    public var description: String {
        var rest = rawValue
        var parts: [String] = []
        for (mask, name) in Self.names where mask.rawValue & rest == mask.rawValue && rest != 0 {
            parts.append(name)
            rest &= ~mask.rawValue
        }
        if rest != 0 { parts.append("0x" + String(rest, radix: 16)) }
        return parts.isEmpty ? "none" : parts.joined(separator: "|")
    }

    /// `mode:0x…(NAMES)` as failure reports print a mask.
    var modeString: String { "0x\(String(rawValue, radix: 16))(\(description))" }

    /// Bitwise or of two masks, as on the kernel's `gfp_t`.
    public static func | (a: GFP, b: GFP) -> GFP { GFP(rawValue: a.rawValue | b.rawValue) }
    /// Bitwise and of two masks.
    public static func & (a: GFP, b: GFP) -> GFP { GFP(rawValue: a.rawValue & b.rawValue) }
    /// Complement of a mask (`gfp & ~__GFP_FS`).
    public static prefix func ~ (a: GFP) -> GFP { GFP(rawValue: ~a.rawValue) }
}

// Kernel-spelled constants, so kernel code reads the same here.
/// `GFP_KERNEL`: computed and inlinable, so a caller in another module folds it to a constant
/// instead of calling a global's addressor on every allocation.
@inlinable public var GFP_KERNEL: GFP { .kernel }
public let GFP_NOFS = GFP.nofs
public let GFP_NOIO = GFP.noio
public let GFP_NOWAIT = GFP.nowait
public let GFP_ATOMIC = GFP.atomic
public let GFP_USER = GFP.user
public let GFP_KERNEL_ACCOUNT = GFP.kernelAccount
public let __GFP_IO = GFP.io
public let __GFP_FS = GFP.fs
public let __GFP_DIRECT_RECLAIM = GFP.directReclaim
public let __GFP_KSWAPD_RECLAIM = GFP.kswapdReclaim
public let __GFP_RECLAIM = GFP.reclaim
public let __GFP_ZERO = GFP.zero
public let __GFP_NOWARN = GFP.noWarn
public let __GFP_NOFAIL = GFP.noFail
public let __GFP_NORETRY = GFP.noRetry
public let __GFP_RETRY_MAYFAIL = GFP.retryMayFail
public let __GFP_THISNODE = GFP.thisNode
public let __GFP_HIGH = GFP.high
public let __GFP_MEMALLOC = GFP.memalloc
public let __GFP_NOMEMALLOC = GFP.noMemalloc
public let __GFP_ACCOUNT = GFP.account
public let __GFP_HARDWALL = GFP.hardwall
public let __GFP_NOLOCKDEP = GFP.noLockdep
public let __GFP_HIGHMEM = GFP.highmem
public let __GFP_DMA = GFP.dma
public let __GFP_DMA32 = GFP.dma32
public let __GFP_MOVABLE = GFP.movable
