import Dispatch
import Foundation
import Synchronization

/// A thread of the daemon's own that does a turn of work, sleeps until its next turn, and
/// ends when asked: what the ledger watch, the metrics file and the CRL publisher each
/// need, written once.
///
/// `turn` runs a turn and returns when the next one is due (nil: end now); it is told
/// whether ``wake()`` cut the pause before it short (the CRL publisher's "a revocation was
/// recorded"). Between turns the thread sleeps through ``Sleepers`` and is woken early by
/// ``wake()`` and ``stop()``; after a stop request it runs `final` once (the metrics file's
/// last write) and ends. ``stop()`` waits for that, so whatever the thread uses may be
/// closed when it returns.
final class PeriodicThread: Sendable {
    private struct State {
        var stopRequested = false
        var wakeRequested = false
        var sleepers = Sleepers.SleeperCount()
    }

    private let name: String
    private let state = Mutex(State())
    private let sleepers = Sleepers()
    private let finished = DispatchGroup()

    init(name: String) {
        self.name = name
    }

    func start(turn: @escaping @Sendable (_ woken: Bool) -> TimeInterval?, final: @escaping @Sendable () -> Void = {}) {
        finished.enter()
        let thread = Thread { [self] in
            run(turn: turn, final: final)
            finished.leave()
        }
        thread.name = name
        thread.start()
    }

    /// Ends the current pause now: the next turn runs at once, told it was woken. A wake
    /// during a turn ends the pause after it before it begins.
    func wake() {
        let woken = state.withLock { state -> Int in
            state.wakeRequested = true
            return state.sleepers.leave()
        }
        sleepers.wake(woken)
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

    private enum Pause {
        case over(woken: Bool)
        case stopping
    }

    private func run(turn: @Sendable (Bool) -> TimeInterval?, final: @Sendable () -> Void) {
        var woken = false
        while true {
            guard let pause = turn(woken) else { return }
            switch sleep(until: DispatchTime.now() + max(0, pause)) {
            case .stopping:
                final()
                return
            case .over(let wasWoken):
                woken = wasWoken
            }
        }
    }

    private func sleep(until deadline: DispatchTime) -> Pause {
        while true {
            let pause = state.withLock { state -> Pause? in
                if state.stopRequested { return .stopping }
                if state.wakeRequested {
                    state.wakeRequested = false
                    return .over(woken: true)
                }
                if DispatchTime.now() >= deadline { return .over(woken: false) }
                state.sleepers.enter()
                return nil
            }
            if let pause { return pause }
            sleepers.sleep(until: deadline) { state.withLock { $0.sleepers.withdraw() } }
        }
    }
}
