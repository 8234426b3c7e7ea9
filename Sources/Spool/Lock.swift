import Glibc

/// A plain mutex, for the few places where a check and an action must not interleave
/// between worker threads (choosing a free name in `failed/`).
///
/// `@unchecked Sendable`: the `pthread_mutex_t` lives at a fixed heap address for the
/// lock's whole life (it must never move, which is why it is not a stored struct), and
/// pthread mutexes exist precisely to be used from several threads.
final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
