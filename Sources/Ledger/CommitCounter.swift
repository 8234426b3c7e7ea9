internal import GRDB
import Synchronization

/// Counts the transactions SQLite actually committed on the write connection, so a test
/// (or a STATUS line) can see how well group commit batches: it counts commits, not calls.
/// GRDB calls it on the writer's queue; the count is read from anywhere.
final class CommitCounter: TransactionObserver, Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { count.add(1, ordering: .relaxed) }
    func databaseDidRollback(_ db: Database) {}
}
