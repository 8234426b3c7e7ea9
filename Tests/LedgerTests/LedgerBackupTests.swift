import Foundation
import GRDB
import Synchronization
import Testing
@testable import Ledger

/// `Ledger.backup(to:replacing:)`: a consistent copy, one self-contained file, never put
/// over something by surprise.
@Suite("Backing up the ledger")
struct LedgerBackupTests {
    @Test func aCopyIsOneReadOnlyFileWithTheSameRowsAndId() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued((1...30).map { Fixtures.issuance($0) })
        try ledger.recordRejected([Fixtures.rejection(1)])
        let destination = directory.path + "/copy.sqlite"

        let copy = try ledger.backup(to: destination)
        #expect(copy.certificates == 30 && copy.rejections == 1)
        #expect(copy.identity == (try ledger.identity()))
        let attributes = try FileManager.default.attributesOfItem(atPath: destination)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(copy.bytes == (attributes[.size] as? NSNumber)?.int64Value)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("copy") || $0.hasPrefix(".copy") }
        #expect(names == ["copy.sqlite"], "no side files, no temporaries: \(names)")
        // Rollback-journal mode in the header (bytes 18 and 19 are 1, not WAL's 2).
        let header = try #require(FileHandle(forReadingAtPath: destination)).readData(ofLength: 20)
        #expect(Array(header.suffix(2)) == [1, 1])
        let read = try Ledger(path: destination, access: .readOnly)
        #expect(try read.issued() == ledger.issued())
        #expect(try read.rejections() == ledger.rejections())
    }

    @Test func anExistingDestinationIsReplacedOnlyWhenAsked() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued([Fixtures.issuance(1)])
        let destination = directory.path + "/copy.sqlite"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: destination))

        let error = try #require(throws: LedgerError.self) { try ledger.backup(to: destination) }
        #expect(error.code == .destinationExists)
        #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == Data("keep me".utf8))

        #expect(try ledger.backup(to: destination, replacing: true).certificates == 1)

        // A leftover journal would be rolled into the copy when it is first opened.
        try Data("stale".utf8).write(to: URL(fileURLWithPath: destination + "-journal"))
        let stale = try #require(throws: LedgerError.self) { try ledger.backup(to: destination, replacing: true) }
        #expect(stale.code == .destinationExists)
        #expect(stale.message.contains("copy.sqlite-journal"))

        // Never over the ledger itself, whatever is asked.
        let itself = try #require(throws: LedgerError.self) { try ledger.backup(to: directory.ledgerPath, replacing: true) }
        #expect(itself.message.hasSuffix("is the ledger itself"))
        #expect(try ledger.counts().issued == 1)
    }

    /// While another connection keeps committing, every copy is the ledger as of one
    /// commit: a whole number of batches, between what was there before and after.
    @Test func aCopyTakenDuringWritesIsConsistent() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let reader = try Ledger(directory: directory.path, access: .readOnly)
        let batch = 25
        let written = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        let writer = Thread {
            var next = 1
            while !done.load(ordering: .relaxed) {
                try? ledger.recordIssued((next..<next + batch).map { Fixtures.issuance($0) })
                next += batch
                written.store(next - 1, ordering: .relaxed)
            }
        }
        writer.start()
        defer { done.store(true, ordering: .relaxed) }
        while written.load(ordering: .relaxed) < 200 { usleep(1000) }
        for round in 0..<5 {
            let before = written.load(ordering: .relaxed)
            let copy = try reader.backup(to: directory.path + "/copy-\(round).sqlite")
            let after = written.load(ordering: .relaxed) + batch
            #expect(copy.certificates >= before && copy.certificates <= after, "\(before) ≤ \(copy.certificates) ≤ \(after)")
            #expect(copy.certificates % batch == 0, "whole batches only: \(copy.certificates)")
            let check = try DatabaseQueue(path: copy.path).read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
            #expect(check == ["ok"])
        }
    }
}
