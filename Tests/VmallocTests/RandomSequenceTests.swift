import CShim
import CVmallocTestSupport
import Foundation
import PropertyBased
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// Random sequences of valid and invalid operations; after each step the frame metadata must
/// tile memory and agree with what the test holds, and at the end everything comes back.
@Suite struct RandomSequenceTests {
    static let steps = zip(Gen.int(in: 0...15), Gen.int(in: 0...300), Gen.int(in: 0...3)).array(of: 1...80)
    /// A few hundred sequences in `make test`; `VMALLOC_LONG_TESTS=1` runs ten times as many.
    static let count = ProcessInfo.processInfo.environment["VMALLOC_LONG_TESTS"] == nil ? 200 : 2000
    static let masks: [GFP] = [GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_NOWAIT]
    static let scopes: [MemallocScope?] = [nil, .noFS, .noIO]

    @Test func operationsLoseNothing() async throws {
        await propertyCheck(count: Self.count, input: Self.steps) { steps in
            // 2 × 32 MiB: no generated sequence can hold more than a third of it, so every valid
            // allocation must succeed.
            let log = LogCapture()
            let sys = try! makeSystem(nodes: 2, mib: 32, lazyMaxPages: 64, log: log)
            var areas: [(UnsafeMutableRawPointer, Int, UInt8?)] = []  // vmalloc'd: bytes, fill seed
            var maps: [(UnsafeMutableRawPointer, [Page])] = []  // vmapped caller frames
            var blocks: [(Page, Int)] = []  // alloc_pages
            var kv: [(UnsafeMutableRawPointer, Int, UInt8)] = []  // kvmalloc'd or kmalloc'd: bytes, fill seed
            var stale: [UnsafeMutableRawPointer] = []  // freed vmalloc addresses
            var mapRam = Set<UnsafeMutableRawPointer>()  // which of `maps` came from vm_map_ram
            for (op, n, x) in steps {
                switch op {
                case 0, 1:
                    if let p = sys.vmalloc(n * 1000 + x, GFP_KERNEL | __GFP_NOWARN) {
                        fill(p, n * 1000 + x, seed: UInt8(truncatingIfNeeded: n))
                        areas.append((p, n * 1000 + x, UInt8(truncatingIfNeeded: n)))
                    } else if n != 0 {
                        // Printed as well: the property runner may suppress the issue while shrinking.
                        let why =
                            "vmalloc(\(n * 1000 + x)) failed: \(sys.meminfo()) \(log.all.suffix(3))"
                        print(why)
                        Issue.record(Comment(rawValue: why))
                    }
                case 2:
                    if let p = sys.vmalloc_node(n * 100 + 1, x - 1, GFP_KERNEL | __GFP_NOWARN) {
                        areas.append((p, n * 100 + 1, nil))
                    }
                case 3:
                    if !areas.isEmpty {
                        let (p, size, seed) = areas.remove(at: n % areas.count)
                        if let seed, !check(p, size, seed: seed) {
                            print("RandomSequenceTests: content of \(p) (\(size) bytes) changed")
                            Issue.record("content of \(p) changed")
                        }
                        sys.vfree(p)
                        stale.append(p)
                    }
                case 4:
                    if let pg = sys.alloc_pages(GFP_KERNEL | __GFP_NOWARN, x) { blocks.append((pg, x)) }
                case 5:
                    if !blocks.isEmpty {
                        let (pg, o) = blocks.remove(at: n % blocks.count)
                        sys.__free_pages(pg, o)
                    }
                case 6:
                    let frames = blocks.flatMap { b in (0..<(1 << b.1)).map { Page(pfn: b.0.pfn + $0) } }.shuffled()
                    let chosen = Array(frames.prefix(n % 8 + 1))
                    // Odd x: vm_map_ram, whose unmap is lazy until the frames are freed.
                    if !chosen.isEmpty, let p = x % 2 == 1 ? sys.vm_map_ram(chosen) : sys.vmap(chosen) {
                        maps.append((p, chosen))
                        if x % 2 == 1 { mapRam.insert(p) }
                    }
                case 7:
                    if !maps.isEmpty {
                        let (p, frames) = maps.remove(at: n % maps.count)
                        // vfree of a vmap area unmaps it as vunmap does.
                        if mapRam.remove(p) != nil {
                            sys.vm_unmap_ram(p, frames.count)
                        } else if x % 2 == 0 {
                            sys.vunmap(p)
                        } else {
                            sys.vfree(p)
                        }
                    }
                case 8:  // invalid frees: interior, foreign, wrong kind, nil
                    if let (p, size, _) = areas.first {
                        sys.vfree(p + 8 * (x + 1))
                        if size > 4096 { sys.vfree(p + 4096) }
                        sys.vunmap(p)
                    }
                    if let (p, frames) = maps.first {
                        if mapRam.contains(p) { sys.vfree(p) } else { sys.vm_unmap_ram(p, frames.count) }
                    }
                    sys.vfree(nil)
                    sys.vfree(UnsafeMutableRawPointer(bitPattern: 0x1000 * (n + 1)))
                case 9:  // invalid sizes, alignments, nodes
                    #expect(sys.vmalloc(-n) == nil)
                    #expect(sys.__vmalloc_node(4096, align: 3 * (n + 1), .kernel, node: NUMA_NO_NODE) == nil)
                    #expect(sys.vmalloc_node(4096, 2 + x) == nil)
                case 10:
                    sys.vm_unmap_aliases()
                case 12, 13:  // kvmalloc / kmalloc under every mask and scope
                    let size = op == 12 ? n * 257 + x : n + 1
                    let mask = Self.masks[x] | __GFP_NOWARN
                    let body = { op == 12 ? sys.kvmalloc(size, mask) : sys.kmalloc(size, mask) }
                    let p = Self.scopes[n % 3].map { withMemallocScope($0, body) } ?? body()
                    if let p {
                        fill(p, size, seed: UInt8(truncatingIfNeeded: x &+ n))
                        kv.append((p, size, UInt8(truncatingIfNeeded: x &+ n)))
                    }
                case 14:
                    if !kv.isEmpty {
                        let (p, size, seed) = kv.remove(at: n % kv.count)
                        if !check(p, size, seed: seed) {
                            print("RandomSequenceTests: content of kv \(p) (\(size) bytes) changed")
                            Issue.record("content of kv \(p) changed")
                        }
                        sys.kvfree(p)
                    }
                case 15:  // stale and cross-family frees are refused
                    // A stale address a vmap took since is that area's: vfree would unmap it.
                    let live = Set(areas.map(\.0) + kv.map(\.0) + maps.map(\.0))
                    if let p = stale.last, !live.contains(p) { sys.vfree(p) }
                    if let (p, _, _) = areas.first { sys.kfree(p) }
                    if let (p, _, _) = kv.first(where: { !sys.is_vmalloc_addr($0.0) }) { sys.vfree(p) }
                    sys.kvfree(nil)
                default:
                    if let p = sys.__vmalloc_node(
                        n * 500 + 1, align: 4096 << x, GFP_KERNEL | __GFP_NOWARN, node: NUMA_NO_NODE)
                    {
                        #expect(Int(bitPattern: p) % (4096 << x) == 0)
                        areas.append((p, n * 500 + 1, nil))
                    }
                }
                Self.checkInvariants(
                    sys,
                    areas: areas.map { ($0.0, $0.1) } + kv.filter { sys.is_vmalloc_addr($0.0) }.map { ($0.0, $0.1) },
                    maps: maps, blocks: blocks)
            }
            for (p, frames) in maps {
                if mapRam.contains(p) { sys.vm_unmap_ram(p, frames.count) } else { sys.vunmap(p) }
            }
            for (p, _, _) in areas { sys.vfree(p) }
            for (pg, o) in blocks { sys.__free_pages(pg, o) }
            for (p, _, _) in kv { sys.kvfree(p) }
            _ = sys.kmem_cache_shrink()
            expectNothingLost(sys)
            let audit = sys.audit()
            if !audit.held.allSatisfy({ $0.allSatisfy { $0.key == VMSHIM_OWNER_PAGETABLE || $0.value == 0 } }) {
                print("RandomSequenceTests: frames still held after cleanup: \(audit.held)")
                Issue.record("frames still held after cleanup: \(audit.held)")
            }
        }
    }

    /// The model and the system agree after every step: the metadata tiles memory; vmalloc'd
    /// frames are exactly the live and lazily freed areas' pages; every live page maps the frame
    /// the page table names (a write through one address reads back through the other); no
    /// frame has two owners (vmap aliases aside); the VMAs in the region stay within budget.
    static func checkInvariants(
        _ sys: MemorySystem, areas: [(UnsafeMutableRawPointer, Int)],
        maps: [(UnsafeMutableRawPointer, [Page])], blocks: [(Page, Int)],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let audit = sys.audit()
        func expect(_ ok: Bool, _ what: @autoclosure () -> String) {
            guard !ok else { return }
            // Printed as well: the property runner may suppress the issue while shrinking.
            print("RandomSequenceTests invariant broken: \(what())")
            Issue.record(Comment(rawValue: what()), sourceLocation: sourceLocation)
        }
        expect(audit.consistent, "frame metadata does not tile memory")
        let vmallocPages = audit.held.reduce(0) { $0 + ($1[VMSHIM_OWNER_VMALLOC] ?? 0) }
        let live = areas.reduce(0) { $0 + ($1.1 + 4095) / 4096 }
        // Live areas of a size class hold their class's frames: the slack past the owner's pages.
        let lazy = sys.space.areas.lazyPages
        let slack = sys.space.areas.slackPages
        expect(
            vmallocPages == live + lazy + slack,
            "vmalloc frames \(vmallocPages) != live \(live) + lazy \(lazy) + slack \(slack)")
        expect(sys.meminfo().vmallocUsed == live * 4096, "VmallocUsed \(sys.meminfo().vmallocUsed) != \(live * 4096)")
        var owners: [Int: Int] = [:]  // pfn -> how many owners
        for (p, bytes) in areas {
            for i in 0..<((bytes + 4095) / 4096) {
                let va = p + i * 4096
                guard let pfn = sys.vmalloc_to_pfn(va) else {
                    expect(false, "live page \(va) has no PTE")
                    continue
                }
                owners[pfn, default: 0] += 1
                let direct = sys.page_address(Page(pfn: pfn))
                let saved = direct.load(fromByteOffset: 4088, as: UInt64.self)
                va.storeBytes(of: UInt64(pfn) ^ 0xA5A5, toByteOffset: 4088, as: UInt64.self)
                expect(
                    direct.load(fromByteOffset: 4088, as: UInt64.self) == UInt64(pfn) ^ 0xA5A5,
                    "page \(va) does not map pfn \(pfn)")
                va.storeBytes(of: saved, toByteOffset: 4088, as: UInt64.self)
            }
        }
        for (b, order) in blocks { for k in 0..<(1 << order) { owners[b.pfn + k, default: 0] += 1 } }
        expect(owners.values.allSatisfy { $0 == 1 }, "a frame has two owners")
        for (p, frames) in maps {
            for (i, f) in frames.enumerated() {
                expect(sys.vmalloc_to_page(p + i * 4096) == f, "vmap page \(i) of \(p) is not \(f)")
            }
        }
        let region = (sys.space.areas.base, sys.space.areas.base + sys.space.areas.regionSize)
        let vmas = Int(vmtest_count_vmas_in(region.0, region.1))
        expect(
            vmas <= sys.space.mapper.vmas.used.load(ordering: .relaxed) + 1,
            "\(vmas) VMAs in the region, \(sys.space.mapper.vmas.used.load(ordering: .relaxed)) "
                + "charged:\n\(regionMaps(region.0, region.1))\n\(sys.vmallocinfo())"
        )
        expect(sys.space.mapper.vmas.used.load(ordering: .relaxed) <= VMABudget.process.limit, "VMA budget exceeded")
    }

    /// The /proc/self/maps lines of a range, for diagnostics.
    static func regionMaps(_ lo: UnsafeMutableRawPointer, _ hi: UnsafeMutableRawPointer) -> String {
        guard let text = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return "" }
        return text.split(separator: "\n").filter { line in
            let parts = line.split(separator: " ")[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            return parts.count == 2 && parts[0] < UInt(bitPattern: hi) && parts[1] > UInt(bitPattern: lo)
        }.joined(separator: "\n")
    }
}
