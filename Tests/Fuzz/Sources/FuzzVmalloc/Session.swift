import Glibc
import Vmalloc

/// One input run against the shared system: decode operations, keep what they return, check
/// every holding's bytes and mapping, and at the end free everything and check that nothing
/// was lost.
struct Session {
    let sys: MemorySystem
    let nodes: Int
    let totalBytes: Int
    /// Blocking allocations first free the oldest holdings until this many bytes are held, so
    /// that they rarely wait in the slow path (16 rounds of 2 ms) and NOFAIL ones always succeed.
    let budget: Int
    var input: Input
    var held: [Holding] = []
    /// Addresses freed earlier in this input (vmalloc space or direct map), and freed page blocks.
    var staleAddresses: [UnsafeMutableRawPointer] = []
    var stalePages: [(page: Page, order: Int)] = []
    var scopes: [(scope: MemallocScope, token: UInt32)] = []
    var nextTag: UInt8 = 1

    /// The largest NOFAIL request the fuzzer makes: one the budget always leaves room for.
    static let nofailLimit = 1 << 20
    static let maxOperations = 200
    static let maxScopes = 32

    init(_ sys: MemorySystem, _ bytes: UnsafeRawBufferPointer) {
        self.sys = sys
        let info = sys.meminfo()
        nodes = info.nodes.count
        totalBytes = info.memTotal
        budget = info.memTotal / 2
        input = Input(bytes)
    }

    mutating func run() {
        var n = 0
        while !input.isEmpty && n < Self.maxOperations {
            step(input.u8())
            n += 1
        }
        while !held.isEmpty { release(held.count - 1) }
        while !scopes.isEmpty { restoreScope() }
        checkNothingLost()
    }

    // MARK: decoding

    private mutating func step(_ op: UInt8) {
        switch op % 22 {
        case 0: allocVmalloc(input.u8())
        case 1: allocVmallocNode()
        case 2: allocKmallocFamily(input.u8(), slab: false)
        case 3: allocKmallocFamily(input.u8(), slab: true)
        case 4: allocPages()
        case 5: kvrealloc()
        case 6: vrealloc()
        case 7: vmap()
        case 8: vmMapRam()
        case 9, 10, 11: if !held.isEmpty { release(input.below(held.count)) }
        case 12, 13: badFree(input.u8())
        case 14: saveScope()
        case 15: restoreScope()
        case 16: if input.u8() & 1 == 0 { sys.vm_unmap_aliases() } else { sys.kmem_cache_shrink() }
        case 17, 18: if !held.isEmpty { verify(held[input.below(held.count)]) }
        case 19: allocArray(input.u8())
        case 20: allocVmalloc(input.u8())
        default: allocPages()
        }
    }

    /// NOFAIL only where it cannot wait for ever on this small system: a request the budget
    /// leaves room for, or one that fails at once for being invalid; never pinned to one node.
    private mutating func tame(_ gfp: GFP, size: Int, limit: Int = Session.nofailLimit) -> GFP {
        guard gfp.contains(__GFP_NOFAIL) else { return gfp }
        if size <= 0 || size > totalBytes { return gfp }
        guard size <= limit else { return gfp.subtracting(__GFP_NOFAIL) }
        makeRoom(size)
        return gfp.subtracting(__GFP_THISNODE)
    }

    /// Before a blocking request of a size the system could hold, free the oldest holdings
    /// until it fits in the budget.
    private mutating func makeRoom(_ size: Int) {
        guard size > 0, size <= totalBytes else { return }
        var bytes = held.reduce(0) { $0 + $1.footprint }
        while !held.isEmpty && bytes + size > budget {
            bytes -= held[0].footprint
            release(0)
        }
    }

    private mutating func prepare(_ gfp: GFP, size: Int, limit: Int = Session.nofailLimit) -> GFP {
        if gfp.contains(__GFP_DIRECT_RECLAIM) { makeRoom(size) }
        return tame(gfp, size: size, limit: limit)
    }

    private mutating func tag() -> UInt8 {
        defer { nextTag = nextTag &+ 1 }
        return nextTag
    }

    // MARK: allocation

    private mutating func allocVmalloc(_ which: UInt8) {
        let size = input.size(totalBytes: totalBytes)
        let gfp = prepare(input.gfp(), size: size)
        let p: UnsafeMutableRawPointer?
        switch which % 4 {
        case 0: p = sys.vmalloc(size, gfp)
        case 1: p = sys.vzalloc(size, gfp)
        case 2: p = sys.__vmalloc(size, gfp)
        default: p = sys.vmalloc_huge(size, gfp)
        }
        let zero = which % 4 == 1 || gfp.contains(__GFP_ZERO)
        adopt(p, .vmalloc, size: size, zeroed: zero, what: "vmalloc(\(size), \(gfp))")
    }

    private mutating func allocVmallocNode() {
        let size = input.size(totalBytes: totalBytes)
        let node = input.node(count: nodes)
        let align = input.alignment()
        var gfp = prepare(input.gfp(), size: size)
        // NOFAIL retries a VA failure for ever: an alignment the region may not hold would hang.
        if align > 1 << 22 { gfp = gfp.subtracting(__GFP_NOFAIL) }
        let p =
            align == 4096
            ? sys.vmalloc_node(size, node, gfp)
            : sys.__vmalloc_node(size, align: align, gfp, node: node)
        if let p, align > 0, align & (align - 1) == 0, Int(bitPattern: p) % align != 0 {
            fail("__vmalloc_node(\(size), align: \(align), \(gfp), node: \(node)) returned \(p), not aligned")
        }
        if let p, node != NUMA_NO_NODE, !(0..<nodes).contains(node) {
            fail("vmalloc_node(\(size), node \(node)) of a \(nodes)-node system returned \(p)")
        }
        adopt(p, .vmalloc, size: size, zeroed: gfp.contains(__GFP_ZERO), what: "vmalloc_node(\(size), \(node), \(gfp))")
    }

    private mutating func allocArray(_ which: UInt8) {
        let n = input.u8() & 1 == 0 ? Int(input.u16()) : Int.max / (1 + Int(input.u8()))
        let each = input.u8() & 1 == 0 ? Int(input.u16() % 512) : Int(input.u32())
        let (bytes, overflow) = n.multipliedReportingOverflow(by: each)
        let size = overflow ? Int.max : bytes
        let gfp = prepare(input.gfp(), size: size)
        let p: UnsafeMutableRawPointer?
        switch which % 4 {
        case 0: p = sys.vmalloc_array(n, each, gfp)
        case 1: p = sys.vcalloc(n, each, gfp)
        case 2: p = sys.kvmalloc_array(n, each, gfp)
        default: p = sys.kvcalloc(n, each, gfp)
        }
        if overflow, let p { fail("array of \(n) × \(each) overflows but returned \(p)") }
        let kind: Holding.Kind = which % 4 < 2 ? .vmalloc : .kvmalloc
        adopt(
            p, kind, size: size, zeroed: which & 1 == 1 || gfp.contains(__GFP_ZERO),
            what: "array(\(n), \(each), \(gfp))")
    }

    /// kmalloc (`slab`) or kvmalloc: the plain, zeroing or node entry point, chosen by `which`.
    private mutating func allocKmallocFamily(_ which: UInt8, slab: Bool) {
        let size = input.size(totalBytes: totalBytes)
        let node = which % 3 == 2 ? input.node(count: nodes) : NUMA_NO_NODE
        // Above two pages kmalloc is a high-order block: NOFAIL could wait for ever on fragments.
        let gfp = prepare(input.gfp(), size: size, limit: slab ? 8192 : Session.nofailLimit)
        let p: UnsafeMutableRawPointer?
        switch which % 3 {
        case 0: p = slab ? sys.kmalloc(size, gfp) : sys.kvmalloc(size, gfp)
        case 1: p = slab ? sys.kzalloc(size, gfp) : sys.kvzalloc(size, gfp)
        default: p = slab ? sys.kmalloc_node(size, gfp, node) : sys.kvmalloc_node(size, gfp, node)
        }
        adopt(
            p, slab ? .kmalloc : .kvmalloc, size: size, zeroed: which % 3 == 1 || gfp.contains(__GFP_ZERO),
            what: "\(slab ? "kmalloc" : "kvmalloc")(\(size), \(gfp), node \(node))")
    }

    private mutating func allocPages() {
        let order = Int(input.u8() % 14) - 1
        let node = input.node(count: nodes)
        var gfp = input.gfp()
        let bytes = order >= 0 && order < 12 ? 4096 << order : 0
        // NOFAIL above order 1 is misuse the kernel warns about; it could wait for ever here.
        gfp = prepare(gfp, size: bytes, limit: 8192)
        let page = node == NUMA_NO_NODE ? sys.alloc_pages(gfp, order) : sys.alloc_pages_node(node, gfp, order)
        guard let page else { return }
        if order < 0 || order > 10 { fail("alloc_pages(order \(order)) returned \(page)") }
        if gfp.contains(__GFP_THISNODE), node >= 0, sys.page_to_nid(page) != node {
            fail("alloc_pages_node(\(node), \(gfp), \(order)) returned \(page) on node \(sys.page_to_nid(page))")
        }
        adopt(
            sys.page_address(page), .pages(page, order: order), size: bytes, zeroed: gfp.contains(__GFP_ZERO),
            what: "alloc_pages(\(gfp), \(order))")
    }

    /// Keep what an allocation returned: check its zeroing, write its pattern, verify it.
    private mutating func adopt(
        _ p: UnsafeMutableRawPointer?, _ kind: Holding.Kind, size: Int, zeroed: Bool,
        what: @autoclosure () -> String
    ) {
        guard let p else { return }
        // kmalloc(0) and kvmalloc(0) return ZERO_SIZE_PTR; nothing else may succeed for such sizes.
        let zeroSizePtr = p == ZERO_SIZE_PTR && size == 0 && !Holding(kind: kind, p: p, size: 0, tag: 0).startsArea
        if (size <= 0 || size > totalBytes) && !zeroSizePtr { fail("\(what()) returned \(p) for an impossible size") }
        let h = Holding(kind: kind, p: p, size: max(size, 0), tag: tag())
        if p != ZERO_SIZE_PTR && zeroed && h.size > 0 {
            let b = p.assumingMemoryBound(to: UInt8.self)
            for i in stride(from: 0, to: h.size, by: 1024) where b[i] != 0 { fail("\(what()): byte \(i) not zeroed") }
            if b[h.size - 1] != 0 { fail("\(what()): last byte not zeroed") }
        }
        if p != ZERO_SIZE_PTR { h.fill() }
        held.append(h)
        verify(h)
    }

    // MARK: realloc

    private mutating func kvrealloc() {
        let pick = input.u8()
        let index = held.indices.filter {
            switch held[$0].kind {
            case .kvmalloc, .kmalloc: true
            default: false
            }
        }.randomElement(using: pick)
        let size = input.size(totalBytes: totalBytes)
        let gfp = prepare(input.gfp(), size: size)
        guard let index, index < held.count else {
            let p = sys.kvrealloc(nil, size, gfp)
            adopt(p, .kvmalloc, size: size, zeroed: gfp.contains(__GFP_ZERO), what: "kvrealloc(nil, \(size), \(gfp))")
            return
        }
        let old = held[index]
        let old0 = old.p == ZERO_SIZE_PTR ? nil : old.p
        let n = sys.kvrealloc(old.p, size, gfp)
        resized(index, old: old, to: n, size: size, what: "kvrealloc(\(String(describing: old0)), \(size), \(gfp))")
    }

    private mutating func vrealloc() {
        let pick = input.u8()
        let index = held.indices.filter {
            if case .vmalloc = held[$0].kind { true } else { false }
        }.randomElement(using: pick)
        let size = input.size(totalBytes: totalBytes)
        let gfp = prepare(input.gfp(), size: size)
        guard let index, index < held.count else {
            let p = sys.vrealloc(nil, size, gfp)
            adopt(p, .vmalloc, size: size, zeroed: gfp.contains(__GFP_ZERO), what: "vrealloc(nil, \(size), \(gfp))")
            return
        }
        let old = held[index]
        let n = sys.vrealloc(old.p, size, gfp)
        if let n, size > old.size, gfp.contains(__GFP_ZERO) {
            let b = n.assumingMemoryBound(to: UInt8.self)
            for i in stride(from: old.size, to: size, by: 1024) where b[i] != 0 {
                fail("vrealloc(\(old.p), \(old.size) -> \(size), \(gfp)): byte \(i) not zeroed")
            }
        }
        resized(index, old: old, to: n, size: size, what: "vrealloc(\(old.p), \(size), \(gfp))")
    }

    /// After a realloc of held[index]: size 0 freed it; nil left it valid; otherwise the
    /// content up to the smaller size moved to the result.
    private mutating func resized(
        _ index: Int, old: Holding, to n: UnsafeMutableRawPointer?, size: Int,
        what: @autoclosure () -> String
    ) {
        if size == 0 {
            forget(index)
            if let n, n != ZERO_SIZE_PTR { fail("\(what()) freed but returned \(n)") }
            if let n { held.append(Holding(kind: .kmalloc, p: n, size: 0, tag: tag())) }
            return
        }
        guard let n else {
            if let at = old.mismatch() { fail("\(what()) failed but changed byte \(at) of the old allocation") }
            return
        }
        if size < 0 || size > totalBytes { fail("\(what()) returned \(n) for an impossible size") }
        var moved = old
        moved.p = n
        if let at = moved.mismatch(below: size) { fail("\(what()): byte \(at) of the old content lost") }
        if n != old.p { staleAddresses.append(old.p) }
        var h = Holding(kind: old.kind, p: n, size: size, tag: tag())
        if case .kmalloc = old.kind, sys.is_vmalloc_addr(n) { h.kind = .kvmalloc }
        h.fill()
        held[index] = h
        verify(h)
    }

    // MARK: vmap and vm_map_ram

    /// Take up to two page blocks out of `held` for a mapping; their frames in order, reversed,
    /// or with one repeated.
    private mutating func takeBlocks() -> (blocks: [Holding], pfns: [Int])? {
        var blocks: [Holding] = []
        for _ in 0..<(1 + Int(input.u8() % 2)) {
            let candidates = held.indices.filter {
                if case .pages(_, let order) = held[$0].kind { order <= 6 } else { false }
            }
            guard let i = candidates.randomElement(using: input.u8()) else { break }
            blocks.append(held.remove(at: i))
        }
        guard !blocks.isEmpty else { return nil }
        var pfns: [Int] = []
        for b in blocks {
            guard case .pages(let page, let order) = b.kind else { continue }
            pfns += (0..<(1 << order)).map { page.pfn + $0 }
        }
        switch input.u8() % 4 {
        case 1: pfns.reverse()
        case 2: pfns.append(pfns[Int(input.u8()) % pfns.count])
        default: break
        }
        return (blocks, pfns)
    }

    private mutating func vmap() {
        guard let (blocks, pfns) = takeBlocks() else { return }
        let flags = VMFlags(rawValue: UInt32(input.u16()) & 0x44f)
        let prot: PageProtection = [.readWrite, .readWrite, .readOnly, .none][Int(input.u8() % 4)]
        guard let p = sys.vmap(pfns.map(Page.init(pfn:)), flags, prot) else {
            held += blocks
            return
        }
        let h = Holding(kind: .vmap(prot, pfns: pfns, blocks: blocks), p: p, size: 0, tag: tag())
        held.append(h)
        verify(h)
    }

    private mutating func vmMapRam() {
        guard let (blocks, pfns) = takeBlocks() else { return }
        let node = input.node(count: nodes)
        guard let p = sys.vm_map_ram(pfns.map(Page.init(pfn:)), node) else {
            held += blocks
            return
        }
        let h = Holding(kind: .mapRam(pfns: pfns, blocks: blocks), p: p, size: 0, tag: tag())
        held.append(h)
        verify(h)
    }

    // MARK: freeing

    /// Drop held[index] from the list without freeing it (a realloc freed it).
    private mutating func forget(_ index: Int) {
        let h = held.remove(at: index)
        if h.p != ZERO_SIZE_PTR { staleAddresses.append(h.p) }
    }

    /// Free held[index] with the call that matches it, after checking its bytes.
    mutating func release(_ index: Int) {
        let h = held.remove(at: index)
        verify(h)
        switch h.kind {
        case .vmalloc: sys.vfree(h.p)
        case .kvmalloc: sys.kvfree(h.p)
        case .kmalloc: sys.kfree(h.p)
        case .pages(let page, let order):
            sys.__free_pages(page, order)
            stalePages.append((page, order))
        case .vmap(_, let pfns, let blocks):
            // vfree of a vmap area unmaps it as vunmap does; the pages stay the caller's.
            input.u8() & 1 == 0 ? sys.vunmap(h.p) : sys.vfree(h.p)
            if sys.find_vm_area(h.p) != nil { fail("vmap area \(h.p) of \(pfns.count) pages left after its free") }
            held += blocks
        case .mapRam(let pfns, let blocks):
            sys.vm_unmap_ram(h.p, pfns.count)
            held += blocks
        }
        if h.p != ZERO_SIZE_PTR, !isPages(h) { staleAddresses.append(h.p) }
    }

    private func isPages(_ h: Holding) -> Bool {
        if case .pages = h.kind { true } else { false }
    }

    /// An address no holding starts at (a stale one may have been handed out again).
    private func isLive(_ p: UnsafeMutableRawPointer) -> Bool { held.contains { $0.p == p } || heldInMaps(p) }

    private func heldInMaps(_ p: UnsafeMutableRawPointer) -> Bool {
        held.contains {
            switch $0.kind {
            case .vmap(_, _, let blocks), .mapRam(_, let blocks): blocks.contains { $0.p == p }
            default: false
            }
        }
    }

    /// Frees the library must refuse, changing nothing: foreign, interior, stale and
    /// wrong-family pointers, wrong counts and orders. Every holding is checked afterwards.
    private mutating func badFree(_ which: UInt8) {
        let victim = held.isEmpty ? nil : held[input.below(held.count)]
        switch which % 12 {
        case 0: sys.vfree(Foreign.pointer + Int(input.u8()))
        case 1:
            guard let v = victim, v.size > 1 else { return }
            sys.vfree(v.p + 1 + input.below(v.size - 1))
        case 2:
            guard let s = staleAddresses.randomElement(using: input.u8()), !isLive(s) else { return }
            input.u8() & 1 == 0 ? sys.vfree(s) : sys.kvfree(s)
        case 3:
            guard let v = victim, sys.is_vmalloc_addr(v.p) else { return }
            sys.kfree(v.p)
        case 4:
            guard let v = victim, v.size > 1 else { return }
            sys.kfree(v.p + 1 + input.below(v.size - 1))
        case 5:
            guard let v = victim, case .vmalloc = v.kind else { return }
            input.u8() & 1 == 0 ? sys.vunmap(v.p) : sys.vm_unmap_ram(v.p, (v.size + 4095) / 4096)
        case 6:
            guard let v = victim else { return }
            switch v.kind {
            case .vmap(_, let pfns, _): sys.vm_unmap_ram(v.p, pfns.count)
            case .mapRam(let pfns, _): sys.vm_unmap_ram(v.p, pfns.count + 1 + Int(input.u8()))
            default: return
            }
        case 7:
            guard let v = victim else { return }
            switch v.kind {
            case .pages(let page, let order): sys.__free_pages(page, order + 1 + Int(input.u8() % 3))
            case .vmalloc, .kvmalloc:
                guard let page = sys.vmalloc_to_page(v.p) else { return }
                sys.__free_pages(page, 0)
            default: return
            }
        case 8:
            guard let v = victim, case .pages = v.kind else { return }
            input.u8() & 1 == 0 ? sys.kfree(v.p) : sys.kvfree(v.p)
        case 9:
            guard let (page, order) = stalePages.randomElement(using: input.u8()) else { return }
            guard !held.contains(where: { if case .pages(let q, _) = $0.kind { q == page } else { false } }),
                !heldInMaps(sys.page_address(page))
            else { return }
            sys.__free_pages(page, order)
        case 10:
            guard let v = victim, !sys.is_vmalloc_addr(v.p) else { return }
            if sys.vrealloc(v.p, 1 + input.u16(), GFP_KERNEL) != nil {
                fail("vrealloc(\(v.p)) of a non-vmalloc pointer succeeded")
            }
        default:
            sys.kfree(Foreign.pointer + 16 * Int(input.u8()))
        }
        for h in held { verify(h) }
    }

    // MARK: scopes

    private mutating func saveScope() {
        guard scopes.count < Self.maxScopes else { return }
        switch input.u8() % 3 {
        case 0: scopes.append((.noFS, memalloc_nofs_save()))
        case 1: scopes.append((.noIO, memalloc_noio_save()))
        default: scopes.append((.noReclaim, memalloc_noreclaim_save()))
        }
    }

    private mutating func restoreScope() {
        guard let (scope, token) = scopes.popLast() else { return }
        switch scope {
        case .noFS: memalloc_nofs_restore(token)
        case .noIO: memalloc_noio_restore(token)
        case .noReclaim: memalloc_noreclaim_restore(token)
        }
    }

    // MARK: checks

    /// A holding's bytes are its pattern, and its vmalloc-space pages map the frames it says.
    func verify(_ h: Holding) {
        if h.p == ZERO_SIZE_PTR { return }
        if let at = h.mismatch() { fail("\(h.kind) at \(h.p), \(h.size) bytes: byte \(at) is not the pattern") }
        switch h.kind {
        case .vmalloc, .kvmalloc:
            guard sys.is_vmalloc_addr(h.p) else {
                if case .vmalloc = h.kind { fail("vmalloc returned \(h.p), outside the vmalloc region") }
                return
            }
            guard let area = sys.find_vm_area(h.p), area.addr == h.p else { fail("no vm area starts at \(h.p)") }
            if area.nrPages * 4096 < h.size { fail("area \(area) is smaller than \(h.size) bytes") }
            for i in stride(from: 0, to: h.size, by: max(4096, h.size / 8 & ~4095)) {
                guard let page = sys.vmalloc_to_page(h.p + i) else { fail("\(h.p)+\(i) maps no frame") }
                let direct = sys.page_address(page).load(as: UInt8.self)
                if direct != h.p.load(fromByteOffset: i & ~4095, as: UInt8.self) {
                    fail("\(h.p)+\(i) and the direct map of \(page) differ")
                }
            }
        case .vmap(let prot, let pfns, _):
            checkMapping(h.p, pfns, readable: prot != .none, writable: prot == .readWrite)
        case .mapRam(let pfns, _):
            checkMapping(h.p, pfns, readable: true, writable: true)
        case .kmalloc, .pages:
            if sys.is_vmalloc_addr(h.p) { fail("\(h.kind) at \(h.p) lies in the vmalloc region") }
        }
    }

    private func checkMapping(_ p: UnsafeMutableRawPointer, _ pfns: [Int], readable: Bool, writable: Bool) {
        for (i, pfn) in pfns.enumerated() {
            let va = p + i * 4096
            guard sys.vmalloc_to_pfn(va) == pfn else {
                fail("\(va) maps pfn \(String(describing: sys.vmalloc_to_pfn(va))), not \(pfn)")
            }
            guard readable else { continue }
            let direct = sys.page_address(Page(pfn: pfn))
            if writable {
                // Offset 8 carries no pattern byte (page starts and last bytes do).
                (va + 8).storeBytes(of: UInt8(truncatingIfNeeded: pfn), as: UInt8.self)
            }
            if va.load(as: UInt8.self) != direct.load(as: UInt8.self)
                || va.load(fromByteOffset: 8, as: UInt8.self) != direct.load(fromByteOffset: 8, as: UInt8.self)
            {
                fail("\(va) (page \(i) of a mapping) and the direct map of pfn \(pfn) differ")
            }
        }
    }

    /// Everything freed and the lazy areas purged: every node's free frames are its managed
    /// frames less the page-table and slab pages, and no area is left.
    private func checkNothingLost() {
        sys.vm_unmap_aliases()
        let info = sys.meminfo()
        for n in info.nodes where n.memFree != n.memTotal - n.pageTables - n.slab {
            fail("node \(n.node) lost \((n.memTotal - n.pageTables - n.slab - n.memFree) / 4096) pages: \(n)")
        }
        if info.memFree != info.memTotal - info.pageTables - info.slab { fail("memory lost overall") }
        if info.vmallocUsed != 0 { fail("VmallocUsed \(info.vmallocUsed) with nothing held") }
        let areas = sys.vmallocinfo()
        if !areas.isEmpty { fail("areas left with nothing held:\n\(areas)") }
    }

    func fail(_ message: String) -> Never {
        fatalError("FuzzVmalloc: \(message)\n\(sys.meminfo())\n\(sys.vmallocinfo())")
    }
}

/// Memory the system never handed out: frees of it must be refused.
enum Foreign {
    nonisolated(unsafe) static let pointer: UnsafeMutableRawPointer = {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 4096)
        p.initializeMemory(as: UInt8.self, repeating: 0xa5, count: 1 << 16)
        return p
    }()
}

extension Array {
    /// The element a fuzzer byte picks; nil when empty.
    func randomElement(using byte: UInt8) -> Element? { isEmpty ? nil : self[Int(byte) % count] }
}
