import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The bounded stress run: threads mixing every operation, mask and scope under memory pressure
/// with kswapd and allocating shrinkers. `vmalloc-bench stress` runs the same for longer.
@Suite(.serialized) struct StressTests {
    @Test func boundedStressUnderPressure() throws {
        var options = StressTest.Options()
        options.threads = 4
        options.seconds = 4
        let report = try StressTest.run(options)
        print(report)
        #expect(report.operations > 1000)
        #expect(report.nofailCalls > 0)
        #expect(report.nofailNil == 0)
        #expect(report.fsViolations == 0)
        #expect(report.ioViolations == 0)
        #expect(report.shrinkerCalls > 0)
        #expect(report.lostPages == 0)
        #expect(report.consistent)
        #expect(report.passed)
    }
}
