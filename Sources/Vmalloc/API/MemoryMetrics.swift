import Metrics
import Synchronization

/// Reports a system's `/proc/meminfo` figures as gauges and its `/proc/vmstat` counters as
/// counters through swift-metrics, to whatever backend the program bootstrapped
/// (`MetricsSystem.bootstrap`). The library never bootstraps one: without it the reports go
/// to swift-metrics' no-op backend. The kernel exports the same figures as files in /proc that
/// node_exporter reads; this is the in-process equivalent.
///
/// Gauges, in bytes: `<prefix>_mem_total_bytes`, `_mem_free_bytes`, `_vmalloc_total_bytes`,
/// `_vmalloc_used_bytes`, `_page_tables_bytes`, `_slab_bytes`, and per node (dimension `node`)
/// `<prefix>_node_mem_total_bytes`, `_node_mem_free_bytes`, `_node_page_tables_bytes`,
/// `_node_slab_bytes`. Counters: `<prefix>_<vmstat name>_total` for every `VMStatItem`, e.g.
/// `vmalloc_allocstall_total`.
public final class MemoryMetrics: Sendable {
    /// The system reported on.
    public let system: MemorySystem
    /// The first word of every metric label.
    public let prefix: String
    /// The vmstat values last reported: swift-metrics counters take increments, vmstat keeps totals.
    private let reported = Mutex<[VMStatItem: Int]>([:])

    /// A reporter for `system` whose labels start with `prefix`. It reports nothing until
    /// `report()` or `run(every:)` is called.
    public init(system: MemorySystem = .shared, prefix: String = "vmalloc") {
        self.system = system
        self.prefix = prefix
    }

    /// Record every gauge once and add to every counter what vmstat counted since the last report.
    public func report() {
        let info = system.meminfo()
        let totals: [(String, Int)] = [
            ("mem_total", info.memTotal), ("mem_free", info.memFree), ("vmalloc_total", info.vmallocTotal),
            ("vmalloc_used", info.vmallocUsed), ("page_tables", info.pageTables), ("slab", info.slab),
        ]
        for (name, bytes) in totals { Gauge(label: "\(prefix)_\(name)_bytes").record(bytes) }
        for n in info.nodes {
            let node = [("node", String(n.node))]
            let perNode: [(String, Int)] = [
                ("mem_total", n.memTotal), ("mem_free", n.memFree), ("page_tables", n.pageTables), ("slab", n.slab),
            ]
            for (name, bytes) in perNode {
                Gauge(label: "\(prefix)_node_\(name)_bytes", dimensions: node).record(bytes)
            }
        }
        // The metric objects are made at each report, not kept: a backend bootstrapped after
        // this reporter was created still receives them.
        let deltas = reported.withLock { last in
            system.vmstat().map { item, value in
                defer { last[item] = value }
                return (item, value - last[item, default: 0])
            }
        }
        for (item, delta) in deltas {
            let counter = Metrics.Counter(label: "\(prefix)_\(item.name)_total")
            if delta > 0 { counter.increment(by: delta) }
        }
    }

    /// Report now and then every `interval` until the calling task is cancelled, like a
    /// node_exporter scrape loop. Start it in a task of its own and cancel that task to stop.
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            report()
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
