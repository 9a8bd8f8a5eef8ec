import CNuma
import CShim
import Glibc

/// The machine's "RAM" (mm/memblock, NUMA): one sparse memfd per node, all of them mapped once,
/// back to back, as the direct map, so `page_address(pfn)` is `directBase + pfn * PAGE_SIZE`;
/// and the 16-byte metadata of every frame. Immutable after init; the metadata is written by
/// whoever holds the frame (the zone lock for free frames).
/// Unchecked Sendable: raw pointers set once at init; frame memory and metadata belong to the frame's holder.
final class PhysicalMemory: @unchecked Sendable {
    static let pageSize = Int(VMSHIM_PAGE_SIZE)

    let nodeCount: Int
    let pagesPerNode: Int
    let fds: [Int32]
    let directBase: UnsafeMutableRawPointer
    let meta: UnsafeMutablePointer<vmshim_page>
    /// The real NUMA node each node's frames are placed on.
    let realNode: [Int]
    /// `node_distance(a, b)`: the real distance, or 20 between emulated nodes on one real node.
    let distance: [[Int]]
    /// Whether libnuma works here (placement is checked with move_pages only then).
    let numaAvailable: Bool
    /// The node of each CPU, for `NUMA_NO_NODE` allocations (`numa_node_id()`).
    private let cpuNode: [Int]

    var totalPages: Int { nodeCount * pagesPerNode }
    var directBytes: Int { totalPages * Self.pageSize }

    /// `nodes` nodes (nil: the machine's real NUMA nodes; more than real are emulated and placed
    /// round-robin on the real ones) of `memoryPerNode` bytes each. `faults` may fail the `mbind`.
    init(nodes: Int?, memoryPerNode: Int, faults: FaultInjector) throws(MemorySystemError) {
        let available = numa_available() >= 0
        numaAvailable = available
        let real = Self.realNodes(available)
        let count = nodes ?? real.count
        guard count >= 1, count <= 64 else {
            throw .invalidConfiguration("nodes must be 1...64, got \(count)")
        }
        let pageSize = Self.pageSize
        let perNode = memoryPerNode / pageSize
        // A node must hold at least one max-order block so the buddy allocator and the
        // watermarks have room to work.
        guard perNode >= 1 << (Int(VMSHIM_NR_ORDERS) - 1), perNode <= Int(UInt32.max) >> 1 else {
            throw .invalidConfiguration("memoryPerNode must be 4 MiB...8 TiB, got \(memoryPerNode)")
        }
        nodeCount = count
        pagesPerNode = perNode
        realNode = (0..<count).map { real[$0 % real.count] }
        distance = (0..<count).map { a in
            (0..<count).map { b in
                if a == b { return 10 }
                let (ra, rb) = (real[a % real.count], real[b % real.count])
                return ra == rb || !available ? 20 : Int(numa_distance(Int32(ra), Int32(rb)))
            }
        }
        let ncpu = Int(sysconf(Int32(_SC_NPROCESSORS_CONF)))
        cpuNode = (0..<max(ncpu, 1)).map { cpu in
            let r = available ? Int(numa_node_of_cpu(Int32(cpu))) : 0
            return (0..<count).first { real[$0 % real.count] == r } ?? 0
        }

        let bytes = count * perNode * pageSize
        var reserved: UnsafeMutableRawPointer?
        if case .failure(let e) = Result(returned: vmshim_reserve(&reserved, bytes, 1 << 21)) {
            throw .systemCallFailed("mmap(direct map reservation, \(bytes) bytes)", errno: e.rawValue)
        }
        let base = reserved!
        var opened: [Int32] = []
        func undo() {
            for fd in opened { vmshim_close(fd) }
            vmshim_release(base, bytes)
        }
        for n in 0..<count {
            let fd: Int32
            switch Result(valueOrErrno: vmshim_memfd("vmalloc-node\(n)", UInt64(perNode * pageSize))) {
            case .success(let opened): fd = opened
            case .failure(let e):
                undo()
                throw .systemCallFailed("memfd_create(node \(n))", errno: e.rawValue)
            }
            opened.append(fd)
            let at = base + n * perNode * pageSize
            if case .failure(let e) = Result(
                returned: vmshim_map_shared(at, perNode * pageSize, fd, 0, VMSHIM_PROT_READ_WRITE, 0))
            {
                undo()
                throw .systemCallFailed("mmap(direct map of node \(n))", errno: e.rawValue)
            }
            // A forked child must not write into the parent's frames through the direct map.
            if case .failure(let e) = Result(returned: vmshim_madvise(at, perNode * pageSize, MADV_DONTFORK)) {
                undo()
                throw .systemCallFailed("madvise(direct map of node \(n), MADV_DONTFORK)", errno: e.rawValue)
            }
            if numaAvailable {
                // The shared policy of the shmem object: frames land on their node when touched.
                let bound = Result(
                    returned: faults.shouldFail(.mbind)
                        ? -EIO
                        : vmshim_mbind_node(at, perNode * pageSize, Int32(realNode[n]), Int32(numa_max_node())))
                // No NUMA policy support (ENOSYS) or not allowed (EPERM): frames land where touched.
                if case .failure(let e) = bound, e.rawValue != ENOSYS, e.rawValue != EPERM {
                    undo()
                    throw .systemCallFailed("mbind(node \(n) -> real node \(realNode[n]))", errno: e.rawValue)
                }
            }
        }
        guard let m = vmshim_meta_create(UInt64(count * perNode)) else {
            undo()
            throw .systemCallFailed("calloc(frame metadata)", errno: ENOMEM)
        }
        fds = opened
        directBase = base
        meta = m
    }

    deinit {
        for fd in fds { vmshim_close(fd) }
        vmshim_release(directBase, directBytes)
        vmshim_meta_destroy(meta)
    }

    /// Real nodes with memory, or [0] when libnuma is unavailable.
    private static func realNodes(_ available: Bool) -> [Int] {
        guard available else { return [0] }
        let nodes = (0...Int(numa_max_node())).filter { numa_node_size64(Int32($0), nil) > 0 }
        return nodes.isEmpty ? [0] : nodes
    }

    func isValid(_ pfn: Int) -> Bool { pfn >= 0 && pfn < totalPages }
    func node(of pfn: Int) -> Int { pfn / pagesPerNode }
    func firstPfn(of node: Int) -> Int { node * pagesPerNode }
    func address(of pfn: Int) -> UnsafeMutableRawPointer { directBase + pfn * Self.pageSize }
    func fd(of pfn: Int) -> Int32 { fds[node(of: pfn)] }
    func fileOffset(of pfn: Int) -> UInt64 { UInt64((pfn % pagesPerNode) * Self.pageSize) }

    /// Bytes of frames resident in the node memfds: what the host counts as this memory's
    /// `Shmem`. Free frames stay resident until the page allocator reports them.
    func residentBytes() -> Int {
        fds.reduce(0) { total, fd in
            // Our own open memfds: fstat can fail only on a programmer error (EBADF).
            switch Result(valueOrErrno: vmshim_resident_bytes(fd)) {
            case .success(let bytes): return total + Int(bytes)
            case .failure(let e): preconditionFailure("fstat(memfd) failed: \(e)")
            }
        }
    }

    /// The pfn whose direct-map address contains p, if p is in the direct map.
    func pfn(ofDirect p: UnsafeRawPointer) -> Int? {
        let off = p - UnsafeRawPointer(directBase)
        return off >= 0 && off < directBytes ? off / Self.pageSize : nil
    }

    /// The node the calling CPU belongs to (`numa_node_id()`).
    var localNode: Int {
        // One node is every CPU's: no need to ask which CPU this is.
        guard nodeCount > 1 else { return 0 }
        let cpu = Int(vmshim_cpu())
        return cpu >= 0 && cpu < cpuNode.count ? cpuNode[cpu] : 0
    }

    /// Nodes in fallback order from `node`: nearest first, ties by number (the zonelist).
    func zonelist(from node: Int) -> [Int] {
        (0..<nodeCount).sorted { (distance[node][$0], $0) < (distance[node][$1], $1) }
    }
}

extension PhysicalMemory {
    /// Whether `node` is a node of this system or `NUMA_NO_NODE`; otherwise warns once per call
    /// site, naming the node count, and the caller returns nil having taken nothing.
    /// Inlined: the fast paths ask on every call, and the answer is one compare.
    @inline(__always)
    func validNode(_ node: Int, _ function: String, log: Printk, site: @autoclosure () -> String) -> Bool {
        guard !isNodeOrAny(node) else { return true }
        warnBadNode(node, function, log: log, site: site())
        return false
    }

    /// Whether `node` is `NUMA_NO_NODE` or a node of this system: node + 1 in 0...nodeCount,
    /// one unsigned compare.
    @inline(__always)
    func isNodeOrAny(_ node: Int) -> Bool { UInt(bitPattern: node &+ 1) <= UInt(bitPattern: nodeCount) }

    @inline(never)
    private func warnBadNode(_ node: Int, _ function: String, log: Printk, site at: String) {
        log.warnOnce(
            "\(function): node \(node) out of range: this system has \(nodeCount) node(s) (\(at))",
            site: "\(function)-node@\(at)")
    }
}

// `struct page *` for C callers: the frame metadata array is the kernel's vmemmap, one fixed
// 16-byte entry per frame, so a C `struct page *` is an address in it and pages compare by
// pointer.
extension PhysicalMemory {
    /// The `struct page *` of a frame (`pfn_to_page`); a frame of another system is a bug.
    func pagePointer(_ page: Page) -> UnsafeMutableRawPointer {
        precondition(isValid(page.pfn), "pfn_to_page(\(page.pfn)): not a frame of this system")
        return UnsafeMutableRawPointer(meta + page.pfn)
    }

    /// The frame a `struct page *` names (`page_to_pfn`), or nil when it is not an entry of the
    /// frame metadata.
    func page(at pointer: UnsafeRawPointer) -> Page? {
        let offset = pointer - UnsafeRawPointer(meta)
        let stride = MemoryLayout<vmshim_page>.stride
        guard offset >= 0, offset % stride == 0, isValid(offset / stride) else { return nil }
        return Page(pfn: offset / stride)
    }

    /// The frame whose direct-map address range holds `address` (`virt_to_page`), or nil.
    func page(containingDirectMapAddress address: UnsafeRawPointer) -> Page? {
        let offset = address - UnsafeRawPointer(directBase)
        guard offset >= 0, isValid(offset / Self.pageSize) else { return nil }
        return Page(pfn: offset / Self.pageSize)
    }
}
