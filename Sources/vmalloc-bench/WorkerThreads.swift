import Glibc

/// A pthread barrier: the runner's workers and its main thread meet at each phase boundary.
final class Barrier: @unchecked Sendable {
    private let barrier = UnsafeMutablePointer<pthread_barrier_t>.allocate(capacity: 1)

    init(_ count: Int) {
        pthread_barrier_init(barrier, nil, UInt32(count))
    }

    deinit {
        pthread_barrier_destroy(barrier)
        barrier.deallocate()
    }

    func wait() {
        pthread_barrier_wait(barrier)
    }
}

/// Real OS threads (pthreads, not tasks: a worker blocks in the allocator and must own a core).
final class WorkerThreads {
    private var threads: [pthread_t] = []

    /// Starts `count` threads running `body(index)`.
    init(count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        for index in 0..<count {
            let start = ThreadStart { body(index) }
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, threadEntry, Unmanaged.passRetained(start).toOpaque())
            precondition(rc == 0, "pthread_create failed: \(rc)")
            threads.append(thread)
        }
    }

    /// Waits for every thread to end.
    func join() {
        for thread in threads { pthread_join(thread, nil) }
    }
}

/// One value per worker. Each worker writes only its own slot, and the main thread reads them
/// only after a `Barrier` that the writers passed after writing — the barrier orders it all.
final class Slots<Value>: @unchecked Sendable {
    private var values: [Value?]

    init(count: Int) {
        values = Array(repeating: nil, count: count)
    }

    subscript(index: Int) -> Value? {
        get { values[index] }
        set { values[index] = newValue }
    }

    var all: [Value] { values.map { $0! } }
}

/// A thread's body, handed through pthread_create's void pointer.
private final class ThreadStart {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}

private func threadEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadStart>.fromOpaque(argument!).takeRetainedValue().run()
    return nil
}
