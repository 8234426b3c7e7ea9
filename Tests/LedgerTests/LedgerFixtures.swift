import Foundation
@testable import Ledger

/// A folder of its own for each test, removed when the test lets go of it.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("ledger-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    var ledgerPath: String { (path as NSString).appendingPathComponent(Ledger.fileName) }
}

enum Fixtures {
    /// A whole-second time, since the ledger keeps whole seconds.
    static let issuedAt = Date(timeIntervalSince1970: 1_740_830_400)  // 2025-03-01T12:00:00Z

    static func digest(_ seed: Int) -> String {
        String(format: "%064x", seed)
    }

    static func serial(_ number: Int) -> String {
        String(format: "7f%030x", number)
    }

    static func issuance(
        _ number: Int,
        sourceFile: String? = nil,
        digest: String? = nil,
        issuedAt: Date = Fixtures.issuedAt
    ) -> IssuanceRecord {
        IssuanceRecord(
            serial: serial(number),
            subject: "CN=device-\(number),O=Example",
            sans: ["DNS:device-\(number).example.com", "IP:192.0.2.\(number % 250)"],
            notBefore: issuedAt.addingTimeInterval(-3600),
            notAfter: issuedAt.addingTimeInterval(365 * 86400),
            issuedAt: issuedAt,
            sourceFile: sourceFile ?? "device-\(number).csr",
            csrSHA256: digest ?? Fixtures.digest(number),
            certificate: Data([0x30, 0x82, UInt8(number & 0xff), UInt8((number >> 8) & 0xff)])
        )
    }

    static func rejection(_ number: Int, digest: String? = nil) -> RejectionRecord {
        RejectionRecord(
            sourceFile: "bad-\(number).csr",
            csrSHA256: digest,
            code: "badSignature",
            reason: "the request's self-signature does not verify",
            rejectedAt: issuedAt.addingTimeInterval(Double(number))
        )
    }
}
