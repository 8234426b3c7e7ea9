import Foundation
import Ledger

/// How `dropca list` and `dropca show` print ledger records.
public enum LedgerPresentation {
    private static func timestamp(_ date: Date) -> String { date.formatted(.iso8601) }

    /// One object per certificate with the keys the README promises scripts (`dropca list --json`).
    public static func json(_ records: [IssuanceRecord]) -> String {
        // JSONSerialization pretty-prints an empty array over three lines; `[]` is what a
        // reader expects, ledger or no ledger.
        if records.isEmpty { return "[]" }
        let objects: [[String: Any]] = records.map { record in
            var object: [String: Any] = [
                "serial": record.serial,
                "subject": record.subject,
                "sans": record.sans,
                "not_before": timestamp(record.notBefore),
                "not_after": timestamp(record.notAfter),
                "source_file": record.sourceFile,
                "csr_sha256": record.csrSHA256,
                "issued_at": timestamp(record.issuedAt),
            ]
            object["published_at"] = record.publishedAt.map(timestamp) ?? NSNull()
            return object
        }
        guard let data = try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys]) else {
            return "[]"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `SERIAL  NOT_AFTER  SOURCE_FILE  SUBJECT-or-SANs`
    public static func line(_ record: IssuanceRecord) -> String {
        let who = record.subject.isEmpty ? record.sans.joined(separator: ",") : record.subject
        return "\(record.serial)  \(timestamp(record.notAfter))  \(record.sourceFile)  \(who)"
    }

    public static func summary(_ record: IssuanceRecord) -> String {
        """
        serial:      \(record.serial)
        subject:     \(record.subject.isEmpty ? "(empty)" : record.subject)
        SANs:        \(record.sans.isEmpty ? "(none)" : record.sans.joined(separator: ", "))
        not before:  \(timestamp(record.notBefore))
        not after:   \(timestamp(record.notAfter))
        source file: \(record.sourceFile)
        CSR SHA-256: \(record.csrSHA256)
        issued at:   \(timestamp(record.issuedAt))
        published:   \(record.publishedAt.map(timestamp) ?? "not yet")
        """
    }

    public static func pem(_ der: Data) -> String {
        let base64 = der.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
    }
}
