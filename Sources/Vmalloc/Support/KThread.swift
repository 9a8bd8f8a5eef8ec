import Glibc
import Synchronization

/// A kernel thread its owner stops and waits for (`kthread_run`, `kthread_should_stop`,
/// `kthread_stop`): kswapd and the free page reporter. The body sleeps on `queue` between
/// rounds of work and returns once `shouldStop`; `stop` asks, wakes it and waits for that.
final class KThread: Sendable {
    /// Where the thread sleeps: read `queue.sequence` before looking for work, then wait since it,
    /// so no wakeup is lost. `stop` wakes it too.
    let queue = WaitQueue()
    private let stopping = Atomic<Bool>(false)
    private let exited = Atomic<Bool>(false)
    /// The thread's `pthread_self()` (0 until it runs). Not `vmshim_thread_index`: that hands
    /// out the home shards of the threads that allocate, in turn, and must not skip any.
    private let id = Atomic<UInt>(0)

    private init() {}

    /// Start `body` on a thread named `name` (`kthread_run`).
    static func run(name: String, _ body: @escaping @Sendable (KThread) -> Void) -> KThread {
        let t = KThread()
        DetachedThread.run(name: name) {
            t.id.store(pthread_self(), ordering: .releasing)
            body(t)
            t.exited.store(true, ordering: .releasing)
            t.queue.wakeAll()
        }
        return t
    }

    /// Whether the caller is this thread.
    var isCurrent: Bool { id.load(ordering: .acquiring) == pthread_self() }

    /// Whether the body should return now (`kthread_should_stop`).
    var shouldStop: Bool { stopping.load(ordering: .acquiring) }

    /// Ask the thread to stop, wake it and wait until its body has returned (`kthread_stop`).
    /// Called on the thread itself — its body dropped the last reference to its owner, whose
    /// `deinit` stops it — it only asks: waiting there would wait for ever.
    func stop() {
        stopping.store(true, ordering: .releasing)
        queue.wakeAll()
        guard !isCurrent else { return }
        while true {
            let seen = queue.sequence
            if exited.load(ordering: .acquiring) { return }
            queue.wait(since: seen, timeoutNs: 100_000_000)
        }
    }
}
