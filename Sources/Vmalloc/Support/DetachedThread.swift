import CShim
import Glibc

/// A detached OS thread running one closure (`kthread_run`): kswapd and the deferred-free
/// workers are real threads, not tasks on the cooperative pool — they block in futex waits, and
/// reclaim must not starve behind the tasks that need its memory. pthreads directly, so the
/// library needs no Foundation.
enum DetachedThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Start a thread named `name` (at most 15 bytes are kept, as for a task's `comm`) running
    /// `body`. A failure to create a thread means the process is out of resources; kswapd without
    /// its thread would silently stop reclaiming, so it traps.
    static func run(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(
            Body {
                vmshim_thread_set_name(name)
                body()
            }
        ).toOpaque()
        var thread = pthread_t()
        let r = pthread_create(
            &thread, nil,
            { arg in
                let body = Unmanaged<Body>.fromOpaque(arg!).takeRetainedValue()
                body.run()
                return nil
            }, box)
        precondition(r == 0, "pthread_create(\(name)) failed: errno \(r)")
        pthread_detach(thread)
    }
}
