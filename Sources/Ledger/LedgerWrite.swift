import Foundation

/// One change to the ledger; the daemon's publisher hands a batch of them to
/// ``Ledger/apply(_:)``, which makes them one transaction (group commit).
public enum LedgerWrite: Sendable, Hashable {
    /// A certificate was signed; it must be in the ledger before it is published.
    case issued(IssuanceRecord)
    /// A certificate reached the outbox.
    case published(serial: String, at: Date)
    /// An input was refused.
    case rejected(RejectionRecord)
}
