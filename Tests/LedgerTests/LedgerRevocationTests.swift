import Foundation
import Testing
@testable import Ledger

@Suite("Revocations and CRL numbers")
struct LedgerRevocationTests {
    static let at = Fixtures.issuedAt.addingTimeInterval(86_400)

    @Test func revokingRecordsEachOnceAndSaysWhatWasAlreadyRevoked() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued((1...3).map { Fixtures.issuance($0) })

        // Colons and capitals as people type them.
        let typed = Fixtures.serial(1).uppercased().enumerated().map { $0.offset % 2 == 1 && $0.offset < 31 ? "\($0.element):" : "\($0.element)" }.joined()
        let first = try ledger.revoke([typed, Fixtures.serial(2)], reason: "keyCompromise", at: Self.at, byUID: 0)
        guard case .revoked(let one, let revocation) = first[0], case .revoked(_, let second) = first[1] else {
            Issue.record("expected two revocations, got \(first)")
            return
        }
        #expect(one.serial == Fixtures.serial(1))
        #expect(revocation.id < second.id)
        #expect(revocation.reason == "keyCompromise" && revocation.revokedByUID == 0 && revocation.revokedAt == Self.at)

        let again = try ledger.revoke([Fixtures.serial(2)], reason: "superseded", at: Self.at.addingTimeInterval(60), byUID: 1000)
        guard case .alreadyRevoked(_, let kept) = again.first else {
            Issue.record("expected alreadyRevoked, got \(again)")
            return
        }
        #expect(kept.reason == "keyCompromise", "a second revocation changes nothing")
        #expect(try ledger.lastRevocationID() == second.id)
        #expect(try ledger.revocations().count == 2)
    }

    @Test func anUnknownOrExpiredSerialRevokesNothingAtAll() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        try ledger.recordIssued([Fixtures.issuance(1), Fixtures.issuance(2)])
        let afterExpiry = Fixtures.issuedAt.addingTimeInterval(400 * 86_400)

        let unknown = try ledger.revoke([Fixtures.serial(1), "abcdef"], reason: "unspecified", at: Self.at, byUID: nil)
        #expect(unknown.contains(.unknown("abcdef")))
        let expired = try ledger.revoke([Fixtures.serial(2)], reason: "unspecified", at: afterExpiry, byUID: nil)
        guard case .expired = expired.first else {
            Issue.record("expected expired, got \(expired)")
            return
        }
        #expect(try ledger.revocations().isEmpty, "nothing is half-done")
        #expect(try ledger.lastRevocationID() == 0)
    }

    /// RFC 5280 5.1.2.6: an expired certificate may leave the CRL once one CRL made after its
    /// notAfter listed it. The daemon asks with the thisUpdate of the last published CRL.
    @Test func anExpiredEntryLeavesTheCRLAfterOneCRLListedItPastItsExpiry() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var shortLived = Fixtures.issuance(1)
        shortLived.notAfter = Self.at.addingTimeInterval(3600)
        try ledger.recordIssued([shortLived, Fixtures.issuance(2)])
        _ = try ledger.revoke([Fixtures.serial(1), Fixtures.serial(2)], reason: "unspecified", at: Self.at, byUID: nil)

        // A CRL made before the expiry, then one made after it, must both list it.
        #expect(try ledger.crlEntries(droppingExpiredBefore: nil).count == 2)
        #expect(try ledger.crlEntries(droppingExpiredBefore: Self.at).count == 2)
        // The next CRL follows one whose thisUpdate was after the expiry (and which listed
        // both revocations): it goes.
        let later = Self.at.addingTimeInterval(7200)
        let listed = try ledger.lastRevocationID()
        #expect(try ledger.crlEntries(droppingExpiredBefore: later, unlessRevokedAfter: listed).map(\.serial) == [Fixtures.serial(2)])
    }

    /// A revocation made after the last CRL was read is listed once even when its
    /// certificate expired before that CRL's thisUpdate: it was in no CRL yet.
    @Test func aRevocationNoCRLListedYetIsListedWhateverItsExpiry() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var shortLived = Fixtures.issuance(1)
        shortLived.notAfter = Self.at.addingTimeInterval(60)
        try ledger.recordIssued([shortLived])
        _ = try ledger.revoke([Fixtures.serial(1)], reason: "unspecified", at: Self.at, byUID: nil)
        let id = try ledger.lastRevocationID()
        let afterExpiry = Self.at.addingTimeInterval(120)
        #expect(try ledger.crlEntries(droppingExpiredBefore: afterExpiry, unlessRevokedAfter: id - 1).count == 1)
        #expect(try ledger.crlEntries(droppingExpiredBefore: afterExpiry, unlessRevokedAfter: id).isEmpty)
    }

    @Test func crlNumbersAreNeverReusedAndOnlyPublishedOnesCount() throws {
        let directory = try TemporaryDirectory()
        do {
            let ledger = try Ledger(directory: directory.path)
            let first = try ledger.allocateCRL(thisUpdate: Self.at, nextUpdate: Self.at.addingTimeInterval(3600), entries: 0, revocationsThrough: 0)
            try ledger.markCRLPublished(number: first.number, at: Self.at)
            // Taken, never published (a crash or a full disk in between).
            let burnt = try ledger.allocateCRL(thisUpdate: Self.at, nextUpdate: Self.at.addingTimeInterval(3600), entries: 0, revocationsThrough: 0)
            #expect(burnt.number == first.number + 1)
            #expect(try ledger.lastPublishedCRL()?.number == first.number)
            try ledger.close()
        }
        let reopened = try Ledger(directory: directory.path)
        let next = try reopened.allocateCRL(thisUpdate: Self.at, nextUpdate: Self.at.addingTimeInterval(3600), entries: 3, revocationsThrough: 9)
        #expect(next.number == 3)
        try reopened.markCRLPublished(number: next.number, at: Self.at)
        let last = try #require(try reopened.lastPublishedCRL())
        #expect(last.number == 3 && last.entries == 3 && last.revocationsThrough == 9)
    }

    @Test func unexpiredSerialsOfASourceLeaveOutExpiredOnes() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var old = Fixtures.issuance(1, sourceFile: "fw.csr", digest: Fixtures.digest(1))
        old.notAfter = Self.at.addingTimeInterval(-1)
        let revoked = Fixtures.issuance(2, sourceFile: "fw.csr", digest: Fixtures.digest(2))
        let current = Fixtures.issuance(3, sourceFile: "fw.csr", digest: Fixtures.digest(3))
        let other = Fixtures.issuance(4, sourceFile: "printer.csr")
        try ledger.recordIssued([old, revoked, current, other])
        _ = try ledger.revoke([revoked.serial], reason: "superseded", at: Self.at, byUID: nil)
        #expect(try ledger.unexpiredSerials(sourceFile: "fw.csr", at: Self.at) == [revoked.serial, current.serial])
    }
}

@Suite("Ledger times")
struct LedgerTimeTests {
    /// The fast reader agrees with Foundation's ISO 8601 parser on the ledger's own form,
    /// across leap years, month ends, the 2038 and 2050 boundaries.
    @Test(arguments: [0, 951_782_400, 951_868_799, 1_740_830_400, 2_147_483_647, 2_147_483_648, 2_524_608_000, 4_102_444_799, 253_402_300_799])
    func theFastReaderAgreesWithFoundation(seconds: Int) {
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        let text = LedgerTime.text(date)
        #expect(LedgerTime.fastDate(text) == date, "\(text)")
        #expect(LedgerTime.fastDate(text) == (try? Date.ISO8601FormatStyle(timeZone: .gmt).parse(text)))
    }

    @Test(arguments: ["2025-03-01 12:00:00", "2025-13-01T12:00:00Z", "2025-03-01T12:00:00.5Z", "x"])
    func otherFormsAreLeftToFoundation(text: String) {
        #expect(LedgerTime.fastDate(text) == nil)
    }
}
