import Foundation
import Issuance
import Journal
import Ledger
import Logging

/// The daemon's journal vocabulary: one method per event kind, each with its MESSAGE_ID
/// and the DROPCA_* fields the README lists, so that every issued or rejected file is
/// one readable line in `journalctl -f` and one structured record in `journalctl -o json`.
struct DaemonLog: Sendable {
    let logger: Logger

    private static func timestamp(_ date: Date) -> String {
        StderrLogHandler.timestamp(time_t(date.timeIntervalSince1970.rounded(.down)))
    }

    private func log(_ event: DropCAEvent, _ message: String, _ metadata: Logger.Metadata = [:]) {
        logger.log(level: event.level, "\(message)", metadata: event.metadata(metadata))
    }

    /// The file as a line names it: `NAME` in the default profile (as before profiles),
    /// `NAME (profile P)` in another, since the same name may arrive in several inboxes.
    private static func named(_ file: String, profile: String) -> String {
        profile == Configuration.Profile.defaultName ? file : "\(file) (profile \(profile))"
    }

    /// One line per certificate. What the policy changed (Key Usage bits removed,
    /// extensions dropped, e-mail address added to the SAN) is part of that line and of its
    /// fields, since it is routine for appliances to ask for more than a leaf may have; a
    /// validity cut to the CA's notAfter gets a warning of its own, as the CA is near its end.
    /// Every record of an input carries `DROPCA_PROFILE`.
    func issued(file: String, profile: String = Configuration.Profile.defaultName, certificate: IssuedCertificate) {
        // Formatted once rather than at each of its two or three uses in the line.
        let notAfter = Self.timestamp(certificate.notAfter)
        var metadata: Logger.Metadata = [
            "file": "\(file)",
            "serial": "\(certificate.serialHex)",
            "subject": "\(certificate.subject)",
            "sans": .array(certificate.subjectAlternativeNames.map { .string($0) }),
            "not_after": "\(notAfter)",
            "csr_sha256": "\(certificate.csrSHA256)",
            "key": "\(certificate.keyDescription)",
            "profile": "\(profile)",
        ]
        var changes: [String] = []
        if !certificate.removedKeyUsages.isEmpty {
            metadata["removed_key_usages"] = .array(certificate.removedKeyUsages.map { .string($0) })
            changes.append("removed key usages \(certificate.removedKeyUsages.joined(separator: ", "))")
        }
        if !certificate.discardedExtensions.isEmpty {
            metadata["discarded_extensions"] = .array(certificate.discardedExtensions.map { .string($0) })
            changes.append("discarded extensions \(certificate.discardedExtensions.joined(separator: ", "))")
        }
        if certificate.subjectEmailAddedToSAN {
            changes.append("added the subject's e-mail address to the SAN")
        }
        if certificate.defaultExtendedKeyUsageApplied {
            changes.append("default extended key usage applied")
        }
        let who = certificate.subject.isEmpty ? certificate.subjectAlternativeNames.joined(separator: ", ") : certificate.subject
        var line = "issued \(Self.named(file, profile: profile)): serial \(certificate.serialHex) for \(who), \(certificate.keyDescription), valid until \(notAfter)"
        if !changes.isEmpty { line += "; " + changes.joined(separator: "; ") }
        log(.certificateIssued, line, metadata)
        if certificate.validityCutToCA {
            log(.validityCut, "\(Self.named(file, profile: profile)): validity of serial \(certificate.serialHex) cut to the CA certificate's notAfter \(notAfter); renew the CA", [
                "file": "\(file)", "serial": "\(certificate.serialHex)", "not_after": "\(notAfter)", "profile": "\(profile)",
            ])
        }
    }

    /// `reason` is the one the reason file and the ledger have (``Refusal/reason(inProfile:)``).
    func rejected(file: String, profile: String = Configuration.Profile.defaultName, reason: String, code: String, csrSHA256: String?) {
        var metadata: Logger.Metadata = [
            "file": "\(file)",
            "reason": "\(reason)",
            "rejection_code": "\(code)",
            "profile": "\(profile)",
        ]
        if let csrSHA256 { metadata["csr_sha256"] = "\(csrSHA256)" }
        log(.requestRejected, "rejected \(file): \(reason)", metadata)
    }

    /// A certificate recorded before and published now from the ledger (after a failed
    /// publication or a crash). Its `issued` record was never logged — that happens once a
    /// certificate is published — so it is logged now, from the ledger's row, followed by
    /// the line that says where it came from: every certificate delivered has an `issued`
    /// record in the journal (a second only when its publication mark was lost with a stop
    /// or crash after its first record).
    func republished(_ record: IssuanceRecord) {
        let file = record.sourceFile, profile = record.profile
        let notAfter = Self.timestamp(record.notAfter)
        let who = record.subject.isEmpty ? record.sans.joined(separator: ", ") : record.subject
        log(.certificateIssued, "issued \(Self.named(file, profile: profile)): serial \(record.serial) for \(who), valid until \(notAfter) (signed at \(Self.timestamp(record.issuedAt)), published from the ledger)", [
            "file": "\(file)", "serial": "\(record.serial)", "subject": "\(record.subject)",
            "sans": .array(record.sans.map { .string($0) }), "not_after": "\(notAfter)",
            "csr_sha256": "\(record.csrSHA256)", "profile": "\(profile)", "published_from_ledger": "true",
        ])
        log(.republishedAfterCrash, "published \(Self.named(file, profile: profile)) again: serial \(record.serial) was issued before an interruption", [
            "file": "\(file)", "serial": "\(record.serial)", "profile": "\(profile)",
        ])
    }

    func started(_ summary: String) { log(.daemonStarted, summary) }

    func stopping(_ summary: String) { log(.daemonStopping, summary) }

    func reloaded(_ summary: String) { log(.configReloaded, summary) }

    func reloadFailed(_ reason: String) {
        log(.configReloadFailed, "reload refused, keeping the running configuration: \(reason)", ["reason": "\(reason)"])
    }

    func inboxLost(path: String, reason: String, role: String = "inbox") {
        log(.inboxLost, "the \(role) \(path) is gone (\(reason)); exiting so that systemd restarts dropca", [
            "file": "\(path)", "reason": "\(reason)",
        ])
    }

    /// One line: what happened to the ledger, what was kept of it, and what the next start
    /// will do.
    func ledgerLost(path: String, loss: LedgerLoss, kept: String) {
        let reason = "\(loss.reason); \(kept)"
        let next = loss.mainFileLost
            ? "dropca starts again only on the restored ledger or with dropca run --new-ledger"
            : "the ledger is whole, and the next start takes it"
        log(.ledgerLost, "the ledger is lost: \(reason); exiting: \(next)", [
            "file": "\(path)", "reason": "\(reason)",
        ])
    }

    func newLedgerStarted(path: String, identity: String, keptAs: String?, refusal: String) {
        let kept = keptAs.map { "the previous file is kept as \($0)" } ?? "there was no previous file to keep"
        log(.newLedgerStarted, "started a new ledger \(identity) at \(path) (--new-ledger); \(kept); it replaces one that was refused: \(refusal)", [
            "file": "\(path)", "reason": "\(refusal)", "kept_as": "\(keptAs ?? "")",
        ])
    }

    func ledgerCreated(path: String, identity: String) {
        logger.notice("made a new ledger \(identity) at \(path)")
    }

    func ledgerAdopted(path: String, identity: String, marker: String) {
        logger.notice("kept the ledger \(identity) at \(path), which no marker named yet: wrote \(marker)")
    }

    func newLedgerDeclined(path: String) {
        logger.warning("--new-ledger given, but the ledger at \(path) is sound: kept it; --new-ledger only replaces a ledger dropca would refuse")
    }

    func startupFailed(_ reason: String) {
        log(.startupFailed, "cannot start: \(reason)", ["reason": "\(reason)"])
    }

    func revoked(serial: String, subject: String, reason: String, uid: UInt32?) {
        let who = uid.map { "uid \($0)" } ?? "an unknown user"
        log(.certificateRevoked, "revoked serial \(serial) for \(subject.isEmpty ? "(empty subject)" : subject): \(reason), by \(who)", [
            "serial": "\(serial)", "subject": "\(subject)", "revocation_reason": "\(reason)",
            "revoked_by_uid": "\(uid.map(String.init) ?? "")",
        ])
    }

    func crlPublished(number: Int64, entries: Int, nextUpdate: Date, directory: String) {
        let next = Self.timestamp(nextUpdate)
        log(.crlPublished, "published CRL \(number) with \(entries) entries in \(directory), next update \(next)", [
            "crl_number": "\(number)", "crl_entries": "\(entries)", "next_update": "\(next)",
        ])
    }

    func crlPublishFailed(_ reason: String) {
        log(.crlPublishFailed, "cannot publish a CRL: \(reason); trying again in a minute", ["reason": "\(reason)"])
    }

    func certificatesExpiring(_ count: Int) {
        log(.certificatesExpiring, "\(count) certificates expire within 30 days", ["count": "\(count)"])
    }

    func caExpiring(notAfter: Date) {
        let date = Self.timestamp(notAfter)
        log(.caExpiring, "the CA certificate expires on \(date), before certificates issued now would; renew it", ["not_after": "\(date)"])
    }

    func authorityUnusable(_ problem: SigningProblem) {
        log(.caUnusable, "the CA cannot sign: \(problem.reason); requests wait in the inbox \(problem.until)", ["reason": "\(problem.reason)"])
    }

    func authorityUsable() {
        logger.notice("the CA can sign again: issuing the requests that waited")
    }

    func overflow() {
        log(.spoolOverflowRescan, "the inotify queue overflowed: rescanning the inbox")
    }

    /// The first failure of an episode (``FailureEpisodes``).
    func writesFailing(_ what: String, count: Int, error: String) {
        let reason = "\(what): \(error)"
        log(.writesFailing, "cannot \(reason); will retry (1 s doubling to 30 s), further failures of this kind are counted, not logged", [
            "reason": "\(reason)", "count": "\(count)",
        ])
    }

    /// The end of an episode.
    func writesRecovered(_ what: String, failures: Int, seconds: Int) {
        log(.writesRecovered, "can \(what) again, after \(failures) failed attempts over \(seconds) s", [
            "reason": "\(what)", "count": "\(failures)",
        ])
    }

    /// Something that failed before works now (outside the publisher's episodes).
    func recovered(_ summary: String) {
        logger.notice("\(summary)")
    }

    func reconciled(_ summary: String) {
        logger.notice("\(summary)")
    }

    func failure(_ message: String) {
        logger.error("\(message)")
    }
}
