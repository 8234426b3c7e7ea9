import Issuance
import Synchronization

/// The issuer currently in force; SIGHUP swaps it while workers keep issuing.
final class IssuerBox: Sendable {
    private let current: Mutex<Issuer>

    init(_ issuer: Issuer) { current = Mutex(issuer) }

    var issuer: Issuer { current.withLock { $0 } }

    func replace(with issuer: Issuer) { current.withLock { $0 = issuer } }
}
