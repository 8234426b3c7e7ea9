import Foundation
import Synchronization
import GRDB
import Testing
@testable import Ledger

@Suite("Reading the ledger")
struct LedgerReadingTests {
    /// Crash recovery publishes again only what matches by name and by content.
    @Test func unpublishedIssuanceMatchesByNameAndDigest() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let record = Fixtures.issuance(1, sourceFile: "printer.csr", digest: Fixtures.digest(7))
        try ledger.recordIssued([record])

        #expect(try ledger.unpublishedIssuance(sourceFile: "printer.csr", csrSHA256: Fixtures.digest(7)) == record)
        #expect(try ledger.unpublishedIssuance(sourceFile: "printer.csr", csrSHA256: Fixtures.digest(7).uppercased()) == record)
        // A new request uploaded under the old name is new work.
        #expect(try ledger.unpublishedIssuance(sourceFile: "printer.csr", csrSHA256: Fixtures.digest(8)) == nil)
        // The same request under another name is another input.
        #expect(try ledger.unpublishedIssuance(sourceFile: "printer2.csr", csrSHA256: Fixtures.digest(7)) == nil)

        try ledger.markPublished(serials: [record.serial], at: Fixtures.issuedAt)
        #expect(try ledger.unpublishedIssuance(sourceFile: "printer.csr", csrSHA256: Fixtures.digest(7)) == nil)
    }

    /// The writer answers from memory which names may have an unpublished certificate;
    /// that memory must cover records left by an earlier process, two records for one
    /// name, a serial typed differently when marked, and a failed batch.
    @Test func unpublishedIssuanceIsFoundAfterReopenAndUntilEveryRecordIsPublished() throws {
        let directory = try TemporaryDirectory()
        let first = Fixtures.issuance(1, sourceFile: "camera.csr", digest: Fixtures.digest(1))
        let second = Fixtures.issuance(2, sourceFile: "camera.csr", digest: Fixtures.digest(2))
        do {
            let ledger = try Ledger(directory: directory.path)
            try ledger.recordIssued([first, second])
            try ledger.close()
        }
        // A new process: the records come from the file, not from this instance's writes.
        let ledger = try Ledger(directory: directory.path)
        #expect(try ledger.unpublishedIssuance(sourceFile: "camera.csr", csrSHA256: Fixtures.digest(1)) == first)
        // Marked with the serial in another spelling: the name still has the second record.
        try ledger.markPublished(serials: [first.serial.uppercased()], at: Fixtures.issuedAt)
        #expect(try ledger.unpublishedIssuance(sourceFile: "camera.csr", csrSHA256: Fixtures.digest(1)) == nil)
        #expect(try ledger.unpublishedIssuance(sourceFile: "camera.csr", csrSHA256: Fixtures.digest(2)) == second)
        try ledger.markPublished(serials: [second.serial], at: Fixtures.issuedAt)
        #expect(try ledger.unpublishedIssuance(sourceFile: "camera.csr", csrSHA256: Fixtures.digest(2)) == nil)

        // A batch that fails (duplicate serial) records nothing, and finds nothing.
        let third = Fixtures.issuance(3, sourceFile: "door.csr", digest: Fixtures.digest(3))
        #expect(throws: LedgerError.self) { try ledger.recordIssued([third, Fixtures.issuance(1)]) }
        #expect(try ledger.unpublishedIssuance(sourceFile: "door.csr", csrSHA256: Fixtures.digest(3)) == nil)
        try ledger.recordIssued([third])
        #expect(try ledger.unpublishedIssuance(sourceFile: "door.csr", csrSHA256: Fixtures.digest(3)) == third)
    }

    /// A read-only ledger (`dropca list` beside the daemon) keeps no memory of its own:
    /// it sees unpublished records the writer commits after it opened.
    @Test func readOnlyLedgerSeesUnpublishedRecordsWrittenAfterItOpened() throws {
        let directory = try TemporaryDirectory()
        let writer = try Ledger(directory: directory.path)
        let reader = try Ledger(directory: directory.path, access: .readOnly)
        let record = Fixtures.issuance(4, sourceFile: "late.csr", digest: Fixtures.digest(4))
        try writer.recordIssued([record])
        #expect(try reader.unpublishedIssuance(sourceFile: "late.csr", csrSHA256: Fixtures.digest(4)) == record)
    }

    @Test func unpublishedListsOnlyWhatWasNotPublishedOldestFirst() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let late = Fixtures.issuance(1, issuedAt: Fixtures.issuedAt.addingTimeInterval(100))
        let early = Fixtures.issuance(2, issuedAt: Fixtures.issuedAt)
        let published = Fixtures.issuance(3, issuedAt: Fixtures.issuedAt.addingTimeInterval(50))
        try ledger.recordIssued([late, early, published])
        try ledger.markPublished(serials: [published.serial], at: Fixtures.issuedAt.addingTimeInterval(200))
        #expect(try ledger.unpublished().map(\.serial) == [early.serial, late.serial])
    }

    @Test(arguments: [
        "7f00000000000000000000000000002a",
        "7F00000000000000000000000000002A",
        "7F:00:00:00:00:00:00:00:00:00:00:00:00:00:00:2A",
        "  7f00000000000000000000000000002a\n",
    ])
    func showFindsASerialHoweverItIsTyped(serial: String) throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let record = Fixtures.issuance(42)
        try ledger.recordIssued([record])
        #expect(try ledger.issuance(serial: serial) == record)
    }

    @Test func showToleratesLeadingZerosEitherWay() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var padded = Fixtures.issuance(1)
        padded.serial = "00ff01"
        var bare = Fixtures.issuance(2)
        bare.serial = "7e02"
        try ledger.recordIssued([padded, bare])
        #expect(try ledger.issuance(serial: "FF:01")?.serial == "00ff01")
        #expect(try ledger.issuance(serial: "00:7E:02")?.serial == "7e02")
        #expect(try ledger.issuance(serial: "7e03") == nil)
        #expect(try ledger.issuance(serial: "not a serial") == nil)
    }

    @Test func listWithALimitShowsTheMostRecentOldestFirst() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let records = (1...5).map { Fixtures.issuance($0, issuedAt: Fixtures.issuedAt.addingTimeInterval(Double(10 - $0))) }
        try ledger.recordIssued(records)
        #expect(try ledger.issued().map(\.serial) == records.reversed().map(\.serial))
        #expect(try ledger.issued(limit: 2).map(\.serial) == [records[1].serial, records[0].serial])
        #expect(try ledger.issued(limit: 0).isEmpty)

        try ledger.recordRejected((1...4).map { Fixtures.rejection($0) })
        #expect(try ledger.rejections(limit: 3).map(\.sourceFile) == ["bad-2.csr", "bad-3.csr", "bad-4.csr"])
    }

    @Test func sameSecondIssuanceKeepsInsertionOrder() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let records = [9, 3, 7].map { Fixtures.issuance($0) }
        try ledger.recordIssued(records)
        #expect(try ledger.issued().map(\.serial) == records.map(\.serial))
    }

    @Test func dataSurvivesCloseAndReopen() throws {
        let directory = try TemporaryDirectory()
        let records = (1...3).map { Fixtures.issuance($0) }
        let rejection = Fixtures.rejection(1, digest: Fixtures.digest(9))
        do {
            let ledger = try Ledger(directory: directory.path)
            try ledger.recordIssued(records)
            try ledger.markPublished(serials: [records[0].serial], at: Fixtures.issuedAt)
            try ledger.recordRejected([rejection])
            try ledger.close()
            #expect(throws: LedgerError.self) { try ledger.counts() }
        }
        for access in [Ledger.Access.readWrite, .readOnly] {
            let reopened = try Ledger(directory: directory.path, access: access)
            #expect(try reopened.issued().map(\.serial) == records.map(\.serial))
            #expect(try reopened.unpublished().map(\.serial) == [records[1].serial, records[2].serial])
            #expect(try reopened.rejections().map(\.csrSHA256) == [rejection.csrSHA256])
            try reopened.close()
        }
    }

    @Test func aReadOnlyLedgerRefusesWrites() throws {
        let directory = try TemporaryDirectory()
        _ = try Ledger(directory: directory.path)
        let reader = try Ledger(directory: directory.path, access: .readOnly)
        let error = try #require(throws: LedgerError.self) { try reader.recordIssued([Fixtures.issuance(1)]) }
        #expect(error.code == .readOnly)
        #expect(error.message.contains(directory.ledgerPath))
        #expect(reader.transactionsCommitted == 0)
    }

    /// An operator running `dropca list` while the daemon is mid-transaction sees every committed
    /// row at once, sees nothing uncommitted, and does not hold the daemon up.
    ///
    /// Its waits are bounded here rather than by a time limit: Swift Testing starts a limit's
    /// clock when it schedules the test, and in the full suite the package-install test can
    /// hold the runner's threads for minutes before this one gets one (twice seen: "Time
    /// limit was exceeded" with every test of that moment reported at about 190 s).
    @Test
    func readOnlyOpenSeesCommittedRowsWhileAWriterIsActive() throws {
        let directory = try TemporaryDirectory()
        let daemon = try Ledger(directory: directory.path)
        let committed = (1...3).map { Fixtures.issuance($0) }
        try daemon.recordIssued(committed)
        let writer = try #require(daemon.writer)

        let inTransaction = DispatchSemaphore(value: 0)
        let mayCommit = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        // A thread of its own: Dispatch's global pool is shared with the test runner, whose
        // blocked tests can leave it no thread to start this one on.
        Thread.detachNewThread {
            do {
                try writer.write { db in
                    try IssuanceRow(Fixtures.issuance(4)).insert(db)
                    inTransaction.signal()
                    mayCommit.wait()
                }
            } catch {
                failure.withLock { $0 = "the writer failed: \(error)" }
                inTransaction.signal()
            }
            finished.signal()
        }
        try #require(inTransaction.wait(timeout: .now() + 30) == .success, "the writer never began its transaction")
        // However the reads below end, the writer is let go.
        defer { mayCommit.signal() }
        if let failure = failure.withLock({ $0 }) { Issue.record(Comment(rawValue: failure)); return }

        let operatorView = try Ledger(directory: directory.path, access: .readOnly)
        let started = Date()
        #expect(try operatorView.issued().map(\.serial) == committed.map(\.serial))
        #expect(try operatorView.counts().issued == 3)
        #expect(Date().timeIntervalSince(started) < 5, "the reader must not wait for the writer")

        mayCommit.signal()
        try #require(finished.wait(timeout: .now() + 30) == .success, "the writer never finished")
        #expect(failure.withLock { $0 } == nil)
        #expect(try operatorView.counts().issued == 4)
        // And the daemon is not held up by the operator's open ledger.
        try daemon.recordIssued([Fixtures.issuance(5)])
        #expect(try operatorView.issuance(serial: Fixtures.serial(5)) != nil)
    }
}
