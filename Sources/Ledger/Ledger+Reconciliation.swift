import Foundation
internal import GRDB

extension Ledger {
    /// The time of the most recent rejection, or nil when there is none: start-up
    /// reconciliation only looks at reason files from about then on (every rejection
    /// before the newest recorded one was recorded with it or earlier, since the
    /// publisher writes a failed batch's rows together with the next batch's).
    public func latestRejectionTime() throws -> Date? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT max(rejected_at) FROM rejection").flatMap(LedgerTime.date)
        }
    }

    /// Rejections recorded at or after `date`, oldest first.
    public func rejections(since date: Date) throws -> [RejectionRecord] {
        try read { db in
            try RejectionRow
                .fetchAll(db, sql: "SELECT * FROM rejection WHERE rejected_at >= ? ORDER BY rejected_at, id",
                          arguments: [LedgerTime.text(date)])
                .map(\.record)
        }
    }
}
