import Foundation
import Ledger

/// The certificates of the ledger as an operator asks about them: each with its status now
/// (valid, revoked, expired), its revocation, and the earlier certificates of the same inbox
/// name it supersedes (a renewal: an appliance that uploaded a new request under its old
/// name while its previous certificate was still valid). The same name in another
/// profile's inbox is another appliance: never superseded by this one.
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

    /// An inbox name in one profile's inbox.
    private struct Source: Hashable {
        let profile: String
        let name: String
    }

    init(records: [IssuanceRecord], revocations: [String: RevocationRecord], now: Date) {
        var earlierBySource: [Source: [IssuanceRecord]] = [:]
        var entries: [Entry] = []
        entries.reserveCapacity(records.count)
        for record in records {  // oldest first
            let revocation = revocations[record.serial]
            let status: Status = revocation != nil ? .revoked : record.notAfter < now ? .expired : .valid
            let source = Source(profile: record.profile, name: record.sourceFile)
            let supersedes = (earlierBySource[source] ?? []).filter { earlier in
                earlier.notAfter > record.issuedAt
                    && (revocations[earlier.serial].map { $0.revokedAt > record.issuedAt } ?? true)
            }.map(\.serial)
            entries.append(Entry(record: record, status: status, revocation: revocation, supersedes: supersedes))
            earlierBySource[source, default: []].append(record)
        }
        self.entries = entries
    }
}
