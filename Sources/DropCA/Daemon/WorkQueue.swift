import Foundation

/// A blocking FIFO between threads, closed once for shutdown.
///
/// The intake loop bounds what it puts in (it hands out names only while `count` is below
/// the queue's capacity), so a burst of 20,000 uploads waits in the inbox, not in memory.
/// `@unchecked Sendable`: every access to `items`, `closed` and `unfinished` holds `condition`.
final class WorkQueue<Item: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Item] = []
    private var head = 0
    private var closed = false
    /// Items pushed and not yet reported done with ``markDone()`` (queued ones included).
    private var unfinished = 0
    /// Set while ``popBatch(waitingUpTo:target:gather:moreComing:)`` tops up a batch: the
    /// size at which a push wakes it.
    private var gatheringTarget: Int?

    var count: Int { condition.withLock { items.count - head } }

    /// Items pushed whose consumer has not called ``markDone()`` yet: queued or being worked
    /// on. The publisher reads it on the names queue to know whether more results are on
    /// their way (see ``popBatch(waitingUpTo:target:gather:moreComing:)``).
    var outstanding: Int { condition.withLock { unfinished } }

    /// Queues `item` and wakes a waiting consumer, except one that is topping up a batch
    /// which this item does not fill: it is woken when the batch is full, when its
    /// gathering time is up, or by a push with `wakeGatherer` (the producer knows nothing
    /// more is on its way). On two busy CPUs a wake-up per result cost the workers a
    /// context switch for each certificate.
    func push(_ item: Item, wakeGatherer: Bool = true) {
        condition.withLock {
            items.append(item)
            unfinished += 1
            if let target = gatheringTarget, items.count - head < target, !wakeGatherer { return }
            condition.signal()
        }
    }

    /// A consumer is done with one popped item (call it before handing on what it made).
    func markDone() {
        condition.withLock { unfinished -= 1 }
    }

    /// The next item, waiting for one; nil once the queue is closed and drained, or when
    /// `dropPending` closed it.
    func pop() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    /// Everything queued, waiting up to `timeout` seconds for a first item (empty when none
    /// came); a batch smaller than `target` is topped up while `moreComing()` says more
    /// items are on their way, for at most `gather` seconds after the first one.
    ///
    /// Why: every batch costs the publisher the same two ledger transactions and fsyncs
    /// whatever its size, so when it is faster than the workers, taking each result as it
    /// comes made batches of one to four certificates and spent the CPU the workers needed
    /// on per-batch work (`scripts/bench`, tmpfs spool: average batch 4). A single upload
    /// into an idle daemon never waits: nothing else is on its way then.
    func popBatch(waitingUpTo timeout: TimeInterval, target: Int, gather: TimeInterval, moreComing: () -> Bool) -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        if head == items.count && !closed {
            _ = condition.wait(until: Date(timeIntervalSinceNow: timeout))
        }
        if head < items.count {
            let deadline = Date(timeIntervalSinceNow: gather)
            gatheringTarget = target
            while items.count - head < target && !closed && moreComing() {
                if !condition.wait(until: deadline) { break }
            }
            gatheringTarget = nil
        }
        let taken = Array(items[head...])
        items.removeAll(keepingCapacity: true)
        head = 0
        return taken
    }

    /// No more items will come; waiting consumers return nil once the queue is empty.
    /// Returns the items that were still queued when `dropPending` is set.
    @discardableResult
    func close(dropPending: Bool = false) -> [Item] {
        condition.withLock {
            closed = true
            var dropped: [Item] = []
            if dropPending {
                dropped = Array(items[head...])
                unfinished -= dropped.count
                items.removeAll()
                head = 0
            }
            condition.broadcast()
            return dropped
        }
    }

    var isClosedAndEmpty: Bool { condition.withLock { closed && head == items.count } }
}
