import Issuance
import Spool

/// Why an inbox entry ends in `failed/`: the spool refused it before parsing
/// (``SpoolRefusal``), or the issuance engine rejected the request (``Rejection``). The
/// publisher, the ledger and the journal treat both alike, through this one type.
enum Refusal: Sendable {
    case spool(SpoolRefusal)
    case request(Rejection)

    /// The stable code for the ledger and `DROPCA_REJECTION_CODE`.
    var code: String {
        switch self {
        case .spool(let refusal): refusal.code.rawValue
        case .request(let rejection): rejection.code.rawValue
        }
    }

    /// One line for the operator.
    var reason: String {
        switch self {
        case .spool(let refusal): refusal.reason
        case .request(let rejection): rejection.reason
        }
    }

    /// Further lines for the `.reason` file (OpenSSL's own words and the like).
    var details: [String] {
        switch self {
        case .spool: []
        case .request(let rejection): rejection.details
        }
    }
}
