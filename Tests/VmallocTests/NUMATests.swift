import CNuma
import CShim
import CVmallocTestSupport
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct NUMATests {
    @Test func realNodePlacementIsReportedByMovePages() throws {
        try #require(numa_available() >= 0, "libnuma unavailable here")
        let sys = try makeSystem(nodes: nil)
        let size = 256 * 4096
        let p = try #require(sys.vmalloc_node(size, 0))
        memset(p, 1, size)
        for i in 0..<256 {
            #expect(vmtest_page_node(p + i * 4096) == Int32(sys.memory.realNode[0]))
            #expect(sys.page_to_nid(try #require(sys.vmalloc_to_page(p + i * 4096))) == 0)
        }
        sys.vfree(p)
        expectNothingLost(sys)
    }

    @Test(arguments: 0..<3)
    func emulatedNodesKeepTheirFrames(node: Int) throws {
        let sys = try makeSystem(nodes: 3, mib: 16)
        let p = try #require(sys.vmalloc_node(100 * 4096, node))
        for i in 0..<100 {
            #expect(sys.page_to_nid(try #require(sys.vmalloc_to_page(p + i * 4096))) == node)
        }
        #expect(try #require(sys.find_vm_area(p)).pagesPerNode[node] == 100)
        #expect(sys.vmallocinfo().contains("N\(node)=100"))
        sys.vfree(p)
        expectNothingLost(sys)
    }

    @Test func thisNodeFailsWhenExhaustedAndPlainFallsBack() throws {
        let sys = try makeSystem(nodes: 3, mib: 8)
        var held: [Page] = []
        while let pg = sys.alloc_pages_node(1, GFP_KERNEL | __GFP_THISNODE | __GFP_NORETRY | __GFP_NOWARN, 0) {
            #expect(sys.page_to_nid(pg) == 1)
            held.append(pg)
        }
        #expect(held.count > 1000)
        #expect(sys.alloc_pages_node(1, GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 0) == nil)
        let other = try #require(sys.alloc_pages_node(1, GFP_KERNEL, 0))
        #expect(sys.page_to_nid(other) != 1)
        #expect(sys.vmalloc_node(64 * 4096, 1, GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN) == nil)
        let p = try #require(sys.vmalloc_node(64 * 4096, 1))
        #expect(try #require(sys.find_vm_area(p)).pagesPerNode[1] == 0)
        sys.vfree(p)
        sys.__free_page(other)
        held.forEach(sys.__free_page)
        expectNothingLost(sys)
    }

    @Test func fallbackFollowsDistanceOrder() throws {
        let sys = try makeSystem(nodes: 4, mib: 8)
        for n in 0..<4 {
            #expect(sys.allocator.zonelists[n].first == n)
            #expect(Set(sys.allocator.zonelists[n]) == Set(0..<4))
        }
        #expect(sys.buddyinfo().split(separator: "\n").count == 4)
        #expect(sys.buddyinfo().hasPrefix("Node 0, zone   Normal"))
    }
}
