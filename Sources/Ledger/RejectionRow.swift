internal import GRDB

/// The storage form of a ``RejectionRecord``; see ``IssuanceRow`` for why it is separate.
struct RejectionRow: Codable, FetchableRecord, MutablePersistableRecord {
    var record: RejectionRecord

    init(_ record: RejectionRecord) { self.record = record }
    init(from decoder: any Decoder) throws { record = try RejectionRecord(from: decoder) }
    func encode(to encoder: any Encoder) throws { try record.encode(to: encoder) }

    static var databaseTableName: String { "rejection" }
    static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy {
        LedgerTime.encoding
    }
    static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy {
        LedgerTime.decoding
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        record.id = inserted.rowID
    }
}
