import Foundation
import GRDB
import Testing
@testable import Ledger

/// Which ledger a file is: an id made with the file, kept by every copy, and what
/// `examine` says about a file without opening it for writing.
@Suite("The ledger's identity and condition")
struct LedgerIdentityTests {
    @Test func aNewLedgerHasAnIdAndTheApplicationIDInItsHeader() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let identity = try #require(try ledger.identity())
        #expect(UUID(uuidString: identity) != nil, "\(identity)")
        #expect(identity == identity.lowercased())
        let applicationID = try ledger.reader.read { db in try Int32.fetchOne(db, sql: "PRAGMA application_id") }
        #expect(applicationID == 0x6463_616C)
        try ledger.close()
        // Bytes 68-71 of an SQLite header are the application id, big-endian: "dcal".
        let header = try #require(FileHandle(forReadingAtPath: directory.ledgerPath)).readData(ofLength: 72)
        #expect(Array(header.suffix(4)) == Array("dcal".utf8))
        // The same id when opened again, and a different one in another ledger.
        #expect(try Ledger(directory: directory.path, access: .readOnly).identity() == identity)
        let other = try TemporaryDirectory()
        #expect(try Ledger(directory: other.path).identity() != identity)
    }

    /// A ledger written before ids (only the v1 and v2 migrations) gets one when a
    /// read-write dropca opens it, and keeps its rows.
    @Test func aLedgerFromBeforeIdsGetsOneAndKeepsItsRows() throws {
        let directory = try TemporaryDirectory()
        do {
            let queue = try DatabaseQueue(path: directory.ledgerPath)
            try LedgerSchema.migrator.migrate(queue, upTo: "v2-revocation")
            try queue.close()
        }
        do {
            let old = try Ledger(directory: directory.path, access: .readOnly)
            #expect(try old.identity() == nil, "readable without an id")
        }
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued([Fixtures.issuance(1)])
        #expect(try ledger.identity() != nil)
        #expect(try ledger.counts().issued == 1)
    }

    @Test func examineTellsEachConditionApart() throws {
        let directory = try TemporaryDirectory()
        let path = directory.ledgerPath
        #expect(Ledger.examine(path: path, checkIntegrity: true) == .absent)

        _ = FileManager.default.createFile(atPath: path, contents: Data())
        #expect(Ledger.examine(path: path, checkIntegrity: true) == .empty)

        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        guard case .damaged(let reason) = Ledger.examine(path: path, checkIntegrity: true) else {
            Issue.record("a file of text is damaged: \(Ledger.examine(path: path, checkIntegrity: true))")
            return
        }
        #expect(!reason.contains("\n"))

        try FileManager.default.removeItem(atPath: path)
        let unrelated = try DatabaseQueue(path: path)
        try unrelated.write { try $0.execute(sql: "CREATE TABLE unrelated (x)") }
        try unrelated.close()
        #expect(Ledger.examine(path: path, checkIntegrity: true) == .notALedger)

        try FileManager.default.removeItem(atPath: path)
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued([Fixtures.issuance(1), Fixtures.issuance(2)])
        try ledger.recordRejected([Fixtures.rejection(1)])
        let identity = try ledger.identity()
        #expect(Ledger.examine(path: path, checkIntegrity: true)
            == .ledger(LedgerSummary(identity: identity, certificates: 2, rejections: 1)))
    }

    /// A page in the middle overwritten after a clean close: `quick_check` finds it, where
    /// a plain open and a look at the first rows would not.
    @Test func examineFindsAPageOverwrittenInTheMiddle() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued((1...400).map { Fixtures.issuance($0) })
        try ledger.close()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: directory.ledgerPath)[.size] as? Int)
        let pages = size / 4096
        #expect(pages > 10, "a multi-page ledger: \(pages) pages")
        let handle = try #require(FileHandle(forWritingAtPath: directory.ledgerPath))
        try handle.seek(toOffset: UInt64(pages / 2 * 4096))
        try handle.write(contentsOf: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }))
        try handle.close()

        guard case .damaged(let reason) = Ledger.examine(path: directory.ledgerPath, checkIntegrity: true) else {
            Issue.record("not found damaged")
            return
        }
        #expect(reason.contains("Page") || reason.contains("malformed"), "\(reason)")
        #expect(!reason.contains("\n"))
    }

    /// SQLite takes a 0-byte file for a new database and deletes the -wal beside it; a
    /// read-only open of an empty ledger must refuse before SQLite sees it.
    @Test func aReadOnlyOpenOfAnEmptyFileKeepsItsLog() throws {
        let directory = try TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: directory.ledgerPath, contents: Data())
        try Data(repeating: 1, count: 100).write(to: URL(fileURLWithPath: directory.ledgerPath + "-wal"))
        let error = try #require(throws: LedgerError.self) { try Ledger(directory: directory.path, access: .readOnly) }
        #expect(error.message.contains("empty (0 bytes)"))
        #expect(FileManager.default.fileExists(atPath: directory.ledgerPath + "-wal"))
        #expect(Ledger.leftovers(of: directory.ledgerPath) == [directory.ledgerPath + "-wal"])
    }
}
