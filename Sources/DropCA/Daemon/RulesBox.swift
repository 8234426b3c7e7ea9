import Issuance
import Synchronization

/// The ``IssuanceRules`` currently in force; SIGHUP swaps them while workers keep issuing,
/// and each worker reads them once per file, so a file is issued and encoded under one
/// set of rules.
final class RulesBox: Sendable {
    private let current: Mutex<IssuanceRules>

    init(_ rules: IssuanceRules) { current = Mutex(rules) }

    var rules: IssuanceRules { current.withLock { $0 } }

    /// The default profile's issuer (CRLs, the CA expiry warning, STATUS=).
    var issuer: Issuer { rules.defaultIssuer }

    func replace(with rules: IssuanceRules) { current.withLock { $0 = rules } }
}
