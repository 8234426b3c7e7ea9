import Foundation
import Ledger

/// How `dropca list` and `dropca show` print ledger records.
enum LedgerPresentation {
    private static func timestamp(_ date: Date) -> String { date.formatted(.iso8601) }

    /// One object per certificate with the keys the README promises scripts (`dropca list --json`).
    static func json(_ entries: [CertificateInventory.Entry]) -> String {
        // JSONSerialization pretty-prints an empty array over three lines; `[]` is what a
        // reader expects, ledger or no ledger.
        if entries.isEmpty { return "[]" }
        let objects: [[String: Any]] = entries.map { entry in
            let record = entry.record
            var object: [String: Any] = [
                "serial": record.serial,
                "subject": record.subject,
                "sans": record.sans,
                "not_before": timestamp(record.notBefore),
                "not_after": timestamp(record.notAfter),
                "source_file": record.sourceFile,
                "profile": record.profile,
                "csr_sha256": record.csrSHA256,
                "issued_at": timestamp(record.issuedAt),
                "status": entry.status.rawValue,
                "supersedes": entry.supersedes,
            ]
            object["published_at"] = record.publishedAt.map(timestamp) ?? NSNull()
            object["revoked_at"] = entry.revocation.map { timestamp($0.revokedAt) } ?? NSNull()
            object["revocation_reason"] = entry.revocation.map(\.reason) ?? NSNull()
            return object
        }
        guard let data = try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys]) else {
            return "[]"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `SERIAL  STATUS  NOT_AFTER  SOURCE_FILE  SUBJECT-or-SANs`; SOURCE_FILE is
    /// `PROFILE/NAME` for a named profile's input (a name never holds a `/`), and `NAME`
    /// alone for the default profile's, as before profiles.
    static func line(_ entry: CertificateInventory.Entry) -> String {
        let record = entry.record
        let who = record.subject.isEmpty ? record.sans.joined(separator: ",") : record.subject
        return "\(record.serial)  \(entry.status.rawValue)  \(timestamp(record.notAfter))  \(source(record))  \(who)"
    }

    static func source(_ record: IssuanceRecord) -> String {
        record.profile == Configuration.Profile.defaultName ? record.sourceFile : "\(record.profile)/\(record.sourceFile)"
    }

    static func summary(_ entry: CertificateInventory.Entry) -> String {
        let record = entry.record
        var text = """
        serial:      \(record.serial)
        status:      \(entry.status.rawValue)
        subject:     \(record.subject.isEmpty ? "(empty)" : record.subject)
        SANs:        \(record.sans.isEmpty ? "(none)" : record.sans.joined(separator: ", "))
        not before:  \(timestamp(record.notBefore))
        not after:   \(timestamp(record.notAfter))
        source file: \(record.sourceFile)
        profile:     \(record.profile)
        CSR SHA-256: \(record.csrSHA256)
        issued at:   \(timestamp(record.issuedAt))
        published:   \(record.publishedAt.map(timestamp) ?? "not yet")
        """
        if let revocation = entry.revocation {
            text += "\nrevoked at:  \(timestamp(revocation.revokedAt))"
            text += "\nreason:      \(revocation.reason)"
            text += "\nrevoked by:  \(revocation.revokedByUID.map { "uid \($0)" } ?? "unknown")"
        }
        if !entry.supersedes.isEmpty {
            text += "\nsupersedes:  \(entry.supersedes.joined(separator: ", "))"
        }
        return text
    }

    static func pem(_ der: Data) -> String {
        let base64 = der.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
    }
}
