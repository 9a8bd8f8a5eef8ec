import PropertyBased
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The augmented treap against a sorted-array model: lowest fit, floor, ceiling, insert, remove.
@Suite struct RangeTreeTests {
    @Test func agreesWithAModel() async {
        await propertyCheck(
            count: 300, input: zip(Gen.int(in: 0...3), Gen.int(in: 0...400), Gen.int(in: 1...40)).array(of: 1...300)
        ) { ops in
            var tree = RangeTree()
            var model: [Int: Int] = [:]  // start -> size, disjoint ranges on a 4096-slot line
            var used = Set<Int>()
            for (op, a, b) in ops {
                switch op {
                case 0, 1:  // insert [a, a+b) if free
                    let slots = Set(a..<(a + b))
                    guard used.isDisjoint(with: slots) else { continue }
                    tree.insert(start: a, size: b, value: Int32(a))
                    model[a] = b
                    used.formUnion(slots)
                case 2:  // remove the range starting at the a-th smallest start, or a missing key
                    let keys = model.keys.sorted()
                    let key = keys.isEmpty ? a : keys[a % keys.count]
                    let removed = tree.remove(start: key)
                    if let size = model.removeValue(forKey: key) {
                        #expect(removed == RangeTree.Entry(start: key, size: size, value: Int32(key)))
                        used.subtract(key..<(key + size))
                    } else {
                        #expect(removed == nil)
                    }
                default:
                    break
                }
                let sorted = model.sorted { $0.key < $1.key }
                let fit = sorted.first { $0.value >= b }
                #expect(tree.lowestFit(b)?.start == fit?.key, "lowestFit(\(b))")
                #expect(tree.floor(a)?.start == sorted.last { $0.key <= a }?.key, "floor(\(a))")
                #expect(tree.ceiling(a)?.start == sorted.first { $0.key >= a }?.key, "ceiling(\(a))")
                #expect(tree.count == model.count)
            }
            var seen: [Int] = []
            tree.forEach { seen.append($0.start) }
            #expect(seen == model.keys.sorted())
        }
    }
}
