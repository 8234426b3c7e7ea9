import Foundation
internal import GRDB

extension Ledger {
    /// Records certificates, all in one transaction: a burst pays one fsync, not one per
    /// certificate. Call it before publishing any of them.
    ///
    /// Throws ``LedgerError/Code/duplicateSerial`` (and records none of the batch)
    /// when a serial is already in the ledger; the caller draws a new serial and tries again.
    public func recordIssued(_ records: [IssuanceRecord]) throws {
        try apply(records.map(LedgerWrite.issued))
    }

    /// Marks certificates as published, in one transaction. A certificate keeps the time of its
    /// first publication if it is published again during recovery.
    ///
    /// Throws ``LedgerError/Code/unknownSerial`` when a serial was never recorded:
    /// publishing what the ledger does not know is the one thing this file exists to prevent.
    public func markPublished(serials: [String], at date: Date) throws {
        try apply(serials.map { .published(serial: $0, at: date) })
    }

    /// Records rejected inputs, in one transaction.
    public func recordRejected(_ records: [RejectionRecord]) throws {
        try apply(records.map(LedgerWrite.rejected))
    }

    /// Applies writes of any kind, in order, as one transaction: all of them or none.
    public func apply(_ writes: [LedgerWrite]) throws {
        guard !writes.isEmpty else { return }
        let writer = try requireWriter()
        let path = path
        var issued: [(serial: String, source: UnpublishedSources.Source)] = []
        var published: [String] = []
        for write in writes {
            switch write {
            case .issued(let record):
                issued.append((IssuanceRecord.normalizedSerial(record.serial), .init(profile: record.profile, name: record.sourceFile)))
            case .published(let serial, _): published.append(IssuanceRecord.normalizedSerial(serial))
            case .rejected: break
            }
        }
        // A record that may be lost with its file must not lead to a publication: refuse
        // new certificates once the file is known lost, and look again right after each
        // commit that records some (one `stat`; see `LedgerFileWatch`). Publications and
        // rejections still go in: the file they reach can be copied out (`preserve`).
        if !issued.isEmpty, let loss = fileWatch?.recordedLoss, loss.mainFileLost {
            throw LedgerError(.lost, "\(loss.reason); nothing more is recorded in it", path: path)
        }
        // Known unpublished before the commit, known published only after it.
        unpublishedSources?.add(issued)
        try perform { try writer.write { db in try Ledger.apply(writes, in: db, path: path) } }
        unpublishedSources?.remove(serials: published)
        if !issued.isEmpty, let loss = fileWatch?.check(sideFiles: false), loss.mainFileLost {
            throw LedgerError(.lost, "\(loss.reason) while \(issued.count) certificates were recorded; they must not be published", path: path)
        }
    }

    func requireWriter() throws -> any DatabaseWriter {
        guard let writer else { throw LedgerError.readOnly(path: path) }
        return writer
    }

    private static func apply(_ writes: [LedgerWrite], in db: Database, path: String) throws {
        for write in writes {
            switch write {
            case .issued(let record):
                try insert(record, in: db, path: path)
            case .published(let serial, let date):
                try markPublished(serial, at: date, in: db, path: path)
            case .rejected(let record):
                try insert(record, in: db, path: path)
            }
        }
    }

    private static func insert(_ record: IssuanceRecord, in db: Database, path: String) throws {
        var record = record
        record.serial = IssuanceRecord.normalizedSerial(record.serial)
        record.csrSHA256 = record.csrSHA256.lowercased()
        guard IssuanceRecord.isHex(record.serial) else {
            throw invalid("serial \"\(record.serial)\" of \(record.sourceFile)", path: path)
        }
        guard IssuanceRecord.isHex(record.csrSHA256) else {
            throw invalid("CSR digest \"\(record.csrSHA256)\" of \(record.sourceFile)", path: path)
        }
        do {
            // A statement prepared once per connection and bound by hand: GRDB's record
            // `insert` encodes through `Codable` and prepares the INSERT every time, about a
            // quarter of the publisher's CPU in a P-256 burst (perf, `scripts/bench`).
            // The values are the ones `IssuanceRow` would store: ledger time text, and
            // `sans` as the JSON text GRDB makes of an array (sorted keys, slashes escaped).
            let statement = try db.cachedStatement(sql: """
                INSERT INTO issuance (serial, subject, sans, not_before, not_after, issued_at, published_at,
                                      profile, source_file, csr_sha256, certificate)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            try statement.execute(arguments: [
                record.serial, record.subject, try sansJSON(record.sans),
                LedgerTime.text(record.notBefore), LedgerTime.text(record.notAfter), LedgerTime.text(record.issuedAt),
                record.publishedAt.map(LedgerTime.text), record.profile, record.sourceFile, record.csrSHA256,
                record.certificate,
            ])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw LedgerError(
                .duplicateSerial, "serial \(record.serial) is already in the ledger at \(path)", path: path)
        }
    }

    /// `sans` as `IssuanceRow` stores it: GRDB encodes an array column as JSON with this
    /// encoder's settings (`databaseJSONEncoder`), so rows written either way read the same.
    private static func sansJSON(_ sans: [String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(sans), as: UTF8.self)
    }

    private static func markPublished(_ serial: String, at date: Date, in db: Database, path: String) throws {
        let serial = IssuanceRecord.normalizedSerial(serial)
        // Prepared once per connection, like the INSERT above.
        let statement = try db.cachedStatement(sql: "UPDATE issuance SET published_at = coalesce(published_at, ?) WHERE serial = ?")
        try statement.execute(arguments: [LedgerTime.text(date), serial])
        guard db.changesCount == 1 else {
            throw LedgerError(
                .unknownSerial, "serial \(serial) was never recorded in the ledger at \(path)", path: path)
        }
    }

    private static func insert(_ record: RejectionRecord, in db: Database, path: String) throws {
        var row = RejectionRow(record)
        // The ledger numbers rejections; an id from the caller could only collide.
        row.record.id = nil
        if let digest = record.csrSHA256 {
            let digest = digest.lowercased()
            guard IssuanceRecord.isHex(digest) else {
                throw invalid("CSR digest \"\(digest)\" of \(record.sourceFile)", path: path)
            }
            row.record.csrSHA256 = digest
        }
        try row.insert(db)
    }

    private static func invalid(_ what: String, path: String) -> LedgerError {
        LedgerError(.invalidRecord, "\(what) is not hexadecimal; ledger at \(path) unchanged", path: path)
    }
}
