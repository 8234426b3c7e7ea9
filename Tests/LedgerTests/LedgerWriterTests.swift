import Foundation
import Testing
@testable import Ledger

@Suite("Group commit")
struct LedgerWriterTests {
    /// 2,000 workers each record a certificate and then mark it published: every row lands
    /// exactly once, and the commits share transactions.
    @Test(.timeLimit(.minutes(2)))
    func concurrentCommitsAreRecordedOnceInFarFewerTransactions() async throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let writer = LedgerWriter(ledger: ledger)
        let workers = 2_000
        let before = ledger.transactionsCommitted

        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<workers {
                group.addTask {
                    let record = Fixtures.issuance(number)
                    try await writer.commit(.issued(record))
                    try await writer.commit(.published(serial: record.serial, at: Fixtures.issuedAt))
                }
            }
            try await group.waitForAll()
        }

        let transactions = ledger.transactionsCommitted - before
        let items = workers * 2
        #expect(transactions >= 1)
        #expect(transactions * 10 <= items, "\(transactions) transactions for \(items) writes")

        let issued = try ledger.issued()
        #expect(issued.count == workers)
        #expect(Set(issued.map(\.serial)) == Set((0..<workers).map(Fixtures.serial)))
        #expect(try ledger.unpublished().isEmpty)
        #expect(issued.allSatisfy { $0.publishedAt == Fixtures.issuedAt })
        #expect(try ledger.issuance(serial: Fixtures.serial(1234)) == {
            var expected = Fixtures.issuance(1234)
            expected.publishedAt = Fixtures.issuedAt
            return expected
        }())
    }

    /// "Record before publish": when commit returns, another process's connection already sees
    /// the row, so the worker may publish.
    @Test(.timeLimit(.minutes(1)))
    func commitReturnsOnlyAfterTheRowIsCommitted() async throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let writer = LedgerWriter(ledger: ledger)
        let outsider = try Ledger(directory: directory.path, access: .readOnly)

        let unseen = try await withThrowingTaskGroup(of: Bool.self) { group in
            for number in 0..<200 {
                group.addTask {
                    let record = Fixtures.issuance(number)
                    try await writer.commit(.issued(record))
                    return try outsider.issuance(serial: record.serial) == nil
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(unseen == 0)
    }

    /// A colliding serial fails its own worker, who redraws; its batch neighbours are recorded.
    @Test(.timeLimit(.minutes(1)))
    func aCollisionFailsOnlyTheCollidingWrite() async throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let taken = Fixtures.issuance(10_000)
        try ledger.recordIssued([taken])
        let writer = LedgerWriter(ledger: ledger)

        let failures = await withTaskGroup(of: LedgerError?.self) { group in
            for number in 0..<300 {
                group.addTask {
                    var record = Fixtures.issuance(number)
                    if number == 150 { record.serial = taken.serial }
                    do {
                        try await writer.commit(.issued(record))
                        return nil
                    } catch let error as LedgerError {
                        return error
                    } catch {
                        return LedgerError(.storage, "\(error)", path: "")
                    }
                }
            }
            var failures: [LedgerError] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        #expect(failures.map(\.code) == [.duplicateSerial])
        #expect(try ledger.counts().issued == 300)
        #expect(try ledger.unpublishedIssuance(sourceFile: "device-150.csr", csrSHA256: Fixtures.digest(150)) == nil)
        #expect(try ledger.unpublishedIssuance(sourceFile: "device-149.csr", csrSHA256: Fixtures.digest(149)) != nil)
    }

    @Test func batchesAreCappedAtTheMaximumSize() async throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let writer = LedgerWriter(ledger: ledger, maximumBatchSize: 1)
        let before = ledger.transactionsCommitted
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<50 {
                group.addTask { try await writer.commit(.rejected(Fixtures.rejection(number))) }
            }
            try await group.waitForAll()
        }
        #expect(ledger.transactionsCommitted - before == 50)
        #expect(try ledger.counts().rejected == 50)
    }

    @Test func aLoneCommitIsNotHeldBack() async throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let writer = LedgerWriter(ledger: ledger)
        for number in 0..<5 {
            try await writer.commit(.issued(Fixtures.issuance(number)))
            #expect(try ledger.counts().issued == number + 1)
        }
    }

    @Test func commitsThroughAReadOnlyLedgerFail() async throws {
        let directory = try TemporaryDirectory()
        _ = try Ledger(directory: directory.path)
        let writer = LedgerWriter(ledger: try Ledger(directory: directory.path, access: .readOnly))
        await #expect(throws: LedgerError(.readOnly, "", path: "")) {
            try await writer.commit(.rejected(Fixtures.rejection(1)))
        }
    }
}
