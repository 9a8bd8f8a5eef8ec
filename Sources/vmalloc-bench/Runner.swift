import CShim
import CVmallocBench
import Histogram
import VmallocTestSupport

/// One measured combination: a test, a contender, a thread count, one repeat.
struct RunRequest: Codable, Sendable, Hashable {
    var workload: Workload
    var contender: ContenderKind
    var threads: Int
    var loops: Int
    var nrPages: Int
    var liveSetDivisor: Int
    var useHuge: Bool
    var seed: UInt64
    /// Nanoseconds after which a worker stops its loop early; 0: run every iteration.
    var budgetNanoseconds: UInt64
}

/// The kernel test driver's verdict on one run.
enum RunStatus: String, Codable, Sendable, Comparable {
    case passed, xfailed, failed

    static func < (a: Self, b: Self) -> Bool {
        [.passed, .xfailed, .failed].firstIndex(of: a)! < [.passed, .xfailed, .failed].firstIndex(of: b)!
    }
}

/// What one run measured. `latency` holds sampled per-operation times in nanoseconds.
struct RunResult: Codable, Sendable {
    var status: RunStatus
    var operations: Int
    /// Whether a worker stopped at the time budget before test_loop_count iterations.
    var truncated: Bool
    /// Workers whose setup (the live set of full_fit or long_busy_list, vm_map_ram's frames) failed.
    var setupFailures: Int
    var seconds: Double
    /// CPU time the workers got during the loop over threads × wall time: below 1, they were
    /// not all running (another process had the cores, or they slept in the allocator).
    var cpuShare: Double
    var latency: Histogram<UInt64>
    /// Mappings added between the start and the end of the timed loop's live set (before teardown).
    var vmasAdded: Int
    var vmasProcess: Int
    /// VmHWM after the loop, the peak having been reset just before setup (process-wide).
    var peakRSS: Int
    var rssGrowth: Int
    /// The contender's own memory footprint outside RSS (vmalloc: its memfds' resident bytes).
    var memfdResident: Int?
    /// Syscalls made through the vmshim wrappers during the loop, all threads.
    var shimSyscalls: UInt64
    var metadataBytesPerPage: Double?
    /// In a child with a preloaded allocator: whether that allocator's witness symbol resolved.
    var allocatorVerified: Bool?
}

/// Runs one combination in this process, as the kernel's test driver does: every worker sets
/// up, all start the timed loop together, and the figures are taken while their live sets are
/// still allocated. `then` gets the result before the workers tear down.
enum Runner {
    private struct WorkerOutcome: Sendable {
        var completed: Int
        var iterations: Int
        var truncated = false
        var setupFailed: Bool
        var cpuNanoseconds: UInt64 = 0
        var latency: Histogram<UInt64>
    }

    static func measure(_ request: RunRequest, on contender: any Contender, then deliver: (RunResult) -> Void) {
        contender.settle()
        let barrier = Barrier(request.threads + 1)
        let slots = Slots<WorkerOutcome>(count: request.threads)
        let workers = WorkerThreads(count: request.threads) { index in
            barrier.wait()  // spawned
            var random = SplitMix64(seed: request.seed &+ UInt64(index))
            let parameters = WorkloadParameters(
                loops: request.loops, nrPages: request.nrPages, liveSetDivisor: request.liveSetDivisor,
                useHuge: request.useHuge, seed: random.next())
            let instance = request.workload.instance(on: contender, parameters)
            barrier.wait()  // ready
            barrier.wait()  // go
            var outcome = WorkerOutcome(
                completed: 0, iterations: instance?.iterations ?? 0, setupFailed: instance == nil,
                latency: Histogram(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two))
            let cpu = vmbench_thread_cpu_ns()
            if let instance { run(instance, budget: request.budgetNanoseconds, &outcome) }
            outcome.cpuNanoseconds = vmbench_thread_cpu_ns() - cpu
            slots[index] = outcome
            barrier.wait()  // done
            barrier.wait()  // measured
            instance?.teardown()
        }
        let vmasBefore = ProcessStats.vmas
        ProcessStats.resetPeakRSS()
        let rssBefore = ProcessStats.rss
        barrier.wait()  // spawned
        barrier.wait()  // ready
        vmbench_census_mark()
        let shimBefore = vmshim_syscalls()
        let start = vmbench_now_ns()
        barrier.wait()  // go
        barrier.wait()  // done
        let end = vmbench_now_ns()
        let shim = vmshim_syscalls() - shimBefore
        vmbench_census_mark()
        let vmas = ProcessStats.vmas
        let peak = ProcessStats.peakRSS
        let metadata = contender.metadataBytesPerPage
        let resident = contender.memfdResidentBytes
        let outcomes = slots.all
        var latency = outcomes[0].latency
        for o in outcomes.dropFirst() { latency.add(o.latency) }
        let complete = outcomes.allSatisfy { !$0.setupFailed && ($0.completed == $0.iterations || $0.truncated) }
        deliver(
            RunResult(
                status: complete ? .passed : request.workload.expectedToFail ? .xfailed : .failed,
                operations: outcomes.reduce(0) { $0 + $1.completed },
                truncated: outcomes.contains { $0.truncated },
                setupFailures: outcomes.filter(\.setupFailed).count,
                seconds: Double(end - start) / 1e9,
                cpuShare: Double(outcomes.reduce(0) { $0 + $1.cpuNanoseconds })
                    / (Double(request.threads) * Double(end - start)),
                latency: latency,
                vmasAdded: vmas - vmasBefore, vmasProcess: vmas,
                peakRSS: peak, rssGrowth: max(0, peak - rssBefore), memfdResident: resident,
                shimSyscalls: shim, metadataBytesPerPage: metadata))
        barrier.wait()  // measured
        workers.join()
    }

    /// The timed loop. One operation in 16 is timed when there are many, so that reading the
    /// clock (~20 ns a read) does not weigh on throughput; the budget is checked at those reads.
    private static func run(_ instance: any WorkloadInstance, budget: UInt64, _ outcome: inout WorkerOutcome) {
        let sampleMask = outcome.iterations >= 16_000 ? 15 : 0
        let deadline = budget > 0 ? vmbench_now_ns() + budget : UInt64.max
        for i in 0..<outcome.iterations {
            let ok: Bool
            if i & sampleMask == 0 {
                let t = vmbench_now_ns()
                if t >= deadline {
                    outcome.truncated = true
                    return
                }
                ok = instance.iterate(i)
                _ = outcome.latency.record(vmbench_now_ns() &- t)
            } else {
                ok = instance.iterate(i)
            }
            guard ok else { return }
            outcome.completed += 1
        }
    }
}
