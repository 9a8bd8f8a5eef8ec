import CShim
import PropertyBased
import Testing
@testable import Vmalloc

/// Random sequences of valid and invalid operations; after each step the frame metadata must
/// tile memory and agree with what the test holds, and at the end everything comes back.
@Suite struct RandomSequenceTests {
    static let steps = zip(Gen.int(in: 0...11), Gen.int(in: 0...300), Gen.int(in: 0...3)).array(of: 1...80)

    @Test func operationsLoseNothing() async throws {
        await propertyCheck(count: 200, input: Self.steps) { steps in
            let sys = try! makeSystem(nodes: 2, mib: 8, lazyMaxPages: 64)
            var areas: [(UnsafeMutableRawPointer, Int, UInt8?)] = []  // vmalloc'd: bytes, fill seed
            var maps: [(UnsafeMutableRawPointer, [Page])] = []  // vmapped caller frames
            var blocks: [(Page, Int)] = []  // alloc_pages
            for (op, n, x) in steps {
                switch op {
                case 0, 1:
                    if let p = sys.vmalloc(n * 1000 + x, GFP_KERNEL | __GFP_NOWARN) {
                        fill(p, n * 1000 + x, seed: UInt8(truncatingIfNeeded: n))
                        areas.append((p, n * 1000 + x, UInt8(truncatingIfNeeded: n)))
                    } else {
                        #expect(n == 0, "vmalloc(\(n * 1000 + x)) failed")
                    }
                case 2:
                    if let p = sys.vmalloc_node(n * 100 + 1, x - 1, GFP_KERNEL | __GFP_NOWARN) { areas.append((p, n * 100 + 1, nil)) }
                case 3:
                    if !areas.isEmpty {
                        let (p, size, seed) = areas.remove(at: n % areas.count)
                        if let seed { #expect(check(p, size, seed: seed)) }
                        sys.vfree(p)
                    }
                case 4:
                    if let pg = sys.alloc_pages(GFP_KERNEL | __GFP_NOWARN, x) { blocks.append((pg, x)) }
                case 5:
                    if !blocks.isEmpty { let (pg, o) = blocks.remove(at: n % blocks.count); sys.__free_pages(pg, o) }
                case 6:
                    let frames = blocks.flatMap { b in (0..<(1 << b.1)).map { Page(pfn: b.0.pfn + $0) } }.shuffled()
                    if !frames.isEmpty, let p = sys.vmap(Array(frames.prefix(n % 8 + 1))) { maps.append((p, Array(frames.prefix(n % 8 + 1)))) }
                case 7:
                    if !maps.isEmpty { sys.vunmap(maps.remove(at: n % maps.count).0) }
                case 8:  // invalid frees: interior, foreign, wrong kind, nil
                    if let (p, size, _) = areas.first {
                        sys.vfree(p + 8 * (x + 1))
                        if size > 4096 { sys.vfree(p + 4096) }
                        sys.vunmap(p)
                    }
                    if let (p, _) = maps.first { sys.vfree(p) }
                    sys.vfree(nil)
                    sys.vfree(UnsafeMutableRawPointer(bitPattern: 0x1000 * (n + 1)))
                case 9:  // invalid sizes, alignments, nodes
                    #expect(sys.vmalloc(-n) == nil)
                    #expect(sys.__vmalloc_node(4096, align: 3 * (n + 1), .kernel, node: NUMA_NO_NODE) == nil)
                    #expect(sys.vmalloc_node(4096, 2 + x) == nil)
                case 10:
                    sys.vm_unmap_aliases()
                default:
                    if let p = sys.__vmalloc_node(n * 500 + 1, align: 4096 << x, GFP_KERNEL | __GFP_NOWARN, node: NUMA_NO_NODE) {
                        #expect(Int(bitPattern: p) % (4096 << x) == 0)
                        areas.append((p, n * 500 + 1, nil))
                    }
                }
                let audit = sys.audit()
                #expect(audit.consistent)
                let vmallocPages = audit.held.reduce(0) { $0 + ($1[UInt8(VMSHIM_OWNER_VMALLOC)] ?? 0) }
                let live = areas.reduce(0) { $0 + ($1.1 + 4095) / 4096 }
                #expect(vmallocPages == live + sys.vmap.lazyPages)
                #expect(sys.meminfo().vmallocUsed == live * 4096)
            }
            for (p, _) in maps { sys.vunmap(p) }
            for (p, _, _) in areas { sys.vfree(p) }
            for (pg, o) in blocks { sys.__free_pages(pg, o) }
            expectNothingLost(sys)
            let audit = sys.audit()
            #expect(audit.held.enumerated().allSatisfy { n, h in h.keys.allSatisfy { $0 == UInt8(VMSHIM_OWNER_PAGETABLE) } })
        }
    }
}
