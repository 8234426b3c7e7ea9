import Dispatch
import Foundation
import Testing
@testable import DropCA

/// The hand-off between workers and the publisher: a batch being gathered is not woken for
/// every result, but it always gets every result, and the last one ends the wait at once.
@Suite struct WorkQueueTests {
    @Test func lastResultEndsTheGatheringWithoutWaitingForTheDeadline() {
        let queue = WorkQueue<Int>()
        let outstanding = Counter(3)
        let gatherer = DispatchGroup()
        let batch = Box()
        gatherer.enter()
        Thread.detachNewThread {
            defer { gatherer.leave() }
            // A deadline far beyond the test's patience: only a wake-up can end it.
            batch.items = queue.popBatch(waitingUpTo: 60, target: 256, gather: 600) { outstanding.value > 0 }
        }
        for item in 1...3 {
            Thread.sleep(forTimeInterval: 0.05)
            outstanding.decrement()
            queue.push(item, wakeGatherer: outstanding.value == 0)
        }
        #expect(gatherer.wait(timeout: .now() + 30) == .success, "the gatherer was not woken by the last result")
        #expect(batch.items == [1, 2, 3])
    }

    /// The last result can arrive while the gatherer asks whether more is coming (outside
    /// the queue's lock): it must not then sleep through a gathering time that only a
    /// wake-up could end.
    @Test func aLastResultPushedWhileTheGathererAsksEndsTheGathering() {
        let queue = WorkQueue<Int>()
        queue.push(1)
        let outstanding = Counter(1)
        let gatherer = DispatchGroup()
        let batch = Box()
        gatherer.enter()
        Thread.detachNewThread {
            defer { gatherer.leave() }
            batch.items = queue.popBatch(waitingUpTo: 60, target: 256, gather: 600) {
                let more = outstanding.value > 0
                if more {
                    // The worker finishes just after the answer "yes, more is coming".
                    outstanding.decrement()
                    queue.push(2, wakeGatherer: true)
                }
                return more
            }
        }
        #expect(gatherer.wait(timeout: .now() + 30) == .success, "the gatherer slept through the last result")
        #expect(batch.items == [1, 2])
    }

    /// A first wait that times out leaves nobody counted asleep: the next push does not
    /// leave a stray wake-up behind that would end a later wait early.
    @Test func timedOutFirstWaitsLeaveNoStrayWakeUps() {
        let queue = WorkQueue<Int>()
        for _ in 0..<3 {
            #expect(queue.popBatch(waitingUpTo: 0, target: 256, gather: 0) { false }.isEmpty)
        }
        queue.push(1)
        #expect(queue.popBatch(waitingUpTo: 1, target: 256, gather: 0) { false } == [1])
        let started = Date()
        // Nothing queued: this must wait its whole timeout, not return at once on a stray wake-up.
        #expect(queue.popBatch(waitingUpTo: 0.3, target: 256, gather: 0) { false }.isEmpty)
        #expect(Date().timeIntervalSince(started) >= 0.29)
    }

    @Test func resultsThatDoNotFillTheBatchWaitForTheGatheringTime() {
        let queue = WorkQueue<Int>()
        queue.push(1)
        let gatherer = DispatchGroup()
        let batch = Box()
        let started = Date()
        gatherer.enter()
        Thread.detachNewThread {
            defer { gatherer.leave() }
            batch.items = queue.popBatch(waitingUpTo: 1, target: 256, gather: 0.3) { true }
        }
        Thread.sleep(forTimeInterval: 0.05)
        queue.push(2, wakeGatherer: false)
        queue.push(3, wakeGatherer: false)
        #expect(gatherer.wait(timeout: .now() + 30) == .success)
        #expect(batch.items == [1, 2, 3])
        // More was said to be on its way, so the batch was held for its gathering time.
        #expect(Date().timeIntervalSince(started) >= 0.29)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int
    init(_ count: Int) { self.count = count }
    var value: Int { lock.withLock { count } }
    func decrement() { lock.withLock { count -= 1 } }
}

private final class Box: @unchecked Sendable {
    var items: [Int] = []
}
