import Foundation

/// A revoked certificate, as the ledger keeps it.
public struct RevocationRecord: Sendable, Hashable {
    /// Orders revocations: every CRL says up to which id it lists them.
    public var id: Int64
    /// Lowercase hexadecimal, as in ``IssuanceRecord/serial``.
    public var serial: String
    public var revokedAt: Date
    /// The RFC 5280 5.3.1 reason name (`keyCompromise`, …); the ledger does not judge it.
    public var reason: String
    /// The user who ran `dropca revoke`, nil when unknown.
    public var revokedByUID: UInt32?

    public init(id: Int64, serial: String, revokedAt: Date, reason: String, revokedByUID: UInt32?) {
        self.id = id
        self.serial = serial
        self.revokedAt = revokedAt
        self.reason = reason
        self.revokedByUID = revokedByUID
    }
}

/// What one CRL number was used for.
public struct CRLRecord: Sendable, Hashable {
    public var number: Int64
    public var thisUpdate: Date
    public var nextUpdate: Date
    public var entries: Int
    /// The highest ``RevocationRecord/id`` this CRL lists (0 when none was ever revoked).
    public var revocationsThrough: Int64
    /// When the CRL file was in place; nil when it never was (a failed write).
    public var publishedAt: Date?
}

/// A revocation and the certificate it revokes, for the CRL.
public struct CRLEntry: Sendable, Hashable {
    public var serial: String
    public var revokedAt: Date
    public var reason: String
    public var revocationID: Int64
}

/// What ``Ledger/revoke(_:reason:at:byUID:)`` did with one serial.
public enum RevocationOutcome: Sendable, Hashable {
    /// Newly revoked.
    case revoked(IssuanceRecord, RevocationRecord)
    /// Revoked before; nothing changed.
    case alreadyRevoked(IssuanceRecord, RevocationRecord)
    /// No certificate with this serial.
    case unknown(String)
    /// The certificate expired before now: revoking it would change nothing a relying party sees.
    case expired(IssuanceRecord)
}
