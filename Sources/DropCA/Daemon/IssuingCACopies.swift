import Issuance
import Spool
import Synchronization

/// The CA certificate every outbox holds for its appliances (``Outbox/issuingCAName``):
/// written at start and after a reload that brings another CA, and — for an outbox that
/// could not take it then (full, read-only) — again after each batch, and while idle
/// after a back-off (1 s doubling to 5 min: an append-only outbox keeps the temporary of
/// every try), until it can. One line when a profile's copy cannot be written, one when it
/// is written after all, as for any other failing write.
///
/// Writes are serialised, and a retry writes the CA in force when it writes (read under
/// the same lock): a retry that overlapped a reload can never leave the old CA's copy.
final class IssuingCACopies: Sendable {
    private struct State {
        /// Profiles (``ProfileSpool/index``) whose outbox does not hold the CA in force yet.
        var pending: Set<Int> = []
        var nextIdleTry = ContinuousClock.now
        var idleBackoff: Duration = .seconds(1)
    }

    private let spools: [ProfileSpool]
    private let log: DaemonLog
    private let state = Mutex(State())
    /// Held while a copy is written; guards no data of its own.
    private let writing = Mutex(())

    static let longestIdleBackoff: Duration = .seconds(300)

    init(spools: [ProfileSpool], log: DaemonLog) {
        self.spools = spools
        self.log = log
    }

    /// Puts `authority`'s certificate in every outbox.
    func publish(_ authority: CertificateAuthority) {
        writing.withLock { _ in
            let failed = Set(spools.filter { !write(authority, to: $0, retrying: false) }.map(\.index))
            state.withLock { state in
                state.pending = failed
                state.idleBackoff = .seconds(1)
                state.nextIdleTry = ContinuousClock.now + state.idleBackoff
            }
        }
    }

    /// Tries again where an earlier write failed, with the CA `current()` says is in force
    /// then; cheap when none did (one lock). `idle`: the publisher had nothing to do, and
    /// tries only once the back-off has passed.
    func retry(idle: Bool = false, _ current: () -> CertificateAuthority) {
        let due = state.withLock { state -> Bool in
            guard !state.pending.isEmpty else { return false }
            return !idle || ContinuousClock.now >= state.nextIdleTry
        }
        guard due else { return }
        writing.withLock { _ in
            let waiting = state.withLock { $0.pending }
            let authority = current()
            let written = Set(waiting.filter { write(authority, to: spools[$0], retrying: true) })
            state.withLock { state in
                state.pending.subtract(written)
                if idle && !state.pending.isEmpty {
                    state.idleBackoff = min(state.idleBackoff * 2, Self.longestIdleBackoff)
                }
                state.nextIdleTry = ContinuousClock.now + state.idleBackoff
            }
        }
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
