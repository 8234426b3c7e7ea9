import Foundation
internal import GRDB

extension Ledger {
    /// Revokes the certificates with these serials (any case, colons allowed, leading zeros
    /// as `openssl` prints them or not), all in one transaction, or none of them: when any
    /// serial is unknown or its certificate expired before `date`, nothing is written and the
    /// outcomes say which. Revoking a revoked certificate changes nothing (`alreadyRevoked`).
    ///
    /// `dropca revoke` calls this from its own process while the daemon runs: SQLite's
    /// locking orders the two writers, and the daemon's in-memory look-up
    /// (`UnpublishedSources`) is about unpublished issuances, which this never touches.
    public func revoke(_ serials: [String], reason: String, at date: Date, byUID uid: UInt32?) throws -> [RevocationOutcome] {
        let writer = try requireWriter()
        let now = LedgerTime.text(date)
        return try perform {
            try writer.write { db -> [RevocationOutcome] in
                var outcomes: [RevocationOutcome] = []
                var seen: Set<String> = []
                for typed in serials {
                    guard let record = try Self.issuance(serial: typed, in: db) else {
                        outcomes.append(.unknown(typed))
                        continue
                    }
                    guard seen.insert(record.serial).inserted else { continue }
                    if let existing = try Self.revocation(serial: record.serial, in: db) {
                        outcomes.append(.alreadyRevoked(record, existing))
                    } else if LedgerTime.text(record.notAfter) < now {
                        outcomes.append(.expired(record))
                    } else {
                        outcomes.append(.revoked(record, RevocationRecord(id: 0, serial: record.serial, revokedAt: date, reason: reason, revokedByUID: uid)))
                    }
                }
                let refused = outcomes.contains {
                    switch $0 {
                    case .unknown, .expired: true
                    case .revoked, .alreadyRevoked: false
                    }
                }
                guard !refused else { return outcomes }
                let insert = try db.cachedStatement(sql: "INSERT INTO revocation (serial, revoked_at, reason, revoked_by_uid) VALUES (?, ?, ?, ?)")
                for (index, outcome) in outcomes.enumerated() {
                    guard case .revoked(let record, var revocation) = outcome else { continue }
                    try insert.execute(arguments: [record.serial, now, reason, uid.map { Int64($0) }])
                    revocation.id = db.lastInsertedRowID
                    revocation.revokedAt = LedgerTime.date(now) ?? date
                    outcomes[index] = .revoked(record, revocation)
                }
                return outcomes
            }
        }
    }

    /// Serials of the certificates issued from inbox name `sourceFile` that have not expired
    /// at `date`, revoked or not (``revoke(_:reason:at:byUID:)`` says which were already),
    /// oldest first; with `profile`, only those that came in through that profile's inbox
    /// (the same name in two inboxes is two appliances).
    public func unexpiredSerials(sourceFile: String, profile: String? = nil, at date: Date) throws -> [String] {
        try perform {
            try reader.read { db in
                if let profile {
                    return try String.fetchAll(db, sql: """
                        SELECT serial FROM issuance WHERE source_file = ? AND profile = ? AND not_after >= ?
                        ORDER BY issued_at, rowid
                        """, arguments: [sourceFile, profile, LedgerTime.text(date)])
                }
                return try String.fetchAll(db, sql: """
                    SELECT serial FROM issuance WHERE source_file = ? AND not_after >= ?
                    ORDER BY issued_at, rowid
                    """, arguments: [sourceFile, LedgerTime.text(date)])
            }
        }
    }

    /// The revocation of one certificate, if it was revoked.
    public func revocation(serial: String) throws -> RevocationRecord? {
        try perform { try reader.read { db in try Self.revocation(serial: IssuanceRecord.normalizedSerial(serial), in: db) } }
    }

    /// Every revocation, oldest first, by serial.
    public func revocations() throws -> [String: RevocationRecord] {
        try perform {
            try reader.read { db in
                var all: [String: RevocationRecord] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT * FROM revocation ORDER BY id") {
                    let record = Self.revocation(row)
                    all[record.serial] = record
                }
                return all
            }
        }
    }

    /// Revocations with an id above `id`, oldest first, each with its certificate's subject:
    /// what the daemon logs when a CRL first lists them. One joined query, since after an
    /// offline `dropca revoke --from` of thousands this is thousands of rows.
    public func revocations(after id: Int64) throws -> [(revocation: RevocationRecord, subject: String)] {
        try perform {
            try reader.read { db in
                var found: [(RevocationRecord, String)] = []
                let cursor = try Row.fetchCursor(db, sql: """
                    SELECT r.*, i.subject AS certificate_subject FROM revocation r JOIN issuance i ON i.serial = r.serial
                    WHERE r.id > ? ORDER BY r.id
                    """, arguments: [id])
                while let row = try cursor.next() {
                    found.append((Self.revocation(row), row["certificate_subject"]))
                }
                return found
            }
        }
    }

    /// The highest revocation id so far (0 when nothing was ever revoked): a CRL that lists
    /// revocations through this id is up to date.
    public func lastRevocationID() throws -> Int64 {
        try perform { try reader.read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM revocation") ?? 0 } }
    }

    /// What a CRL made now lists: every revoked certificate, except those that had expired
    /// when the last published CRL was made (`droppingExpiredBefore`, that CRL's thisUpdate).
    /// Such a certificate was listed by at least one CRL made after its notAfter (that one),
    /// which is when RFC 5280 5.1.2.6 lets a CRL leave it out; so the CRL does not grow
    /// without bound.
    ///
    /// `unlessRevokedAfter` is the highest revocation id the last published CRL listed: a
    /// revocation that came after it was in no CRL yet, so it is listed once whatever its
    /// certificate's notAfter.
    public func crlEntries(droppingExpiredBefore cutoff: Date?, unlessRevokedAfter listedThrough: Int64 = 0) throws -> [CRLEntry] {
        try perform {
            try reader.read { db in
                let sql = """
                    SELECT r.id, r.serial, r.revoked_at, r.reason
                    FROM revocation r JOIN issuance i ON i.serial = r.serial
                    \(cutoff == nil ? "" : "WHERE i.not_after >= ? OR r.id > ?")
                    ORDER BY r.id
                    """
                let arguments: StatementArguments = cutoff.map { [LedgerTime.text($0), listedThrough] } ?? []
                var entries: [CRLEntry] = []
                let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
                while let row = try cursor.next() {
                    entries.append(CRLEntry(
                        serial: row[1], revokedAt: LedgerTime.date(row[2]) ?? .distantPast,
                        reason: row[3], revocationID: row[0]))
                }
                return entries
            }
        }
    }

    /// Takes the next CRL number (one above every number ever used) and records what it will
    /// be used for, durably, before the CRL is signed: a number is never used twice.
    public func allocateCRL(thisUpdate: Date, nextUpdate: Date, entries: Int, revocationsThrough: Int64) throws -> CRLRecord {
        let writer = try requireWriter()
        return try perform {
            try writer.write { db in
                let number = (try Int64.fetchOne(db, sql: "SELECT coalesce(max(number), 0) FROM crl") ?? 0) + 1
                try db.execute(
                    sql: "INSERT INTO crl (number, this_update, next_update, entries, revocations_through) VALUES (?, ?, ?, ?, ?)",
                    arguments: [number, LedgerTime.text(thisUpdate), LedgerTime.text(nextUpdate), entries, revocationsThrough])
                return CRLRecord(
                    number: number, thisUpdate: LedgerTime.date(LedgerTime.text(thisUpdate)) ?? thisUpdate,
                    nextUpdate: LedgerTime.date(LedgerTime.text(nextUpdate)) ?? nextUpdate,
                    entries: entries, revocationsThrough: revocationsThrough, publishedAt: nil)
            }
        }
    }

    /// The CRL with this number is in place.
    public func markCRLPublished(number: Int64, at date: Date) throws {
        let writer = try requireWriter()
        try perform {
            try writer.write { db in
                try db.execute(sql: "UPDATE crl SET published_at = ? WHERE number = ?", arguments: [LedgerTime.text(date), number])
            }
        }
    }

    /// The most recent CRL that was published, if any.
    public func lastPublishedCRL() throws -> CRLRecord? {
        try perform {
            try reader.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM crl WHERE published_at IS NOT NULL ORDER BY number DESC LIMIT 1").map(Self.crl)
            }
        }
    }

    /// How many unexpired certificates expire before `date`, revoked ones left out.
    public func countExpiring(before date: Date, after now: Date) throws -> Int {
        try perform {
            try reader.read { db in
                try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM issuance i
                    WHERE i.not_after >= ? AND i.not_after < ?
                      AND NOT EXISTS (SELECT 1 FROM revocation r WHERE r.serial = i.serial)
                    """, arguments: [LedgerTime.text(now), LedgerTime.text(date)]) ?? 0
            }
        }
    }

    // MARK: Rows

    /// By primary key only, so that thousands of look-ups inside a write transaction stay
    /// cheap (unlike ``issuance(serial:)``, which also scans for serials stored with extra
    /// leading zeros, as a hand-edited or foreign ledger may hold them): dropca stores a serial as the even-length hex of its minimal bytes, so a typed
    /// serial with or without leading zeros is one of two keys.
    static func issuance(serial typed: String, in db: Database) throws -> IssuanceRecord? {
        let serial = IssuanceRecord.normalizedSerial(typed)
        guard IssuanceRecord.isHex(serial) else { return nil }
        let significant = String(serial.drop { $0 == "0" })
        var keys = [serial, significant, "0" + significant]
        keys = keys.filter { !$0.isEmpty }
        for key in keys {
            if let found = try IssuanceRow.fetchOne(db, sql: "SELECT * FROM issuance WHERE serial = ?", arguments: [key]) {
                return found.record
            }
        }
        return nil
    }

    static func revocation(serial: String, in db: Database) throws -> RevocationRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM revocation WHERE serial = ?", arguments: [serial]).map(revocation)
    }

    private static func revocation(_ row: Row) -> RevocationRecord {
        let uid: Int64? = row["revoked_by_uid"]
        return RevocationRecord(
            id: row["id"], serial: row["serial"], revokedAt: LedgerTime.date(row["revoked_at"]) ?? .distantPast,
            reason: row["reason"], revokedByUID: uid.flatMap { UInt32(exactly: $0) })
    }

    private static func crl(_ row: Row) -> CRLRecord {
        let published: String? = row["published_at"]
        return CRLRecord(
            number: row["number"], thisUpdate: LedgerTime.date(row["this_update"]) ?? .distantPast,
            nextUpdate: LedgerTime.date(row["next_update"]) ?? .distantPast, entries: row["entries"],
            revocationsThrough: row["revocations_through"], publishedAt: published.flatMap(LedgerTime.date))
    }
}
