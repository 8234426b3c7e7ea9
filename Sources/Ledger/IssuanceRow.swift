internal import GRDB

/// The storage form of an ``IssuanceRecord``. It exists so GRDB's record protocols stay
/// inside this target: a public type cannot conform to a protocol of an internal import,
/// and callers of the ledger should not need GRDB to read it.
struct IssuanceRow: Codable, FetchableRecord, PersistableRecord {
    var record: IssuanceRecord

    init(_ record: IssuanceRecord) { self.record = record }
    init(from decoder: any Decoder) throws { record = try IssuanceRecord(from: decoder) }
    func encode(to encoder: any Encoder) throws { try record.encode(to: encoder) }

    static var databaseTableName: String { "issuance" }
    static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy {
        LedgerTime.encoding
    }
    static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy {
        LedgerTime.decoding
    }
}
