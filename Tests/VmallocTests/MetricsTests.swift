import Metrics
import MetricsTestKit
import Testing

@testable import Vmalloc

/// The process-wide test backend: `MetricsSystem.bootstrap` may run once per process.
private let testMetrics: TestMetrics = {
    let m = TestMetrics()
    MetricsSystem.bootstrap(m)
    return m
}()

@Suite(.serialized) struct MetricsTests {
    /// Gauges carry the meminfo figures of the moment; counters carry exactly what vmstat
    /// counted, reported once: a second report with nothing new adds nothing.
    @Test func reportsMeminfoGaugesAndVmstatCounters() throws {
        let metrics = testMetrics
        let sys = try makeSystem(mib: 16)
        let reporter = MemoryMetrics(system: sys, prefix: "metricstest")
        let p = try #require(sys.vmalloc(1 << 20))
        #expect(sys.vmalloc(64 << 20, GFP_KERNEL | __GFP_NOWARN) == nil)
        reporter.report()

        let info = sys.meminfo()
        #expect(try metrics.expectGauge("metricstest_mem_total_bytes").lastValue == Double(info.memTotal))
        #expect(try metrics.expectGauge("metricstest_mem_free_bytes").lastValue == Double(info.memFree))
        #expect(try metrics.expectGauge("metricstest_vmalloc_used_bytes").lastValue == Double(info.vmallocUsed))
        #expect(info.vmallocUsed >= 1 << 20)
        let node0 = try metrics.expectGauge("metricstest_node_mem_free_bytes", [("node", "0")])
        #expect(node0.lastValue == Double(info.nodes[0].memFree))

        let failures = try #require(sys.vmstat()[.vmallocFailures])
        #expect(failures >= 1)
        #expect(metrics.counterTotal(label: "metricstest_vmalloc_failures_total") == Int64(failures))
        reporter.report()
        #expect(metrics.counterTotal(label: "metricstest_vmalloc_failures_total") == Int64(failures))
        #expect(sys.vmalloc(64 << 20, GFP_KERNEL | __GFP_NOWARN) == nil)
        reporter.report()
        #expect(metrics.counterTotal(label: "metricstest_vmalloc_failures_total") == Int64(failures + 1))

        sys.vfree(p)
        sys.vm_unmap_aliases()
        reporter.report()
        #expect(try metrics.expectGauge("metricstest_vmalloc_used_bytes").lastValue == 0)
        expectNothingLost(sys)
    }
}
