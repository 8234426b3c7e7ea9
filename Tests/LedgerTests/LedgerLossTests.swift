import Foundation
import GRDB
import Testing
@testable import Ledger

/// A ledger file that goes from under an open ledger: found by `loss()`, refused for new
/// certificates right after the commit, and kept by `preserve` as far as it can be.
@Suite("Losing the ledger file")
struct LedgerLossTests {
    @Test func aDeletedLedgerIsFoundRefusesCertificatesAndIsSavedWhole() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued([Fixtures.issuance(1)])
        #expect(ledger.loss() == nil)
        for suffix in ["", "-wal", "-shm"] { try FileManager.default.removeItem(atPath: directory.ledgerPath + suffix) }

        // The commit goes to the unlinked file; the caller learns it must not publish.
        let error = try #require(throws: LedgerError.self) { try ledger.recordIssued([Fixtures.issuance(2)]) }
        #expect(error.code == .lost)
        #expect(error.message.contains("\(directory.ledgerPath) was deleted"), "\(error.message)")
        // Once known lost, not even written.
        let again = try #require(throws: LedgerError.self) { try ledger.recordIssued([Fixtures.issuance(3)]) }
        #expect(again.code == .lost)
        // What is not a new certificate still goes in: it is saved with the rest.
        try ledger.recordRejected([Fixtures.rejection(1)])
        try ledger.markPublished(serials: [Fixtures.serial(1)], at: Fixtures.issuedAt)
        #expect(ledger.loss()?.kind == .removed)

        let kept = ledger.preserve(after: try #require(ledger.loss()), at: Fixtures.issuedAt)
        let rescue = directory.ledgerPath + ".rescued-20250301T120000Z"
        #expect(kept.contains(rescue), "\(kept)")
        let saved = try Ledger(path: rescue, access: .readOnly)
        #expect(try saved.identity() == ledger.identity())
        #expect(try saved.issued().map(\.serial) == [Fixtures.serial(1), Fixtures.serial(2)])
        #expect(try saved.issuance(serial: Fixtures.serial(1))?.publishedAt != nil)
        #expect(try saved.issuance(serial: Fixtures.serial(2))?.publishedAt == nil, "recorded, never published")
        #expect(try saved.rejections().count == 1)
        try ledger.close()
        #expect(!FileManager.default.fileExists(atPath: directory.ledgerPath), "closing made no new ledger")
    }

    @Test func aLedgerReplacedByAnotherFileIsFoundAndSaved() throws {
        let directory = try TemporaryDirectory()
        let other = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued([Fixtures.issuance(1)])
        try Ledger(directory: other.path).close()
        #expect(rename(other.ledgerPath, directory.ledgerPath) == 0)

        let error = try #require(throws: LedgerError.self) { try ledger.recordIssued([Fixtures.issuance(2)]) }
        #expect(error.code == .lost)
        let loss = try #require(ledger.loss())
        #expect(loss.kind == .replaced)
        #expect(loss.reason == "the ledger \(directory.ledgerPath) was replaced by another file")
        let kept = ledger.preserve(after: loss, at: Fixtures.issuedAt)
        #expect(try Ledger(path: directory.ledgerPath + ".rescued-20250301T120000Z", access: .readOnly).counts().issued == 2, "\(kept)")
    }

    /// After a checkpoint the main file holds the ledger; cut to 0 bytes, its pages are
    /// gone. The ledger is left open as it is: nothing checkpoints the log into the
    /// broken file, and the log stays beside it.
    @Test func aTruncatedLedgerIsFoundAndLeftAsItIs() throws {
        let directory = try TemporaryDirectory()
        do {
            let first = try Ledger(directory: directory.path)
            try first.recordIssued((1...50).map { Fixtures.issuance($0) })
            try first.close()
        }
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued([Fixtures.issuance(51)])
        #expect(truncate(directory.ledgerPath, 0) == 0)
        let error = try #require(throws: LedgerError.self) { try ledger.recordIssued([Fixtures.issuance(52)]) }
        #expect(error.code == .lost)
        let loss = try #require(ledger.loss())
        #expect(loss.kind == .truncated)
        #expect(loss.reason.contains("was truncated from ") && loss.reason.hasSuffix(" to 0 bytes"), "\(loss.reason)")
        _ = ledger.preserve(after: loss, at: Fixtures.issuedAt)
        try ledger.close()
        let size = try FileManager.default.attributesOfItem(atPath: directory.ledgerPath)[.size] as? Int
        #expect(size == 0, "nothing was checkpointed into the truncated file")
        let walSize = try FileManager.default.attributesOfItem(atPath: directory.ledgerPath + "-wal")[.size] as? Int
        #expect((walSize ?? 0) > 0, "the log is kept")
    }

    /// The -wal deleted while the ledger is open: the main file is intact and the open log
    /// still holds the last transactions; `preserve` moves them in, so nothing is lost.
    @Test func aDeletedLogIsFoundAndItsTransactionsAreMovedIntoTheLedger() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued([Fixtures.issuance(1)])
        try FileManager.default.removeItem(atPath: directory.ledgerPath + "-wal")
        try ledger.recordIssued([Fixtures.issuance(2)])
        let loss = try #require(ledger.loss())
        #expect(loss.kind == .sideFileLost)
        #expect(loss.reason == "\(directory.ledgerPath)-wal, part of the open ledger, was deleted")
        let kept = ledger.preserve(after: loss, at: Fixtures.issuedAt)
        #expect(kept.contains("moved into"), "\(kept)")
        try ledger.close()
        let reopened = try Ledger(directory: directory.path, access: .readOnly)
        #expect(try reopened.counts().issued == 2)
    }

    /// What SQLite calls damaged while the daemon reads is a loss too: every batch would
    /// fail the same way.
    @Test func damageFoundWhileReadingIsALoss() throws {
        let directory = try TemporaryDirectory()
        do {
            let first = try Ledger(directory: directory.path)
            let records = (1...400).map { Fixtures.issuance($0) }
            try first.recordIssued(records)
            // All published: opening looks up the unpublished ones (none) through their
            // partial index, and the damage below is found by the read, not by the open.
            try first.markPublished(serials: records.map(\.serial), at: Fixtures.issuedAt)
            try first.close()
        }
        // The root page of the issuance table, overwritten: every scan of it fails.
        let root = try DatabaseQueue(path: directory.ledgerPath).read { db in
            try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'issuance'")
        }
        let page = try #require(root)
        let handle = try #require(FileHandle(forWritingAtPath: directory.ledgerPath))
        try handle.seek(toOffset: UInt64((page - 1) * 4096))
        try handle.write(contentsOf: Data(repeating: 0xEE, count: 4096))
        try handle.close()

        let ledger = try Ledger(directory: directory.path)
        #expect(ledger.loss() == nil)
        let error = try #require(throws: LedgerError.self) { _ = try ledger.issued() }
        #expect(error.code == .storage, "the file, not a row: callers keep their writes for later")
        #expect(error.message.contains("is damaged: "))
        #expect(ledger.loss()?.kind == .damaged)
        #expect(ledger.loss()?.reason.contains(directory.ledgerPath) == true)
    }

    /// What another process legitimately does to the files while the daemon has them open
    /// is no loss: a second writer's `TRUNCATE` checkpoint empties the -wal, checkpoints
    /// grow the main file.
    @Test func anotherWritersCheckpointsAreNoLoss() throws {
        let directory = try TemporaryDirectory()
        let daemon = try Ledger(directory: directory.path)
        try daemon.recordIssued((1...20).map { Fixtures.issuance($0) })
        let revoker = try Ledger(directory: directory.path)
        _ = try revoker.revoke([Fixtures.serial(3)], reason: "keyCompromise", at: Fixtures.issuedAt, byUID: 0)
        try revoker.close()
        #expect(daemon.loss() == nil)
        try daemon.recordIssued((21...40).map { Fixtures.issuance($0) })
        #expect(daemon.loss() == nil)
        try daemon.writer?.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
        try daemon.recordIssued([Fixtures.issuance(41)])
        #expect(daemon.loss() == nil)
    }

    @Test func settingALedgerAsideKeepsItsFilesTogether() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued([Fixtures.issuance(1)])
        let identity = try ledger.identity()
        // Still open: the -wal holds the record.
        let aside = try #require(try Ledger.setAside(directory.ledgerPath, label: "old", at: Fixtures.issuedAt))
        #expect(aside == directory.ledgerPath + ".old-20250301T120000Z")
        #expect(!FileManager.default.fileExists(atPath: directory.ledgerPath))
        #expect(FileManager.default.fileExists(atPath: aside + "-wal"))
        let second = try #require(try Ledger.setAside(aside, label: "x", at: Fixtures.issuedAt))
        #expect(try Ledger.setAside(directory.ledgerPath, label: "old", at: Fixtures.issuedAt) == nil, "nothing left to move")
        let moved = try Ledger(path: second, access: .readOnly)
        #expect(try moved.identity() == identity)
        #expect(try moved.counts().issued == 1)
    }
}
