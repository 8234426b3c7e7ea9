import Foundation

/// A blocking FIFO between threads, closed once for shutdown.
///
/// The intake loop bounds what it puts in (it hands out names only while `count` is below
/// the queue's capacity), so a burst of 20,000 uploads waits in the inbox, not in memory.
/// `@unchecked Sendable`: every access to `items` and `closed` holds `condition`.
final class WorkQueue<Item: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Item] = []
    private var head = 0
    private var closed = false

    var count: Int { condition.withLock { items.count - head } }

    func push(_ item: Item) {
        condition.withLock {
            items.append(item)
            condition.signal()
        }
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

    /// Everything queued now, without waiting (empty when nothing is).
    func popAll(waitingUpTo timeout: TimeInterval) -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        if head == items.count && !closed {
            _ = condition.wait(until: Date(timeIntervalSinceNow: timeout))
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
                items.removeAll()
                head = 0
            }
            condition.broadcast()
            return dropped
        }
    }

    var isClosedAndEmpty: Bool { condition.withLock { closed && head == items.count } }
}
