/// Disjoint ranges keyed by start, each carrying a value, with the largest range size of every
/// subtree kept in its root — the kernel's augmented rb-tree of free vmap areas
/// (`subtree_max_size`), built here as a treap. Lowest-address fit, floor lookup, insert and
/// remove are all O(log n) expected.
struct RangeTree {
    private struct Node {
        var start: Int
        var size: Int
        var maxSize: Int
        var left: Int32
        var right: Int32
        var priority: UInt32
        var value: Int32
    }

    private var nodes: ContiguousArray<Node> = []
    private var vacant: [Int32] = []
    private var root: Int32 = -1
    private var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    private(set) var count = 0

    /// A range and its value.
    struct Entry: Equatable {
        var start: Int
        var size: Int
        var value: Int32
        var end: Int { start + size }
    }

    private func maxSize(_ t: Int32) -> Int { t < 0 ? 0 : nodes[Int(t)].maxSize }

    private mutating func update(_ t: Int32) {
        let n = nodes[Int(t)]
        nodes[Int(t)].maxSize = Swift.max(n.size, maxSize(n.left), maxSize(n.right))
    }

    private mutating func nextPriority() -> UInt32 {
        // xorshift64*: cheap, deterministic, good enough to keep the treap balanced.
        seed ^= seed >> 12
        seed ^= seed << 25
        seed ^= seed >> 27
        return UInt32(truncatingIfNeeded: (seed &* 2_685_821_657_736_338_717) >> 32)
    }

    /// Split t into ranges starting before key and the rest.
    private mutating func split(_ t: Int32, _ key: Int) -> (Int32, Int32) {
        if t < 0 { return (-1, -1) }
        if nodes[Int(t)].start < key {
            let (l, r) = split(nodes[Int(t)].right, key)
            nodes[Int(t)].right = l
            update(t)
            return (t, r)
        } else {
            let (l, r) = split(nodes[Int(t)].left, key)
            nodes[Int(t)].left = r
            update(t)
            return (l, t)
        }
    }

    /// Join two treaps where every start in a precedes every start in b.
    private mutating func merge(_ a: Int32, _ b: Int32) -> Int32 {
        if a < 0 { return b }
        if b < 0 { return a }
        if nodes[Int(a)].priority > nodes[Int(b)].priority {
            nodes[Int(a)].right = merge(nodes[Int(a)].right, b)
            update(a)
            return a
        } else {
            nodes[Int(b)].left = merge(a, nodes[Int(b)].left)
            update(b)
            return b
        }
    }

    /// Add a range that overlaps none present.
    mutating func insert(start: Int, size: Int, value: Int32 = 0) {
        let node = Node(
            start: start, size: size, maxSize: size, left: -1, right: -1,
            priority: nextPriority(), value: value)
        let slot: Int32
        if let v = vacant.popLast() {
            slot = v
            nodes[Int(v)] = node
        } else {
            slot = Int32(nodes.count)
            nodes.append(node)
        }
        let (l, r) = split(root, start)
        root = merge(merge(l, slot), r)
        count += 1
    }

    /// Remove the range that starts at `start`; returns it, or nil when there is none.
    @discardableResult
    mutating func remove(start: Int) -> Entry? {
        let (l, r) = split(root, start)
        let (m, rest) = split(r, start + 1)
        guard m >= 0 else {
            root = merge(l, merge(m, rest))
            return nil
        }
        let n = nodes[Int(m)]
        vacant.append(m)
        count -= 1
        root = merge(l, rest)
        return Entry(start: n.start, size: n.size, value: n.value)
    }

    /// The range with the greatest start ≤ key.
    func floor(_ key: Int) -> Entry? {
        var t = root
        var best: Int32 = -1
        while t >= 0 {
            if nodes[Int(t)].start <= key {
                best = t
                t = nodes[Int(t)].right
            } else {
                t = nodes[Int(t)].left
            }
        }
        return entry(best)
    }

    /// The range with the least start ≥ key.
    func ceiling(_ key: Int) -> Entry? {
        var t = root
        var best: Int32 = -1
        while t >= 0 {
            if nodes[Int(t)].start >= key {
                best = t
                t = nodes[Int(t)].left
            } else {
                t = nodes[Int(t)].right
            }
        }
        return entry(best)
    }

    /// The lowest-addressed range of at least `length` bytes (`find_vmap_lowest_match`).
    func lowestFit(_ length: Int) -> Entry? {
        var t = root
        guard maxSize(t) >= length else { return nil }
        while t >= 0 {
            let n = nodes[Int(t)]
            if maxSize(n.left) >= length {
                t = n.left
            } else if n.size >= length {
                return entry(t)
            } else {
                t = n.right
            }
        }
        return nil
    }

    /// Every range in address order.
    func forEach(_ body: (Entry) -> Void) {
        var stack: [Int32] = []
        var t = root
        while t >= 0 || !stack.isEmpty {
            while t >= 0 {
                stack.append(t)
                t = nodes[Int(t)].left
            }
            let n = stack.removeLast()
            body(entry(n)!)
            t = nodes[Int(n)].right
        }
    }

    private func entry(_ t: Int32) -> Entry? {
        t < 0 ? nil : Entry(start: nodes[Int(t)].start, size: nodes[Int(t)].size, value: nodes[Int(t)].value)
    }
}
