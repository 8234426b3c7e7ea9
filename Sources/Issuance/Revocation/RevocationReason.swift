/// Why a certificate was revoked: the CRLReason values of RFC 5280 5.3.1 that an operator
/// of an appliance CA has a use for, by their RFC names (the raw values).
///
/// Left out: `cACompromise` and `aACompromise` (this CA revokes leaves, not itself),
/// `certificateHold`/`removeFromCRL` (a hold cannot be undone cleanly by a CRL that also
/// drops expired entries), and value 7, which is unassigned.
public enum RevocationReason: String, Sendable, CaseIterable {
    case unspecified
    case keyCompromise
    case affiliationChanged
    case superseded
    case cessationOfOperation
    case privilegeWithdrawn

    /// The CRLReason ENUMERATED value.
    public var code: UInt8 {
        switch self {
        case .unspecified: 0
        case .keyCompromise: 1
        case .affiliationChanged: 3
        case .superseded: 4
        case .cessationOfOperation: 5
        case .privilegeWithdrawn: 9
        }
    }
}
