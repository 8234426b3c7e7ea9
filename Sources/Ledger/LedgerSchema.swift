import Foundation
internal import GRDB

/// The ledger's tables, as migrations: a ledger file records which ones it has had, so a
/// newer dropca can extend the schema in place and an older one can tell it is outrun.
///
/// Times are ISO-8601 UTC text with whole seconds (`2025-03-01T12:00:00Z`): readable in the
/// `sqlite3` shell, and ordered correctly by plain text comparison. Serials and digests are
/// lowercase hexadecimal, which the CHECK constraints hold to, so lookups can compare text.
enum LedgerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE issuance (
                    serial       TEXT PRIMARY KEY NOT NULL
                                 CHECK (serial <> '' AND serial NOT GLOB '*[^0-9a-f]*'),
                    subject      TEXT NOT NULL,
                    sans         TEXT NOT NULL,      -- JSON array: ["DNS:example.com", ...]
                    not_before   TEXT NOT NULL,
                    not_after    TEXT NOT NULL,
                    issued_at    TEXT NOT NULL,
                    published_at TEXT,               -- NULL until the outbox has it
                    source_file  TEXT NOT NULL,
                    csr_sha256   TEXT NOT NULL CHECK (csr_sha256 NOT GLOB '*[^0-9a-f]*'),
                    certificate  BLOB NOT NULL       -- DER
                );
                -- Crash recovery looks an input up by name and digest.
                CREATE INDEX issuance_source ON issuance (source_file, csr_sha256);
                -- Recovery also lists what is still unpublished; the partial index stays as
                -- small as the number of certificates in flight.
                CREATE INDEX issuance_unpublished ON issuance (published_at)
                    WHERE published_at IS NULL;
                CREATE INDEX issuance_issued_at ON issuance (issued_at);

                CREATE TABLE rejection (
                    id          INTEGER PRIMARY KEY,
                    source_file TEXT NOT NULL,
                    csr_sha256  TEXT,                -- NULL when the input could not be read
                    code        TEXT NOT NULL,
                    reason      TEXT NOT NULL,
                    rejected_at TEXT NOT NULL
                );
                CREATE INDEX rejection_rejected_at ON rejection (rejected_at);
                """)
        }
        migrator.registerMigration("v2-revocation") { db in
            try db.execute(sql: """
                -- One row per revoked certificate; `id` orders revocations, and a CRL records
                -- the highest id it lists, so "is my revocation published yet?" is one
                -- comparison.
                CREATE TABLE revocation (
                    id             INTEGER PRIMARY KEY,
                    serial         TEXT NOT NULL UNIQUE REFERENCES issuance (serial),
                    revoked_at     TEXT NOT NULL,
                    reason         TEXT NOT NULL,   -- RFC 5280 5.3.1 name: keyCompromise, ...
                    revoked_by_uid INTEGER          -- the user who ran `dropca revoke`
                );

                -- Every CRL number ever used: allocated (durably) before the CRL is signed, so
                -- a number is never reused, whatever happens between signing and publishing.
                CREATE TABLE crl (
                    number              INTEGER PRIMARY KEY,
                    this_update         TEXT NOT NULL,
                    next_update         TEXT NOT NULL,
                    entries             INTEGER NOT NULL,
                    revocations_through INTEGER NOT NULL,  -- highest revocation.id listed (0: none)
                    published_at        TEXT                -- NULL until ca.crl holds it
                );
                CREATE INDEX issuance_not_after ON issuance (not_after);
                """)
        }
        migrator.registerMigration("v3-identity") { db in
            // Which ledger this is: a random id made once, when the file is made (or, for a
            // ledger from before ids, when this dropca first opens it), and never changed.
            // The daemon keeps a copy beside the file (`ledger.id` in the state directory),
            // so that a ledger that was deleted, emptied or swapped for another one is
            // refused at start instead of silently replaced by a new, empty one. A copy made
            // with `dropca backup` carries the same id: restoring it is not a replacement.
            try db.execute(sql: """
                CREATE TABLE ledger_identity (
                    one        INTEGER PRIMARY KEY CHECK (one = 1),  -- exactly one row
                    id         TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                """)
            try db.execute(
                sql: "INSERT INTO ledger_identity (one, id, created_at) VALUES (1, ?, ?)",
                arguments: [LedgerSchema.newIdentity(), LedgerTime.text(Date())])
            // In the file header too, so that `file ledger.sqlite` and other tools can tell a
            // dropca ledger from any SQLite file without reading its tables.
            try db.execute(sql: "PRAGMA application_id = \(LedgerSchema.applicationID)")
        }
        migrator.registerMigration("v4-profiles") { db in
            // Which profile an input came in through: every profile has its own folders, so
            // the same inbox name in two profiles is two appliances. Rows from before
            // profiles came through the only folders there were, the default profile's.
            try db.execute(sql: """
                ALTER TABLE issuance ADD COLUMN profile TEXT NOT NULL DEFAULT 'default';
                ALTER TABLE rejection ADD COLUMN profile TEXT NOT NULL DEFAULT 'default';
                """)
        }
        return migrator
    }

    /// The profile of rows written before profiles existed (and of a read-only ledger
    /// from then, which has no `profile` column): the top-level one.
    static let defaultProfile = "default"

    /// `PRAGMA application_id` of a dropca ledger: "dcal" (dropca ledger) in ASCII, big-endian.
    static let applicationID: Int32 = 0x6463_616C

    /// The migrations a ledger must have for `list`, `show` and `backup` to read it; the
    /// identity and the profile column are optional there (a ledger from before ids or
    /// profiles is still a ledger; its rows read as the default profile's).
    static let readableMigrations: Set<String> = ["v1", "v2-revocation"]

    /// A ledger id: a random UUID, lowercase, as `ledger.id` holds it.
    static func newIdentity() -> String { UUID().uuidString.lowercased() }
}
