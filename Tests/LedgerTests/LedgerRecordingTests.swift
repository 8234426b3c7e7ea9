import Foundation
import GRDB
import Testing
@testable import Ledger

@Suite("Recording issuance and rejections")
struct LedgerRecordingTests {
    @Test func aBatchIsOneTransactionAndRoundTrips() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let records = (1...3).map { Fixtures.issuance($0, issuedAt: Fixtures.issuedAt.addingTimeInterval(Double($0))) }

        let before = ledger.transactionsCommitted
        try ledger.recordIssued(records)
        #expect(ledger.transactionsCommitted == before + 1)

        #expect(try ledger.unpublished() == records)

        let publishedAt = Fixtures.issuedAt.addingTimeInterval(60)
        try ledger.markPublished(serials: [records[0].serial, records[2].serial], at: publishedAt)
        #expect(ledger.transactionsCommitted == before + 2)

        #expect(try ledger.unpublished() == [records[1]])
        var expected = records[0]
        expected.publishedAt = publishedAt
        #expect(try ledger.issuance(serial: records[0].serial) == expected)
        #expect(try ledger.issued() .map(\.publishedAt) == [publishedAt, nil, publishedAt])
    }

    @Test func anEmptyBatchTouchesNothing() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let before = ledger.transactionsCommitted
        try ledger.recordIssued([])
        try ledger.markPublished(serials: [], at: Fixtures.issuedAt)
        try ledger.recordRejected([])
        #expect(ledger.transactionsCommitted == before)
    }

    /// The documented storage form: what an operator sees with the sqlite3 shell.
    @Test func rowsAreStoredInTheDocumentedForm() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var record = Fixtures.issuance(1)
        record.serial = "7F:00:AB"
        record.csrSHA256 = Fixtures.digest(0xABC).uppercased()
        record.issuedAt = Fixtures.issuedAt.addingTimeInterval(0.9)
        try ledger.recordIssued([record])
        try ledger.markPublished(serials: ["7f00ab"], at: Fixtures.issuedAt.addingTimeInterval(61.5))

        let row = try #require(try ledger.reader.read { db in try Row.fetchOne(db, sql: "SELECT * FROM issuance") })
        #expect(row["serial"] as String? == "7f00ab")
        #expect(row["csr_sha256"] as String? == Fixtures.digest(0xabc))
        #expect(row["sans"] as String? == #"["DNS:device-1.example.com","IP:192.0.2.1"]"#)
        #expect(row["issued_at"] as String? == "2025-03-01T12:00:00Z", "floored to the second")
        #expect(row["not_before"] as String? == "2025-03-01T11:00:00Z")
        #expect(row["published_at"] as String? == "2025-03-01T12:01:01Z")
        #expect(row["certificate"] as Data? == record.certificate)
        let certificateType = try ledger.reader.read { db in
            try String.fetchOne(db, sql: "SELECT typeof(certificate) FROM issuance")
        }
        #expect(certificateType == "blob")
    }

    /// The INSERT is bound by hand (a cached statement) rather than through GRDB's record
    /// encoding; `sans` must still be exactly the JSON text GRDB makes of the array, so rows
    /// written before and after read and compare the same.
    @Test(arguments: [
        [String](), ["URI:http://pki.example.com/a/b"], [#"email:"quoted"@example.com"#, "DNS:bücher.example", "IP:2001:db8::1"],
    ])
    func sansAreStoredAsGRDBWouldEncodeThem(sans: [String]) throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var record = Fixtures.issuance(1)
        record.sans = sans
        try ledger.recordIssued([record])
        let stored = try ledger.reader.read { db in try String.fetchOne(db, sql: "SELECT sans FROM issuance") }
        let expected = String(decoding: try IssuanceRow.databaseJSONEncoder(for: "sans").encode(sans), as: UTF8.self)
        #expect(stored == expected)
        #expect(try ledger.unpublished() == [record])
    }

    @Test func aDuplicateSerialFailsLoudlyAndTheBatchIsNotRecorded() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let first = Fixtures.issuance(1)
        try ledger.recordIssued([first])

        var colliding = Fixtures.issuance(2)
        // The same serial as an operator would write it: it is still the same serial.
        colliding.serial = stride(from: 0, to: first.serial.count, by: 2).map { offset -> String in
            let start = first.serial.index(first.serial.startIndex, offsetBy: offset)
            return String(first.serial[start..<first.serial.index(start, offsetBy: 2)]).uppercased()
        }.joined(separator: ":")
        let innocent = Fixtures.issuance(3)

        let error = try #require(throws: LedgerError.self) { try ledger.recordIssued([innocent, colliding]) }
        #expect(error.code == .duplicateSerial)
        #expect(error.message.contains(first.serial))
        #expect(error.message.contains(directory.ledgerPath))

        #expect(try ledger.issued() == [first])
        #expect(try ledger.issuance(serial: innocent.serial) == nil)
    }

    @Test func aSerialRepeatedWithinOneBatchFails() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let error = try #require(throws: LedgerError.self) {
            try ledger.recordIssued([Fixtures.issuance(1), Fixtures.issuance(1)])
        }
        #expect(error.code == .duplicateSerial)
        #expect(try ledger.counts().issued == 0)
    }

    @Test func publishingAnUnknownSerialFails() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let known = Fixtures.issuance(1)
        try ledger.recordIssued([known])
        let error = try #require(throws: LedgerError.self) {
            try ledger.markPublished(serials: [known.serial, "abcdef"], at: Fixtures.issuedAt)
        }
        #expect(error.code == .unknownSerial)
        #expect(error.message.contains("abcdef"))
        // All or nothing: the known one is not marked either.
        #expect(try ledger.unpublished() == [known])
    }

    @Test func publishingAgainKeepsTheFirstTime() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let record = Fixtures.issuance(1)
        try ledger.recordIssued([record])
        try ledger.markPublished(serials: [record.serial], at: Fixtures.issuedAt.addingTimeInterval(10))
        try ledger.markPublished(serials: [record.serial], at: Fixtures.issuedAt.addingTimeInterval(20))
        #expect(try ledger.issuance(serial: record.serial)?.publishedAt == Fixtures.issuedAt.addingTimeInterval(10))
    }

    @Test(arguments: ["", "7f:zz", "0x7f", "7f 00"])
    func aSerialThatIsNotHexIsRefused(serial: String) throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var record = Fixtures.issuance(1)
        record.serial = serial
        let error = try #require(throws: LedgerError.self) { try ledger.recordIssued([record]) }
        #expect(error.code == .invalidRecord)
        #expect(try ledger.counts().issued == 0)
    }

    @Test func aDigestThatIsNotHexIsRefused() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var record = Fixtures.issuance(1)
        record.csrSHA256 = "sha256:abcd"
        #expect(throws: LedgerError(.invalidRecord, "", path: "")) { try ledger.recordIssued([record]) }
        #expect(throws: LedgerError(.invalidRecord, "", path: "")) {
            try ledger.recordRejected([Fixtures.rejection(1, digest: "not hex")])
        }
    }

    @Test func rejectionsRoundTripWithAndWithoutADigest() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let readable = Fixtures.rejection(1, digest: Fixtures.digest(41).uppercased())
        let unreadable = Fixtures.rejection(2, digest: nil)
        try ledger.recordRejected([readable, unreadable])

        let stored = try ledger.rejections()
        #expect(stored.count == 2)
        #expect(stored.allSatisfy { $0.id != nil })
        #expect(Set(stored.compactMap(\.id)).count == 2)
        #expect(stored.map(\.sourceFile) == [readable.sourceFile, unreadable.sourceFile])
        #expect(stored.map(\.csrSHA256) == [Fixtures.digest(41), nil])
        #expect(stored.map(\.rejectedAt) == [readable.rejectedAt, unreadable.rejectedAt])
        #expect(stored.map(\.code) == ["badSignature", "badSignature"])
        #expect(stored.map(\.reason) == [readable.reason, unreadable.reason])
        #expect(try ledger.counts().rejected == 2)
        #expect(try ledger.counts().issued == 0)
    }

    @Test func mixedWritesApplyInOrderInOneTransaction() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let record = Fixtures.issuance(1)
        let before = ledger.transactionsCommitted
        try ledger.apply([
            .issued(record),
            .published(serial: record.serial, at: Fixtures.issuedAt),
            .rejected(Fixtures.rejection(1)),
        ])
        #expect(ledger.transactionsCommitted == before + 1)
        #expect(try ledger.unpublished().isEmpty)
        #expect(try ledger.counts().issued == 1)
        #expect(try ledger.counts().rejected == 1)
    }
}
