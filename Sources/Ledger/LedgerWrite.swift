import Foundation

/// One change a worker hands to ``LedgerWriter``; a batch of them becomes one transaction.
public enum LedgerWrite: Sendable, Hashable {
    /// A certificate was signed; it must be in the ledger before it is published.
    case issued(IssuanceRecord)
    /// A certificate reached the outbox.
    case published(serial: String, at: Date)
    /// An input was refused.
    case rejected(RejectionRecord)
}
