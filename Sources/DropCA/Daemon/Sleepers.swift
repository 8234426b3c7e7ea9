import Dispatch

/// Threads asleep until another thread changes some shared state: what a condition
/// variable does, for state kept in a `Mutex` (which has none).
///
/// The state and the number of sleepers live together in the owner's `Mutex`, so that a
/// thread decides to sleep and is counted in one critical section, and a waker sees it.
/// The semaphore only carries wake-ups; it never guards data. Protocol:
/// - to sleep: inside the lock, after finding nothing to do, ``SleeperCount/enter()``;
///   outside it, ``sleep(until:withdraw:)``; then look at the state again (a wake-up is a
///   hint, not a promise).
/// - to wake: inside the lock, `count.leave()` returns how many to wake; outside it,
///   ``wake(_:)``.
final class Sleepers: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)

    /// Kept inside the owner's `Mutex` state.
    struct SleeperCount: Sendable {
        private(set) var sleeping = 0

        mutating func enter() { sleeping += 1 }

        /// Takes up to `count` sleepers off the list; returns how many to ``wake(_:)``.
        mutating func leave(_ count: Int = 1) -> Int {
            let woken = min(count, sleeping)
            sleeping -= woken
            return woken
        }

        /// A sleeper whose wait timed out takes itself off, unless a waker already did (and
        /// a wake-up is on its way to be consumed).
        mutating func withdraw() -> Bool {
            guard sleeping > 0 else { return false }
            sleeping -= 1
            return true
        }
    }

    func wake(_ count: Int) {
        for _ in 0..<count { semaphore.signal() }
    }

    /// Sleeps until woken or until `deadline`. `withdraw` runs `SleeperCount.withdraw()`
    /// inside the owner's lock after a timeout; when a waker had already counted this
    /// thread out, its wake-up is consumed here so that it does not wake a later sleeper
    /// for nothing.
    func sleep(until deadline: DispatchTime, withdraw: () -> Bool) {
        guard semaphore.wait(timeout: deadline) == .timedOut else { return }
        if !withdraw() {
            semaphore.wait()
        }
    }
}
