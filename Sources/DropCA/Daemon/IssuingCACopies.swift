import Issuance
import Spool
import Synchronization

/// The CA certificate every outbox holds for its appliances (``Outbox/issuingCAName``):
/// written at start and after a reload that brings another CA, and — for an outbox that
/// could not take it then (full, read-only) — again after each batch, and every second
/// while idle, until it can. One
/// line when a profile's copy cannot be written, one when it is written after all, as for
/// any other failing write.
final class IssuingCACopies: Sendable {
    private let spools: [ProfileSpool]
    private let log: DaemonLog
    /// Profiles (``ProfileSpool/index``) whose outbox does not hold the CA in force yet.
    private let pending = Mutex<Set<Int>>([])

    init(spools: [ProfileSpool], log: DaemonLog) {
        self.spools = spools
        self.log = log
    }

    /// Puts `authority`'s certificate in every outbox.
    func publish(_ authority: CertificateAuthority) {
        let failed = Set(spools.filter { !write(authority, to: $0, retrying: false) }.map(\.index))
        pending.withLock { $0 = failed }
    }

    /// Tries again where an earlier write failed; cheap when none did (one lock).
    func retry(_ authority: CertificateAuthority) {
        let waiting = pending.withLock { $0 }
        guard !waiting.isEmpty else { return }
        let written = Set(waiting.filter { write(authority, to: spools[$0], retrying: true) })
        pending.withLock { $0.subtract(written) }
    }

    private func write(_ authority: CertificateAuthority, to spool: ProfileSpool, retrying: Bool) -> Bool {
        do {
            try spool.outbox.publishIssuingCA(authority.certificateDER)
            if retrying { log.recovered("the CA certificate is in the outbox\(spool.qualifier) as \(Outbox.issuingCAName) now") }
            return true
        } catch {
            if !retrying {
                log.failure("cannot put the CA certificate in the outbox\(spool.qualifier) as \(Outbox.issuingCAName): \(error); trying again until it can")
            }
            return false
        }
    }
}
