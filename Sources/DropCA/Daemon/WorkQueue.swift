import DequeModule
import Dispatch
import Synchronization

/// A blocking FIFO between threads, closed once for shutdown.
///
/// The intake loop bounds what it puts in (it hands out names only while `count` is below
/// the queue's capacity), so a burst of 20,000 uploads waits in the inbox, not in memory.
/// All state is in one `Mutex`; consumers sleep through ``Sleepers``.
final class WorkQueue<Item: Sendable>: Sendable {
    private struct State {
        var items = Deque<Item>()
        var closed = false
        /// Items pushed and not yet reported done with ``markDone()`` (queued ones included).
        var unfinished = 0
        /// Set while ``popBatch(waitingUpTo:target:gather:moreComing:)`` tops up a batch:
        /// the size at which a push wakes it.
        var gatheringTarget: Int?
        /// Pushes made with `wakeGatherer` so far: the gatherer compares it before and
        /// after asking `moreComing()` (outside the lock), so that a last push in between
        /// is not missed.
        var wakeRequests = 0
        var sleepers = Sleepers.SleeperCount()
    }

    private let state = Mutex(State())
    private let sleepers = Sleepers()

    var count: Int { state.withLock { $0.items.count } }

    /// Items pushed whose consumer has not called ``markDone()`` yet: queued or being worked
    /// on. The publisher reads it on the names queue to know whether more results are on
    /// their way (see ``popBatch(waitingUpTo:target:gather:moreComing:)``).
    var outstanding: Int { state.withLock { $0.unfinished } }

    /// Queues `item` and wakes a waiting consumer, except one that is topping up a batch
    /// which this item does not fill: it is woken when the batch is full, when its
    /// gathering time is up, or by a push with `wakeGatherer` (the producer knows nothing
    /// more is on its way). On two busy CPUs a wake-up per result cost the workers a
    /// context switch for each certificate.
    func push(_ item: Item, wakeGatherer: Bool = true) {
        let woken = state.withLock { state -> Int in
            state.items.append(item)
            state.unfinished += 1
            if wakeGatherer { state.wakeRequests &+= 1 }
            if let target = state.gatheringTarget, state.items.count < target, !wakeGatherer { return 0 }
            return state.sleepers.leave()
        }
        sleepers.wake(woken)
    }

    /// A consumer is done with one popped item (call it before handing on what it made).
    func markDone() {
        state.withLock { $0.unfinished -= 1 }
    }

    /// The next item, waiting for one; nil once the queue is closed and drained, or when
    /// `dropPending` closed it.
    func pop() -> Item? {
        while true {
            let taken = state.withLock { state -> Item?? in
                if let item = state.items.popFirst() { return .some(item) }
                if state.closed { return .some(nil) }
                state.sleepers.enter()
                return nil
            }
            if let taken { return taken }
            sleepers.sleep(until: .distantFuture) { state.withLock { $0.sleepers.withdraw() } }
        }
    }

    /// Everything queued (possibly more than `target`), waiting up to `timeout` seconds for
    /// a first item (empty when none came); a batch smaller than `target` is topped up while `moreComing()` says more
    /// items are on their way, for at most `gather` seconds after the first one.
    ///
    /// Why: every batch costs the publisher the same two ledger transactions and fsyncs
    /// whatever its size, so when it is faster than the workers, taking each result as it
    /// comes made batches of one to four certificates and spent the CPU the workers needed
    /// on per-batch work (`scripts/bench`, tmpfs spool: average batch 4). A single upload
    /// into an idle daemon never waits: nothing else is on its way then.
    ///
    /// Lock order: `moreComing` is called outside this queue's lock (the publisher passes
    /// the names queue's ``outstanding``, which takes that queue's lock), so no thread ever
    /// holds two queue locks at once.
    func popBatch(waitingUpTo timeout: Double, target: Int, gather: Double, moreComing: () -> Bool) -> [Item] {
        let firstDeadline = DispatchTime.now() + timeout
        // Wait for a first item.
        while true {
            let ready = state.withLock { state -> Bool in
                if !state.items.isEmpty || state.closed { return true }
                // Decided under the lock, so that a sleeper is only counted when it sleeps.
                if DispatchTime.now() >= firstDeadline { return true }
                state.sleepers.enter()
                return false
            }
            if ready { break }
            sleepers.sleep(until: firstDeadline) { state.withLock { $0.sleepers.withdraw() } }
        }
        // Top up while more is on its way.
        let gatherDeadline = DispatchTime.now() + gather
        while true {
            let (full, seen) = state.withLock { state in
                (state.items.isEmpty || state.items.count >= target || state.closed, state.wakeRequests)
            }
            if full || !moreComing() || DispatchTime.now() >= gatherDeadline { break }
            let sleeping = state.withLock { state -> Bool? in
                // Looked at again under the lock: a push between the two looks must not be missed.
                guard state.items.count < target, !state.closed else { return false }
                // A push that asked to wake the gatherer came while `moreComing()` was asked:
                // ask again rather than sleep through it.
                if state.wakeRequests != seen { return nil }
                state.gatheringTarget = target
                state.sleepers.enter()
                return true
            }
            guard let sleeping else { continue }
            guard sleeping else { break }
            sleepers.sleep(until: gatherDeadline) { state.withLock { $0.sleepers.withdraw() } }
            state.withLock { $0.gatheringTarget = nil }
        }
        return state.withLock { state in
            let taken = Array(state.items)
            state.items.removeAll(keepingCapacity: true)
            return taken
        }
    }

    /// No more items will come; waiting consumers return nil once the queue is empty.
    /// Returns the items that were still queued when `dropPending` is set.
    @discardableResult
    func close(dropPending: Bool = false) -> [Item] {
        let (dropped, woken) = state.withLock { state -> ([Item], Int) in
            state.closed = true
            var dropped: [Item] = []
            if dropPending {
                dropped = Array(state.items)
                state.unfinished -= dropped.count
                state.items.removeAll()
            }
            return (dropped, state.sleepers.leave(Int.max))
        }
        sleepers.wake(woken)
        return dropped
    }

    var isClosedAndEmpty: Bool { state.withLock { $0.closed && $0.items.isEmpty } }
}
