import Testing

@testable import Vmalloc

/// The key → id table (`IDTable`) of the shards' large and vm_map_ram pools and the per-CPU
/// groups' chunks: a removal refills its slot from the probe cluster behind it.
@Suite struct IDTableTests {
    /// Moving entries to new keys (a removal and an insertion) inside long probe clusters leaves
    /// every other key where a lookup finds it and the moved one under its new key only; a later
    /// round of removals and insertions still finds everything. Fails if the vacated slot is not
    /// refilled from its cluster (keys behind it become unreachable).
    @Test func removalsKeepEveryEntryReachable() {
        let table = IDTable()
        let page = 4096
        // Owner starts of 64-page classes: many share a probe cluster in a table of this size.
        var ids: [Int: Int32] = [:]
        for i in 0..<600 {
            let key = i * 64 * page + 63 * page
            table.insert(key, Int32(i))
            ids[key] = Int32(i)
        }
        var rng = SystemRandomNumberGenerator()
        for round in 0..<2000 {
            let old = ids.keys.randomElement(using: &rng)!
            // A new owner start inside the same class: 1 to 64 pages from its end.
            let base = old / (64 * page) * (64 * page)
            let new = base + (64 - Int.random(in: 1...64, using: &rng)) * page
            guard new != old else { continue }
            let id = ids.removeValue(forKey: old)!
            table.remove(old)
            table.insert(new, id)
            ids[new] = id
            #expect(table[old] == -1, "round \(round)")
        }
        for (key, id) in ids { #expect(table[key] == id) }
        for (key, _) in ids.prefix(300) {
            table.remove(key)
            ids[key] = nil
        }
        for i in 600..<900 {
            let key = i * 64 * page
            table.insert(key, Int32(i))
            ids[key] = Int32(i)
        }
        for (key, id) in ids { #expect(table[key] == id) }
    }
}
