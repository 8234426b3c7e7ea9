import Foundation
import Ledger

/// The certificates of the ledger as an operator asks about them: each with its status now
/// (valid, revoked, expired), its revocation, and the earlier certificates of the same inbox
/// name it supersedes (a renewal: an appliance that uploaded a new request under its old
/// name while its previous certificate was still valid).
struct CertificateInventory {
    enum Status: String, CaseIterable, Sendable {
        case valid, revoked, expired
    }

    struct Entry {
        let record: IssuanceRecord
        let status: Status
        let revocation: RevocationRecord?
        /// Serials of earlier certificates from the same inbox name that were still valid
        /// (neither expired nor revoked) when this one was issued.
        let supersedes: [String]
    }

    let entries: [Entry]

    init(records: [IssuanceRecord], revocations: [String: RevocationRecord], now: Date) {
        var earlierBySource: [String: [IssuanceRecord]] = [:]
        var entries: [Entry] = []
        entries.reserveCapacity(records.count)
        for record in records {  // oldest first
            let revocation = revocations[record.serial]
            let status: Status = revocation != nil ? .revoked : record.notAfter < now ? .expired : .valid
            let supersedes = (earlierBySource[record.sourceFile] ?? []).filter { earlier in
                earlier.notAfter > record.issuedAt
                    && (revocations[earlier.serial].map { $0.revokedAt > record.issuedAt } ?? true)
            }.map(\.serial)
            entries.append(Entry(record: record, status: status, revocation: revocation, supersedes: supersedes))
            earlierBySource[record.sourceFile, default: []].append(record)
        }
        self.entries = entries
    }
}
