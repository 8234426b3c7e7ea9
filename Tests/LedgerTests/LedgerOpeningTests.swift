import Foundation
import GRDB
import Testing
@testable import Ledger

@Suite("Opening the ledger")
struct LedgerOpeningTests {
    @Test func openingCreatesTheSchema() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        #expect(FileManager.default.fileExists(atPath: directory.ledgerPath))
        #expect(ledger.path == directory.ledgerPath)

        try ledger.reader.read { db in
            #expect(try db.tableExists("issuance"))
            #expect(try db.tableExists("rejection"))
            let issuanceColumns = try db.columns(in: "issuance").map(\.name)
            #expect(issuanceColumns == [
                "serial", "subject", "sans", "not_before", "not_after", "issued_at",
                "published_at", "source_file", "csr_sha256", "certificate", "profile",
            ])
            let rejectionColumns = try db.columns(in: "rejection").map(\.name)
            #expect(rejectionColumns == ["id", "source_file", "csr_sha256", "code", "reason", "rejected_at", "profile"])
            let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            #expect(applied == ["v1", "v2-revocation", "v3-identity", "v4-profiles"])
        }
    }

    /// The indexes exist and the recovery queries really use them.
    @Test func recoveryQueriesUseTheirIndexes() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        try ledger.reader.read { db in
            let sourceColumns = try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info('issuance_source')")
            #expect(sourceColumns == ["source_file", "csr_sha256"])
            let partial = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE name = 'issuance_unpublished'")
            #expect(partial?.contains("WHERE published_at IS NULL") == true)

            func plan(_ sql: String) throws -> String {
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql)
                    .map { $0["detail"] as String? ?? "" }.joined(separator: "; ")
            }
            #expect(try plan("SELECT * FROM issuance WHERE published_at IS NULL").contains("issuance_unpublished"))
            #expect(try plan("SELECT * FROM issuance WHERE source_file = 'a' AND csr_sha256 = 'b'")
                .contains("issuance_source"))
        }
    }

    /// GRDB's pool sets synchronous=NORMAL when it turns WAL on; the ledger must end up FULL on
    /// the connection that commits, or a power cut can lose an issued certificate's row.
    @Test func writeConnectionIsWALWithSynchronousFull() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let writer = try #require(ledger.writer)
        let (journalMode, synchronous) = try writer.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(journalMode == "wal")
        #expect(synchronous == 2, "PRAGMA synchronous: 2 is FULL, 1 is NORMAL")

        let readerSynchronous = try ledger.reader.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(readerSynchronous == 2)
    }

    /// WAL is a property of the file: another process opening it finds WAL already on.
    @Test func walModeIsRecordedInTheFile() throws {
        let directory = try TemporaryDirectory()
        _ = try Ledger(directory: directory.path)
        let header = try #require(FileHandle(forReadingAtPath: directory.ledgerPath)).readData(ofLength: 20)
        // Bytes 18 and 19 of an SQLite header are the write and read format versions: 2 means WAL.
        #expect(header.count == 20)
        #expect(Array(header.suffix(2)) == [2, 2])
    }

    @Test func readOnlyOpenOfAMissingLedgerExplainsAndCreatesNothing() throws {
        let directory = try TemporaryDirectory()
        let error = try #require(throws: LedgerError.self) {
            try Ledger(directory: directory.path, access: .readOnly)
        }
        #expect(error.code == .missingLedger)
        #expect(error.path == directory.ledgerPath)
        #expect(error.message == "no ledger at \(directory.ledgerPath): dropca has not issued anything yet, or state.directory points elsewhere")
        #expect(!FileManager.default.fileExists(atPath: directory.ledgerPath))
    }

    @Test func readWriteOpenCreatesAMissingStateFolder() throws {
        let directory = try TemporaryDirectory()
        let state = (directory.path as NSString).appendingPathComponent("var/lib/dropca")
        _ = try Ledger(directory: state)
        let attributes = try FileManager.default.attributesOfItem(atPath: state)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        #expect(FileManager.default.fileExists(atPath: (state as NSString).appendingPathComponent("ledger.sqlite")))
    }

    @Test func aFileThatIsNotALedgerIsRefusedByName() throws {
        let directory = try TemporaryDirectory()
        try Data("not a database, just words long enough to fill a header......\n".utf8)
            .write(to: URL(fileURLWithPath: directory.ledgerPath))
        for access in [Ledger.Access.readOnly, .readWrite] {
            let error = try #require(throws: LedgerError.self) {
                try Ledger(directory: directory.path, access: access)
            }
            #expect(error.code == .cannotOpen)
            #expect(error.message.contains(directory.ledgerPath))
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func anEmptySQLiteFileIsNotALedger() throws {
        let directory = try TemporaryDirectory()
        let queue = try DatabaseQueue(path: directory.ledgerPath)
        try queue.write { try $0.execute(sql: "CREATE TABLE unrelated (x)") }
        try queue.close()
        let error = try #require(throws: LedgerError.self) {
            try Ledger(directory: directory.path, access: .readOnly)
        }
        #expect(error.code == .cannotOpen)
    }

    @Test func aLedgerFromANewerDropcaIsNotWritten() throws {
        let directory = try TemporaryDirectory()
        do {
            let ledger = try Ledger(directory: directory.path)
            try #require(ledger.writer).write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v2')")
            }
            try ledger.close()
        }
        let error = try #require(throws: LedgerError.self) { try Ledger(directory: directory.path) }
        #expect(error.code == .newerSchema)
        // Reading it is still fine: the v1 tables are there.
        let counts = try Ledger(directory: directory.path, access: .readOnly).counts()
        #expect(counts.issued == 0 && counts.rejected == 0)
    }
}
