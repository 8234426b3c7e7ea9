import Dispatch
import Synchronization

/// Runs a closure on another thread while the caller goes on; ``result()`` waits for it.
/// The outcome is kept in a `Mutex`; the caller sleeps through ``Sleepers`` until it is set.
/// One caller waits for one result (the publisher for its staging), so the result wakes
/// one sleeper.
final class Concurrently<Value: Sendable>: Sendable {
    private struct State {
        var outcome: Result<Value, any Error>?
        var sleepers = Sleepers.SleeperCount()
    }

    private let state = Mutex(State())
    private let sleepers = Sleepers()

    init(_ body: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global().async {
            let outcome = Result { try body() }
            let woken = self.state.withLock { state -> Int in
                state.outcome = outcome
                return state.sleepers.leave()
            }
            self.sleepers.wake(woken)
        }
    }

    /// Waits for the closure and returns what it returned, or throws what it threw.
    func result() throws -> Value {
        while true {
            let outcome = state.withLock { state -> Result<Value, any Error>? in
                if let outcome = state.outcome { return outcome }
                state.sleepers.enter()
                return nil
            }
            if let outcome { return try outcome.get() }
            sleepers.sleep(until: .distantFuture) { state.withLock { $0.sleepers.withdraw() } }
        }
    }
}
