import Dispatch
import Foundation
import Synchronization

/// A thread of the daemon's own that does a turn of work, sleeps until its next turn, and
/// ends when asked: what the ledger watch and the metrics file each need, written once.
///
/// `body` runs a turn and returns when the next one is due (nil: end now). Between turns
/// the thread sleeps through ``Sleepers`` and is woken early by ``stop()``; after a stop
/// request it runs `final` once (the metrics file's last write) and ends. ``stop()`` waits
/// for that, so whatever the thread uses may be closed when it returns.
final class PeriodicThread: Sendable {
    private struct State {
        var stopRequested = false
        var sleepers = Sleepers.SleeperCount()
    }

    private let name: String
    private let state = Mutex(State())
    private let sleepers = Sleepers()
    private let finished = DispatchGroup()

    init(name: String) {
        self.name = name
    }

    func start(turn: @escaping @Sendable () -> TimeInterval?, final: @escaping @Sendable () -> Void = {}) {
        finished.enter()
        let thread = Thread { [self] in
            run(turn: turn, final: final)
            finished.leave()
        }
        thread.name = name
        thread.start()
    }

    /// Asks the thread to end and waits until it has.
    func stop() {
        let woken = state.withLock { state -> Int in
            state.stopRequested = true
            return state.sleepers.leave()
        }
        sleepers.wake(woken)
        finished.wait()
    }

    private func run(turn: @Sendable () -> TimeInterval?, final: @Sendable () -> Void) {
        while true {
            guard let pause = turn() else { return }
            let deadline = DispatchTime.now() + pause
            while DispatchTime.now() < deadline {
                let stopping = state.withLock { state -> Bool in
                    if state.stopRequested { return true }
                    state.sleepers.enter()
                    return false
                }
                if stopping {
                    final()
                    return
                }
                sleepers.sleep(until: deadline) { state.withLock { $0.sleepers.withdraw() } }
            }
        }
    }
}
