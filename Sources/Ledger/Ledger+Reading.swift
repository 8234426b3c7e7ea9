import Foundation
internal import GRDB

extension Ledger {
    /// Certificates issued but not yet published, oldest first: after a crash, the daemon
    /// publishes these (from the stored DER) instead of signing again.
    public func unpublished() throws -> [IssuanceRecord] {
        try read { db in
            try IssuanceRow
                .fetchAll(db, sql: "SELECT * FROM issuance WHERE published_at IS NULL ORDER BY issued_at, rowid")
                .map(\.record)
        }
    }

    /// The serials among ``unpublished()`` that a later issuance for the same inbox name
    /// (same profile) has superseded: their input was replaced by another upload before
    /// they reached the outbox, so the outbox's file of that name is, or will be, the later
    /// one's. Recovery must not put such a certificate over it.
    public func supersededUnpublishedSerials() throws -> Set<String> {
        try read { db in
            Set(try String.fetchAll(db, sql: """
                SELECT old.serial FROM issuance AS old
                WHERE old.published_at IS NULL AND EXISTS (
                    SELECT 1 FROM issuance AS later
                    WHERE later.profile = old.profile AND later.source_file = old.source_file AND later.rowid > old.rowid)
                """))
        }
    }

    /// The unpublished certificate issued for this input, if any. Both the name and the digest
    /// must match: a new request uploaded under an old name is new work, not a retry.
    ///
    /// The daemon asks this for every input, so it is kept cheap: one statement, prepared
    /// once per reader connection (`cachedStatement`), and run without the read
    /// transaction `read` would wrap around it — a single SELECT is atomic on its own, and
    /// it sees every transaction committed before it starts. Before this, preparing the
    /// statement and the transaction around it took about a fifth of a worker's CPU time
    /// in a P-256 burst (perf, `scripts/bench`).
    ///
    /// A read-write ledger first asks its `UnpublishedSources`, and queries only for a name
    /// that may have one: in a burst almost every answer is no.
    ///
    /// The name is looked up in `profile`'s inbox only: the same request under the same
    /// name in another profile's inbox is another appliance's, and must get its own
    /// certificate under its own profile's rules.
    public func unpublishedIssuance(profile: String = "default", sourceFile: String, csrSHA256: String) throws -> IssuanceRecord? {
        if let unpublishedSources, !unpublishedSources.mayHave(.init(profile: profile, name: sourceFile)) { return nil }
        let digest = csrSHA256.lowercased()
        return try perform {
            try reader.unsafeRead { db in
                let statement = try db.cachedStatement(sql: """
                    SELECT * FROM issuance
                    WHERE source_file = ? AND csr_sha256 = ? AND profile = ? AND published_at IS NULL
                    ORDER BY issued_at DESC, rowid DESC LIMIT 1
                    """)
                return try IssuanceRow.fetchOne(statement, arguments: [sourceFile, digest, profile])?.record
            }
        }
    }

    /// Issued certificates, oldest first. With a limit, the most recent `limit` of them (still
    /// oldest first, as `tail` would show them), which is what `dropca list` wants on a CA that
    /// has issued thousands.
    public func issued(limit: Int? = nil) throws -> [IssuanceRecord] {
        try read { db in
            if let limit {
                return try IssuanceRow
                    .fetchAll(db, sql: "SELECT * FROM issuance ORDER BY issued_at DESC, rowid DESC LIMIT ?",
                              arguments: [max(limit, 0)])
                    .map(\.record).reversed()
            }
            return try IssuanceRow
                .fetchAll(db, sql: "SELECT * FROM issuance ORDER BY issued_at, rowid")
                .map(\.record)
        }
    }

    /// One certificate by serial, as an operator types it: any case, with or without colons,
    /// with or without the leading zeros `openssl x509 -serial` may add or drop.
    public func issuance(serial: String) throws -> IssuanceRecord? {
        let serial = IssuanceRecord.normalizedSerial(serial)
        guard IssuanceRecord.isHex(serial) else { return nil }
        return try read { db in
            let exact = try IssuanceRow.fetchOne(db, sql: "SELECT * FROM issuance WHERE serial = ?", arguments: [serial])
            if let exact {
                return exact.record
            }
            let significant = String(serial.drop { $0 == "0" })
            return try IssuanceRow.fetchOne(
                db, sql: "SELECT * FROM issuance WHERE ltrim(serial, '0') = ? LIMIT 1", arguments: [significant]
            )?.record
        }
    }

    /// Rejected inputs, oldest first; with a limit, the most recent `limit` of them.
    public func rejections(limit: Int? = nil) throws -> [RejectionRecord] {
        try read { db in
            if let limit {
                return try RejectionRow
                    .fetchAll(db, sql: "SELECT * FROM rejection ORDER BY rejected_at DESC, id DESC LIMIT ?",
                              arguments: [max(limit, 0)])
                    .map(\.record).reversed()
            }
            return try RejectionRow
                .fetchAll(db, sql: "SELECT * FROM rejection ORDER BY rejected_at, id")
                .map(\.record)
        }
    }

    /// How many certificates and rejections the ledger holds, for STATUS= and `dropca list`.
    public func counts() throws -> (issued: Int, rejected: Int) {
        try read { db in
            let issued = try Int.fetchOne(db, sql: "SELECT count(*) FROM issuance") ?? 0
            let rejected = try Int.fetchOne(db, sql: "SELECT count(*) FROM rejection") ?? 0
            return (issued, rejected)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try perform { try reader.read(body) }
    }
}
