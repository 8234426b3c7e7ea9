import Foundation
import Issuance

/// The issuer currently in force; SIGHUP swaps it while workers keep issuing.
/// `@unchecked Sendable`: `current` is only read and written under `lock`, and `Issuer`
/// itself is Sendable.
final class IssuerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Issuer

    init(_ issuer: Issuer) { current = issuer }

    var issuer: Issuer { lock.withLock { current } }

    func replace(with issuer: Issuer) { lock.withLock { current = issuer } }
}
