import Foundation
import GRDB
import Testing
@testable import Ledger

/// Every row says which profile's inbox its input came through (migration `v4-profiles`),
/// and the crash-recovery look-up keeps profiles apart.
@Suite("Profiles in the ledger")
struct LedgerProfileTests {
    @Test func rowsKeepTheirProfile() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var printer = Fixtures.issuance(1)
        printer.profile = "printers"
        var rejected = Fixtures.rejection(1)
        rejected.profile = "cameras"
        try ledger.recordIssued([printer, Fixtures.issuance(2)])
        try ledger.recordRejected([rejected])

        let read = try Ledger(directory: directory.path, access: .readOnly)
        #expect(try read.issued().map(\.profile) == ["printers", "default"])
        #expect(try read.issuance(serial: printer.serial)?.profile == "printers")
        #expect(try read.rejections().map(\.profile) == ["cameras"])
    }

    /// The same request under the same name in two profiles' inboxes is two appliances:
    /// one's unpublished certificate is never handed to the other.
    @Test func unpublishedIssuanceIsLookedUpInItsOwnProfile() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var printer = Fixtures.issuance(1, sourceFile: "device.csr", digest: Fixtures.digest(9))
        printer.profile = "printers"
        try ledger.recordIssued([printer])

        #expect(try ledger.unpublishedIssuance(profile: "printers", sourceFile: "device.csr", csrSHA256: Fixtures.digest(9)) == printer)
        #expect(try ledger.unpublishedIssuance(sourceFile: "device.csr", csrSHA256: Fixtures.digest(9)) == nil)
        #expect(try ledger.unpublishedIssuance(profile: "cameras", sourceFile: "device.csr", csrSHA256: Fixtures.digest(9)) == nil)
        // Also from the file, as after a restart.
        try ledger.close()
        let reopened = try Ledger(directory: directory.path)
        #expect(try reopened.unpublishedIssuance(profile: "printers", sourceFile: "device.csr", csrSHA256: Fixtures.digest(9)) == printer)
        #expect(try reopened.unpublishedIssuance(sourceFile: "device.csr", csrSHA256: Fixtures.digest(9)) == nil)
    }

    /// A ledger from before profiles (a backup, a file kept aside) reads read-only as the
    /// default profile's, and a read-write open gives its rows that profile.
    @Test func aLedgerFromBeforeProfilesIsTheDefaultProfiles() throws {
        let directory = try TemporaryDirectory()
        do {
            let queue = try DatabaseQueue(path: directory.ledgerPath)
            try LedgerSchema.migrator.migrate(queue, upTo: "v3-identity")
            try queue.write { db in
                try db.execute(sql: """
                    INSERT INTO issuance (serial, subject, sans, not_before, not_after, issued_at, source_file, csr_sha256, certificate)
                    VALUES ('7f01', 'CN=old', '[]', '2025-03-01T12:00:00Z', '2026-03-01T12:00:00Z', '2025-03-01T12:00:00Z', 'old.csr', ?, x'3082')
                    """, arguments: [Fixtures.digest(1)])
                try db.execute(sql: """
                    INSERT INTO rejection (source_file, code, reason, rejected_at)
                    VALUES ('bad.csr', 'badSignature', 'no', '2025-03-01T12:00:00Z')
                    """)
            }
            try queue.close()
        }
        do {
            let old = try Ledger(directory: directory.path, access: .readOnly)
            #expect(try old.issued().map(\.profile) == ["default"])
            #expect(try old.rejections().map(\.profile) == ["default"])
        }
        let ledger = try Ledger(directory: directory.path)
        #expect(try ledger.unpublishedIssuance(sourceFile: "old.csr", csrSHA256: Fixtures.digest(1))?.serial == "7f01")
        #expect(try ledger.issued().map(\.profile) == ["default"])
    }
}
