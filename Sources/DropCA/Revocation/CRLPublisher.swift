import Foundation
import Issuance
import Ledger
import Spool
import Synchronization

/// The daemon's revocation thread. With `crl.directory` set it signs and publishes a CRL at
/// start, within a second of every revocation, and at least every `crl.refresh_hours`,
/// revocations or not, so that the published CRL never reaches its nextUpdate while dropca
/// runs. A CRL that cannot be made or written (a full disk, a folder gone or not creatable)
/// is logged and tried again every minute, the folder opened afresh; issuance never waits
/// for it. Without a CRL it still logs every revocation. Either way it logs, once a day, how
/// many certificates expire within 30 days and whether the CA itself expires soon.
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
    /// For STATUS=: the CRL in place.
    private let published = Mutex<CRLRecord?>(nil)

    /// What one turn leaves for the next. Only the thread touches it; the `Mutex` is never
    /// contended and only hands the state over to the thread checked.
    private struct Progress {
        var folder: PublicationFolder?
        /// What the last published CRL was; nil until read (a failed read is retried, never
        /// taken for "no CRL yet", which would log every revocation again).
        var previous: CRLRecord?? = nil
        /// Without a CRL: revocations up to here are logged.
        var loggedThrough: Int64?
        var retryAt: Date?
        var mustPublish = true  // at start
        var nextDaily = Date()
    }

    private let settings: Configuration.CRLSettings
    private let ledger: Ledger
    private let issuer: @Sendable () -> Issuer
    private let log: DaemonLog
    private let progress = Mutex(Progress())
    private let thread = PeriodicThread(name: "dropca-crl")

    /// How often the ledger is asked whether something was revoked meanwhile.
    static let pollInterval: TimeInterval = 1
    /// After a failed publication.
    static let retryInterval: TimeInterval = 60
    /// The expiry summary.
    static let dailyInterval: TimeInterval = 86_400

    init(settings: Configuration.CRLSettings, ledger: Ledger, issuer: @escaping @Sendable () -> Issuer, log: DaemonLog) {
        self.settings = settings
        self.ledger = ledger
        self.issuer = issuer
        self.log = log
    }

    /// Starts the thread; the first CRL is published at once.
    func start() {
        thread.start { [self] woken in
            progress.withLock { turn(&$0, woken: woken) }
        }
    }

    /// Look now (a revocation was recorded, or the CA was reloaded).
    func wake() {
        thread.wake()
    }

    /// Ends the thread after the publication in progress, if any.
    func stop() {
        thread.stop()
    }

    /// The number and nextUpdate of the CRL last published; nil before the first.
    var lastPublished: (number: Int64, nextUpdate: Date)? {
        published.withLock { $0 }.map { ($0.number, $0.nextUpdate) }
    }

    /// `CRL 12, next update 2026-12-08T10:00:00Z`, or nil before the first.
    var statusLine: String? {
        published.withLock { $0 }.map { "CRL \($0.number), next update \(LedgerTimeText.format($0.nextUpdate))" }
    }

    /// One look: publish when something asks for it, then say how long until the next look
    /// (the next poll, refresh or retry, whichever is first).
    private func turn(_ progress: inout Progress, woken: Bool) -> TimeInterval {
        let now = Date()
        if now >= progress.nextDaily {
            dailySummary(now: now)
            progress.nextDaily = now.addingTimeInterval(Self.dailyInterval)
        }
        guard let directory = settings.directory else {
            logRevocationsWithoutCRL(loggedThrough: &progress.loggedThrough)
            return Self.pollInterval
        }

        if woken { progress.mustPublish = true }
        if case .some(let last?) = progress.previous {
            if let newest = try? ledger.lastRevocationID(), newest > last.revocationsThrough { progress.mustPublish = true }
            if now >= refreshDue(last) { progress.mustPublish = true }
        }
        let retryDue = progress.retryAt.map { now >= $0 } ?? true
        if progress.mustPublish && (retryDue || woken) {
            do {
                let known: CRLRecord?
                if case .some(let last) = progress.previous {
                    known = last
                } else {
                    known = try ledger.lastPublishedCRL()
                    progress.previous = .some(known)
                }
                let target: PublicationFolder
                if let folder = progress.folder, folder.isStillAtPath {
                    target = folder
                } else {
                    // First time, after a failure, or the path now names another folder.
                    target = try PublicationFolder(path: directory)
                    _ = try? target.removeStaleTemporaries()
                    progress.folder = target
                }
                let record = try publish(after: known, into: target)
                progress.previous = .some(record)
                published.withLock { $0 = record }
                progress.mustPublish = false
                progress.retryAt = nil
            } catch {
                log.crlPublishFailed("\(error)")
                progress.retryAt = Date().addingTimeInterval(Self.retryInterval)
                // The folder may be gone or replaced: open it by its path next time.
                progress.folder = nil
            }
        }

        // The next poll or the next refresh, whichever is first. A refresh already due is
        // published above unless a failure set a retry time; then the polls wait for it.
        var deadline = Date().addingTimeInterval(Self.pollInterval)
        if case .some(let last?) = progress.previous, progress.retryAt == nil {
            deadline = min(deadline, max(Date(), refreshDue(last)))
        }
        return deadline.timeIntervalSinceNow
    }

    private func refreshDue(_ crl: CRLRecord) -> Date {
        crl.thisUpdate.addingTimeInterval(settings.refreshHours * 3600)
    }

    /// One CRL: entries from the ledger, a new number, signed, put in place, marked.
    private func publish(after previous: CRLRecord?, into folder: PublicationFolder) throws -> CRLRecord {
        let through = try ledger.lastRevocationID()
        let previousThrough = previous?.revocationsThrough ?? 0
        let rows = try ledger.crlEntries(droppingExpiredBefore: previous?.thisUpdate, unlessRevokedAfter: previousThrough)
        // Read before the number is taken: a failure here retries the whole publication
        // rather than losing the journal records.
        let newlyListed = try ledger.revocations(after: previousThrough)
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
        for (revocation, subject) in newlyListed where revocation.id <= listedThrough {
            log.revoked(serial: revocation.serial, subject: subject, reason: revocation.reason, uid: revocation.revokedByUID)
        }
        log.crlPublished(number: record.number, entries: rows.count, nextUpdate: nextUpdate, directory: folder.path)
        var published = record
        published.publishedAt = Date()
        return published
    }

    /// With no CRL to carry them, revocations are logged as the ledger shows them; those made
    /// before this start were logged by the instance that saw them (or by nobody, if no
    /// daemon ran between the revocation and a configuration without a CRL).
    private func logRevocationsWithoutCRL(loggedThrough: inout Int64?) {
        guard let newest = try? ledger.lastRevocationID() else { return }
        guard let through = loggedThrough else {
            loggedThrough = newest
            return
        }
        guard newest > through, let fresh = try? ledger.revocations(after: through) else { return }
        for (revocation, subject) in fresh {
            log.revoked(serial: revocation.serial, subject: subject, reason: revocation.reason, uid: revocation.revokedByUID)
        }
        loggedThrough = fresh.map(\.revocation.id).max() ?? newest
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
