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

    /// The reason as the reason file, the ledger and the journal give it for an input of
    /// profile `name`: a named profile is said, unless the reason names it already (the
    /// name rules' reasons do: "outside profile printers' names.dns"), so that an operator
    /// reading `failed/` or the journal knows whose rule refused it. The default profile's
    /// reasons read as they did before profiles.
    func reason(inProfile name: String) -> String {
        let reason = self.reason
        guard name != Configuration.Profile.defaultName, !reason.contains("profile \(name)") else { return reason }
        return "\(reason) (profile \(name))"
    }

    /// Further lines for the `.reason` file (OpenSSL's own words and the like).
    var details: [String] {
        switch self {
        case .spool: []
        case .request(let rejection): rejection.details
        }
    }
}
