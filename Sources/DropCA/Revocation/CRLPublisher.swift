import Foundation
import Issuance
import Ledger
import Spool
import Synchronization

/// The daemon's CRL thread: signs and publishes a CRL at start, within a second of every
/// revocation, and at least every `crl.refresh_hours`, revocations or not, so that the
/// published CRL never reaches its nextUpdate while dropca runs. A CRL that cannot be made
/// or written is logged and tried again every minute; issuance never waits for it.
///
/// How a revocation reaches it: `dropca revoke` records it in the ledger (its own process)
/// and sends SIGUSR1 (``wake()``); the thread also looks at the ledger's highest revocation
/// id every second, so a lost signal costs at most a second.
///
/// Order, for a CRL number that is never reused and a revocation that is never lost: the
/// number is taken in the ledger (durably) first, then the CRL is signed and put in place
/// (temporary, fsync, rename, folder fsync), then marked published. A crash in between
/// burns a number and leaves the previous CRL in place; the next start publishes anew.
final class CRLPublisher: Sendable {
    private struct State {
        var wakeRequested = false
        var stopRequested = false
        var sleepers = Sleepers.SleeperCount()
        /// For STATUS=: the CRL in place.
        var published: CRLRecord?
    }

    private let settings: Configuration.CRLSettings
    private let folder: PublicationFolder
    private let ledger: Ledger
    private let issuer: @Sendable () -> Issuer
    private let log: DaemonLog
    private let state = Mutex(State())
    private let sleepers = Sleepers()
    private let finished = DispatchGroup()

    /// How often the ledger is asked whether something was revoked meanwhile.
    static let pollInterval: TimeInterval = 1
    /// After a failed publication.
    static let retryInterval: TimeInterval = 60
    /// The expiry summary.
    static let dailyInterval: TimeInterval = 86_400

    init(settings: Configuration.CRLSettings, folder: PublicationFolder, ledger: Ledger,
         issuer: @escaping @Sendable () -> Issuer, log: DaemonLog) {
        self.settings = settings
        self.folder = folder
        self.ledger = ledger
        self.issuer = issuer
        self.log = log
    }

    /// Starts the thread; the first CRL is published at once.
    func start() {
        finished.enter()
        let thread = Thread { [self] in
            run()
            finished.leave()
        }
        thread.name = "dropca-crl"
        thread.start()
    }

    /// Publish now (a revocation was recorded, or the CA was reloaded).
    func wake() {
        let woken = state.withLock { state -> Int in
            state.wakeRequested = true
            return state.sleepers.leave()
        }
        sleepers.wake(woken)
    }

    /// Ends the thread after the publication in progress, if any.
    func stop() {
        let woken = state.withLock { state -> Int in
            state.stopRequested = true
            return state.sleepers.leave()
        }
        sleepers.wake(woken)
        finished.wait()
    }

    /// `CRL 12, next update 2026-12-08T10:00:00Z`, or nil before the first.
    var statusLine: String? {
        state.withLock { $0.published }.map { "CRL \($0.number), next update \(LedgerTimeText.format($0.nextUpdate))" }
    }

    private func run() {
        _ = try? folder.removeStaleTemporaries()
        var published = try? ledger.lastPublishedCRL()
        var retryAt: Date? = nil
        var mustPublish = true  // at start
        var nextDaily = Date()
        while true {
            let now = Date()
            if now >= nextDaily {
                dailySummary(now: now)
                nextDaily = now.addingTimeInterval(Self.dailyInterval)
            }
            let (stop, woken) = state.withLock { state -> (Bool, Bool) in
                defer { state.wakeRequested = false }
                return (state.stopRequested, state.wakeRequested)
            }
            if stop { return }
            if woken { mustPublish = true }
            if let published, let lastRevocation = try? ledger.lastRevocationID(), lastRevocation > published.revocationsThrough {
                mustPublish = true
            }
            if let published, now >= published.thisUpdate.addingTimeInterval(settings.refreshHours * 3600) {
                mustPublish = true
            }
            if let due = retryAt, now >= due { mustPublish = true }

            if mustPublish, retryAt.map({ now >= $0 }) ?? true || woken {
                do {
                    published = try publish(after: published)
                    state.withLock { $0.published = published }
                    mustPublish = false
                    retryAt = nil
                } catch {
                    log.crlPublishFailed("\(error)")
                    retryAt = Date().addingTimeInterval(Self.retryInterval)
                }
            }

            var deadline = Date().addingTimeInterval(Self.pollInterval)
            if let published {
                deadline = min(deadline, published.thisUpdate.addingTimeInterval(settings.refreshHours * 3600))
            }
            sleep(until: deadline)
        }
    }

    private func sleep(until deadline: Date) {
        let asleep = state.withLock { state -> Bool in
            guard !state.wakeRequested, !state.stopRequested else { return false }
            state.sleepers.enter()
            return true
        }
        guard asleep else { return }
        let seconds = max(0, deadline.timeIntervalSinceNow)
        sleepers.sleep(until: .now() + seconds) { state.withLock { $0.sleepers.withdraw() } }
    }

    /// One CRL: entries from the ledger, a new number, signed, put in place, marked.
    private func publish(after previous: CRLRecord?) throws -> CRLRecord {
        let through = try ledger.lastRevocationID()
        let rows = try ledger.crlEntries(droppingExpiredBefore: previous?.thisUpdate)
        let thisUpdate = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let nextUpdate = thisUpdate.addingTimeInterval((settings.validityHours * 3600).rounded(.up))
        let listedThrough = max(through, rows.map(\.revocationID).max() ?? 0)
        let record = try ledger.allocateCRL(thisUpdate: thisUpdate, nextUpdate: nextUpdate, entries: rows.count,
                                            revocationsThrough: listedThrough)
        let issuer = self.issuer()
        let entries = rows.map {
            RevokedEntry(serialHex: $0.serial, revocationDate: $0.revokedAt, reason: RevocationReason(rawValue: $0.reason) ?? .unspecified)
        }
        let der = try issuer.revocationList(number: UInt64(record.number), thisUpdate: thisUpdate, nextUpdate: nextUpdate, entries: entries)
        try folder.replace(Configuration.CRLSettings.crlFileName, with: der)
        try folder.replace(Configuration.CRLSettings.caCertificateFileName, with: issuer.authority.certificateDER)
        try ledger.markCRLPublished(number: record.number, at: Date())
        for (revocation, certificate) in (try? ledger.revocations(after: previous?.revocationsThrough ?? 0)) ?? []
            where revocation.id <= listedThrough {
            log.revoked(serial: revocation.serial, subject: certificate.subject, reason: revocation.reason, uid: revocation.revokedByUID)
        }
        log.crlPublished(number: record.number, entries: rows.count, nextUpdate: nextUpdate, directory: folder.path)
        var published = record
        published.publishedAt = Date()
        return published
    }

    private func dailySummary(now: Date) {
        if let count = try? ledger.countExpiring(before: now.addingTimeInterval(30 * 86_400), after: now) {
            log.certificatesExpiring(count)
        }
        let issuer = self.issuer()
        if issuer.authority.notAfter < now.addingTimeInterval(TimeInterval(issuer.profile.validityDays) * 86_400) {
            log.caExpiring(notAfter: issuer.authority.notAfter)
        }
    }
}

/// ISO 8601 UTC with whole seconds, as the journal lines write times.
enum LedgerTimeText {
    static func format(_ date: Date) -> String {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(.iso8601)
    }
}
