import Foundation

/// How many certificates the outbox holds: `STEM.cer` files, not the hidden temporaries the
/// outbox stages them in. Only asked when the ledger is missing or empty
/// (``LedgerAdmission``): certificates with no ledger to record them mean a ledger was lost.
enum OutboxCensus {
    /// Nil when the folder cannot be listed (the daemon refuses such an outbox anyway;
    /// `check-config` says so on its own line).
    static func certificates(in outbox: String) -> Int? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: outbox) else { return nil }
        return names.count { !$0.hasPrefix(".") && $0.hasSuffix(".cer") }
    }
}
