import Foundation
internal import GRDB

/// Counts the transactions SQLite actually committed on the write connection, so a test
/// (or a STATUS line) can see how well group commit batches: it counts commits, not calls.
///
/// `@unchecked Sendable`: GRDB calls it on the writer's queue only, and the count is
/// read from elsewhere under the lock.
final class CommitCounter: TransactionObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { lock.withLock { count } }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { lock.withLock { count += 1 } }
    func databaseDidRollback(_ db: Database) {}
}
