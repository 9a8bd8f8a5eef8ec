import CShim
import Vmalloc

/// What the frame metadata says, counted frame by frame, for "nothing lost" checks that do not
/// trust the allocator's counters: free frames on the buddy lists and held frames by owner, per
/// node (in the manner of the kernel's `CONFIG_DEBUG_VM` page checks).
public struct FrameAudit: Sendable {
    /// Free frames per node, summed over the blocks the metadata marks free.
    public var free: [Int]
    /// Held frames per node, by owner (`VMSHIM_OWNER_*`).
    public var held: [[vmshim_owner: Int]]
    /// Whether every node's metadata tiles its frames exactly with free and held blocks, and
    /// the free count kept by the allocator matches the lists.
    public var consistent: Bool

    /// Walk every node's metadata of `sys` block by block.
    public init(_ sys: MemorySystem) {
        free = []
        held = []
        consistent = true
        for node in 0..<sys.nodeCount {
            let (nodeFree, nodeHeld, ok) = sys.withFrameMetadata(node: node) { meta, freePages in
                var free = 0
                var held: [vmshim_owner: Int] = [:]
                var idx = 0
                while idx < meta.count {
                    let m = meta[idx]
                    let n = 1 << Int(m.order)
                    switch m.flags {
                    case UInt8(VMSHIM_PG_BUDDY): free += n
                    case UInt8(VMSHIM_PG_HEAD): held[m.owner, default: 0] += n
                    default: return (free, held, false)  // a frame that heads no block: the tiling is broken
                    }
                    idx += n
                }
                return (free, held, idx == meta.count && free == freePages)
            }
            free.append(nodeFree)
            held.append(nodeHeld)
            consistent = consistent && ok
        }
    }
}

extension MemorySystem {
    /// Audit the frame metadata of this system (see `FrameAudit`).
    public func audit() -> FrameAudit { FrameAudit(self) }
}
