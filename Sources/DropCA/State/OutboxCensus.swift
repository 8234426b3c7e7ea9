import Foundation
import Issuance

/// How many certificates the outboxes hold: files named like one of the `outputs`
/// (`STEM.cer`, `STEM.pem`, `STEM.chain.pem`, `STEM.p7b`), not the hidden temporaries the
/// outbox stages them in nor its hidden copy of the CA certificate. Only asked when the
/// ledger is missing or empty (``LedgerAdmission``): certificates with no ledger to record
/// them mean a ledger was lost, in whichever profile's outbox they are.
enum OutboxCensus {
    /// Nil when the folder cannot be listed (the daemon refuses such an outbox anyway;
    /// `check-config` says so on its own line).
    static func certificates(in outbox: String) -> Int? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: outbox) else { return nil }
        let suffixes = OutputFormat.allCases.map(\.fileSuffix)
        return names.count { name in !name.hasPrefix(".") && suffixes.contains { name.hasSuffix($0) } }
    }
}
