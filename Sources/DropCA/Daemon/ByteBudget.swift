import Dispatch
import Synchronization

/// Bytes of request data the daemon may hold in memory at once (`daemon.input_budget_mib`):
/// a worker reserves the most an input can take (`policy.max_csr_bytes` + 1) before it
/// reads, keeps what its result holds on to (a rejected input's bytes, which go to
/// `failed/` when it is on another filesystem), and the publisher gives that back once the
/// rejection is done.
///
/// Why bytes and not only a count: the in-flight limit is a count of files (1,024 or
/// more), and 400 garbage uploads of 1 MiB each with `max_csr_bytes` = 1 MiB peaked at
/// 279 MB; a count times the largest allowed request could reach a gigabyte. With the
/// budget, memory stays flat whatever `max_csr_bytes` says: more large inputs simply wait
/// in the inbox.
///
/// A reservation larger than the whole budget is cut to the budget, so a single request
/// bigger than the budget is still read (alone). Workers wait in ``reserve(_:)``; only the
/// publisher and workers give bytes back, and neither waits for a worker, so a wait always
/// ends.
final class ByteBudget: Sendable {
    let capacity: Int
    private struct State {
        var available: Int
        var sleepers = Sleepers.SleeperCount()
    }

    private let state: Mutex<State>
    private let sleepers = Sleepers()

    init(bytes: Int) {
        capacity = max(1, bytes)
        state = Mutex(State(available: max(1, bytes)))
    }

    var available: Int { state.withLock { $0.available } }

    /// Waits until `bytes` (at most the whole budget) are free and takes them; returns the
    /// amount taken, which the caller later gives back with ``release(_:)``.
    func reserve(_ bytes: Int) -> Int {
        let wanted = min(max(0, bytes), capacity)
        while true {
            let taken = state.withLock { state -> Bool in
                if state.available >= wanted {
                    state.available -= wanted
                    return true
                }
                state.sleepers.enter()
                return false
            }
            if taken { return wanted }
            sleepers.sleep(until: .distantFuture) { state.withLock { $0.sleepers.withdraw() } }
        }
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        let woken = state.withLock { state -> Int in
            state.available = min(capacity, state.available + bytes)
            // Every waiter looks again: a large release may satisfy several small ones.
            return state.sleepers.leave(Int.max)
        }
        sleepers.wake(woken)
    }
}
