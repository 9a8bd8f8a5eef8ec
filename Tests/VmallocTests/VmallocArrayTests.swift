import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct VmallocArrayTests {
    /// Where the array's storage lies (nil while it has none).
    private func storage<T>(_ a: borrowing VmallocArray<T>) -> UnsafeRawPointer? {
        a.span.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    /// Appends read back by subscript and span through growth from slab to vmalloc; writes
    /// through the subscript and `mutableSpan` stick; `removeAll` keeps the storage; dropping
    /// the array gives every frame back.
    @Test func holdsWhatWasAppendedThroughGrowth() throws {
        let sys = try makeSystem()
        do {
            var a = try VmallocArray<UInt64>(system: sys)
            #expect(a.isEmpty && a.capacity == 0)
            for i in 0..<100 { try a.append(UInt64(i) * 3) }
            #expect(a.count == 100)
            #expect(!sys.is_vmalloc_addr(storage(a)), "100 elements live in the slab")
            for i in 100..<1_000_000 { try a.append(UInt64(i) * 3) }
            #expect(a.count == 1_000_000 && a.capacity >= 1_000_000)
            #expect(sys.is_vmalloc_addr(storage(a)), "8 MB of elements (over KMALLOC_MAX_SIZE) live in vmalloc")
            var wrong = 0
            for i in 0..<a.count where a[i] != UInt64(i) * 3 { wrong += 1 }
            #expect(wrong == 0)
            #expect(a.span.count == 1_000_000 && a.span[999_999] == 999_999 * 3)

            a[7] = 42
            var m = a.mutableSpan
            m[8] = 43
            #expect(a[7] == 42 && a.span[8] == 43)

            let capacity = a.capacity
            let base = storage(a)
            a.removeAll()
            #expect(a.isEmpty && a.capacity == capacity && storage(a) == base)
            try a.append(1)
            #expect(a[0] == 1 && storage(a) == base)
        }
        sys.kmem_cache_shrink()
        expectNothingLost(sys)
    }

    /// Negative and overflowing capacities throw `.invalidSize` and allocate nothing.
    @Test func invalidCapacitiesThrowAndLoseNothing() throws {
        let sys = try makeSystem()
        #expect(throws: AllocationError.invalidSize(-1)) { _ = try VmallocArray<UInt8>(capacity: -1, system: sys) }
        #expect(throws: AllocationError.invalidSize(Int.max / 4)) {
            _ = try VmallocArray<UInt64>(capacity: Int.max / 4, system: sys)
        }
        #expect(sys.vmallocinfo().isEmpty)
        expectNothingLost(sys)
    }

    /// A failed growth throws `.outOfMemory` and leaves the elements as they were.
    @Test func outOfMemoryKeepsTheElements() throws {
        let sys = try makeSystem(mib: 16)
        do {
            var a = try VmallocArray<UInt32>(capacity: 1 << 20, gfp: GFP_KERNEL | __GFP_NOWARN, system: sys)
            for i in 0..<a.capacity { try a.append(UInt32(i)) }
            // Doubling to 8 MiB needs more than the 16 MiB system has left next to the old 4 MiB.
            let hog = try VmallocBuffer(byteCount: 8 << 20, gfp: GFP_KERNEL | __GFP_NOWARN, system: sys)
            #expect(throws: AllocationError.outOfMemory(size: 8 << 20, gfp: GFP_KERNEL | __GFP_NOWARN)) {
                try a.append(0)
            }
            _ = consume hog
            #expect(a.count == 1 << 20)
            var wrong = 0
            for i in 0..<a.count where a[i] != UInt32(i) { wrong += 1 }
            #expect(wrong == 0)
        }
        expectNothingLost(sys)
    }
}
