import Glibc
import Synchronization

/// Runs one blocking call per item on several threads at once: the outbox's per-file
/// `fsync`s (``Outbox/stage(_:)``), which spend their time waiting for the disk and
/// finish much sooner side by side — the block layer merges their cache flushes — than one
/// after the other.
///
/// Threads are started for the call and joined before it returns, so nothing outlives it
/// and nothing needs shutting down; starting one costs a few microseconds, next to
/// milliseconds of I/O per batch. Plain pthreads, because this target uses nothing beyond
/// Glibc and libdispatch runs only about as many blocking items at once as there are CPUs.
enum ParallelCalls {
    /// Calls `body(index)` for every index in `0..<count`, on up to `width` threads (the
    /// caller's among them), and returns once every call has returned. If a thread cannot
    /// be started, the ones that did (and the caller) do all the work.
    static func forEach(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let job = Job(count: count, body: body)
        var threads: [pthread_t] = []
        for _ in 0..<max(0, min(width, count) - 1) {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(job).toOpaque()
            let started = pthread_create(&thread, nil, { raw in
                if let raw { Unmanaged<Job>.fromOpaque(raw).takeRetainedValue().work() }
                return nil
            }, context)
            guard started == 0 else {
                Unmanaged<Job>.fromOpaque(context).release()
                break
            }
            threads.append(thread)
        }
        job.work()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// The shared work list: each thread takes the next index until none is left.
    private final class Job: Sendable {
        let count: Int
        let body: @Sendable (Int) -> Void
        private let next = Mutex(0)

        init(count: Int, body: @escaping @Sendable (Int) -> Void) {
            self.count = count
            self.body = body
        }

        func work() {
            while let index = take() { body(index) }
        }

        private func take() -> Int? {
            next.withLock { next in
                guard next < count else { return nil }
                defer { next += 1 }
                return next
            }
        }
    }
}
