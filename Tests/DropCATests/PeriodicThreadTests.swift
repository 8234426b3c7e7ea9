import Dispatch
import Foundation
import Synchronization
import Testing
@testable import DropCA

/// The turn-and-sleep thread behind the ledger watch, the metrics file and the CRL
/// publisher: a wake cuts a pause short and says so, a stop ends it with its final turn,
/// and a wake during a turn is not lost.
@Suite struct PeriodicThreadTests {
    /// Turns seen by the thread, in order, each with its `woken` flag.
    final class Turns: Sendable {
        let seen = Mutex<[Bool]>([])
        let finals = Atomic<Int>(0)
        var count: Int { seen.withLock { $0.count } }
    }

    static func waitFor(_ what: String, _ condition: () -> Bool) throws {
        try BoundedWait.until(what, timeout: 30) { condition() }
    }

    @Test func aWakeEndsAnHourLongPauseAndTheTurnIsToldSo() throws {
        let turns = Turns()
        let thread = PeriodicThread(name: "test-periodic")
        thread.start(turn: { woken in
            turns.seen.withLock { $0.append(woken) }
            return 3_600
        }, final: { turns.finals.add(1, ordering: .relaxed) })
        try Self.waitFor("the first turn") { turns.count == 1 }
        thread.wake()
        try Self.waitFor("the woken turn") { turns.count == 2 }
        thread.stop()
        #expect(turns.seen.withLock { $0 } == [false, true])
        #expect(turns.finals.load(ordering: .relaxed) == 1, "stop runs the final turn once")
    }

    @Test func aWakeDuringATurnIsNotLost() throws {
        let turns = Turns()
        let thread = PeriodicThread(name: "test-periodic")
        let inTurn = DispatchSemaphore(value: 0)
        let goOn = DispatchSemaphore(value: 0)
        thread.start { woken in
            let first = turns.seen.withLock { seen -> Bool in
                seen.append(woken)
                return seen.count == 1
            }
            if first {
                inTurn.signal()
                goOn.wait()
            }
            return 3_600
        }
        inTurn.wait()
        thread.wake()  // while the first turn still runs
        goOn.signal()
        try Self.waitFor("the turn after the wake") { turns.count == 2 }
        thread.stop()
        #expect(turns.seen.withLock { $0 } == [false, true])
    }

    @Test func aPauseEndsByItselfAndATurnCanEndTheThread() throws {
        let turns = Turns()
        let thread = PeriodicThread(name: "test-periodic")
        thread.start(turn: { woken in
            let count = turns.seen.withLock { seen -> Int in
                seen.append(woken)
                return seen.count
            }
            return count < 3 ? 0.01 : nil
        }, final: { turns.finals.add(1, ordering: .relaxed) })
        try Self.waitFor("three turns") { turns.count == 3 }
        thread.stop()  // returns although the thread has ended by itself
        #expect(turns.seen.withLock { $0 } == [false, false, false])
        #expect(turns.finals.load(ordering: .relaxed) == 0, "a thread its turn ended has no final turn")
    }
}
