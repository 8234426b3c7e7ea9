import Foundation
import Issuance
import Ledger
import Logging
import Spool

/// Makes workers' results durable and visible, a batch at a time (group commit).
///
/// The order is what makes "exactly once" hold through crashes:
/// 1. one ledger transaction records every new certificate (fsync); meanwhile, on another
///    thread, the outbox stages them (hidden temporaries, made durable; not visible);
/// 2. the recorded ones become visible (rename each, and remove its input from the inbox
///    right after; one fsync of the outbox folder);
/// 3. rejected inputs are moved to `failed/`, and the inbox folder is fsynced;
/// 4. one ledger transaction marks them published and records the rejections.
/// Temporaries left by a crash before 2 are removed at the next start. After a crash
/// before 4, an input still there matches an unpublished record: it is published again,
/// not issued again. A record whose input is gone — its removal reached the disk, whether
/// or not the rename did — is published again (idempotent) and marked by startup recovery.
/// Removing each input as its certificate appears, rather than after the whole batch
/// (and the folder fsync), keeps an uploader from seeing its certificate while its request
/// still sits in the inbox for the length of a large batch; only the mark in 4 must wait
/// for both folder fsyncs. A published record is never matched, so a later upload of the
/// same request is a new issuance, as it should be.
/// Batching gives one fsync per folder and per transaction for the whole batch, which is
/// what lets a burst run near the signing rate.
struct Publisher: Sendable {
    let inbox: Inbox
    let outbox: Outbox
    let failed: FailedFolder
    let ledger: Ledger
    let log: DaemonLog

    /// Publishes one batch. Returns true when some input of it was left in the inbox by a
    /// failure (a full or read-only folder, a ledger that cannot be written): the intake
    /// loop then looks at the inbox again after a back-off, whatever `rescan_seconds` says,
    /// since nothing else would bring those inputs back.
    @discardableResult
    func publish(_ batch: [WorkResult], counters: DaemonCounters) -> Bool {
        var leftBehind = batch.contains { if case .retryLater = $0 { return true } else { return false } }
        let now = Date()
        // 1. Record new certificates before anything else sees them, and meanwhile, on
        // another thread, write them and any republished ones to hidden temporaries in the
        // outbox and make those durable. The two syncs overlap rather than add up (one
        // fsync less between upload and certificate for a single file); nothing is visible
        // until both are done.
        let fresh = batch.compactMap { result -> (SpoolName, IssuedCertificate, FileIdentity)? in
            if case .issued(let name, let certificate, let identity) = result { return (name, certificate, identity) }
            return nil
        }
        var candidates: [(name: SpoolName, certificate: [UInt8], identity: FileIdentity, serial: String, isFresh: Bool)] =
            fresh.map { ($0.0, $0.1.der, $0.2, $0.1.serialHex, true) }
        for case .republish(let name, let record, let identity) in batch {
            candidates.append((name, [UInt8](record.certificate), identity, record.serial, false))
        }
        let outbox = self.outbox
        let certificates = candidates.map { (input: $0.name, certificate: $0.certificate) }
        let staging = candidates.isEmpty ? nil : Concurrently { try outbox.stage(certificates) }
        let recorded = record(fresh, at: now)

        // 2. Publish what the ledger holds, removing each input right after its certificate
        // appears; drop the temporaries of what the ledger could not record.
        var published: [(name: SpoolName, identity: FileIdentity, serial: String)] = []
        if let staging {
            let recordedNames = Set(recorded.map(\.0))
            let keep = candidates.map { !$0.isFresh || recordedNames.contains($0.name) }
            var renamed: [(name: SpoolName, identity: FileIdentity, serial: String)] = []
            do {
                let staged = try staging.result()
                try outbox.publish(staged, including: keep) { index in
                    let item = candidates[index]
                    renamed.append((item.name, item.identity, item.serial))
                    do {
                        _ = try inbox.remove(item.name, ifUnchangedFrom: item.identity)
                    } catch {
                        log.failure("cannot remove \(item.name) from the inbox after publishing it: \(error)")
                    }
                }
                published = renamed
            } catch {
                // Nothing is marked published. Inputs not yet removed stay and their next
                // look publishes them again; for those already removed (a rename or the
                // folder fsync failed after them), the next start publishes the recorded
                // certificate again (`Daemon.recoverUnpublished`).
                log.failure("cannot publish \(keep.filter { $0 }.count - renamed.count) of \(keep.filter { $0 }.count) certificates to the outbox: \(error)")
                leftBehind = true
            }
        }

        // 3. Move rejections.
        var rejections: [RejectionRecord] = []
        for case .rejected(let name, let refusal, let identity, let contents, let digest) in batch {
            do {
                let outcome = try failed.reject(name, from: inbox, reason: refusal.reason, details: refusal.details,
                                                expecting: identity, contents: contents)
                switch outcome {
                case .moved, .copied, .reasonOnly:
                    rejections.append(RejectionRecord(sourceFile: name.description, csrSHA256: digest,
                                                      code: refusal.code, reason: refusal.reason, rejectedAt: now))
                    log.rejected(file: name.description, refusal: refusal, csrSHA256: digest)
                case .vanished, .replaced:
                    break
                }
            } catch {
                log.failure("cannot move \(name) to failed/: \(error)")
                leftBehind = true
            }
        }
        if !published.isEmpty || !rejections.isEmpty {
            do {
                try inbox.synchronize()
            } catch {
                log.failure("cannot fsync the inbox: \(error)")
            }
        }

        // 4. Mark published, record rejections.
        var writes: [LedgerWrite] = published.map { .published(serial: $0.serial, at: now) }
        writes += rejections.map { .rejected($0) }
        if !writes.isEmpty {
            do {
                try ledger.apply(writes)
            } catch {
                log.failure("cannot record \(writes.count) publications and rejections in the ledger: \(error)")
                leftBehind = true
            }
        }

        let publishedNames = Set(published.map(\.name))
        for (name, certificate, _) in recorded where publishedNames.contains(name) {
            log.issued(file: name.description, certificate: certificate)
        }
        // Logged once it is true: after the rename, not before the write.
        for case .republish(let name, let record, _) in batch where publishedNames.contains(name) {
            log.republished(file: name.description, serial: record.serial)
        }
        counters.add(issued: recorded.filter { publishedNames.contains($0.0) }.count, rejected: rejections.count)
        if recorded.count < fresh.count { leftBehind = true }
        return leftBehind
    }

    /// Records new certificates in one transaction; a failure of the whole batch (a serial
    /// collision, a full disk) falls back to one transaction each so that one bad row
    /// does not hold back the rest. Unrecorded certificates are dropped unpublished; their
    /// inputs stay in the inbox and are issued again on the next look.
    private func record(_ fresh: [(SpoolName, IssuedCertificate, FileIdentity)], at now: Date) -> [(SpoolName, IssuedCertificate, FileIdentity)] {
        guard !fresh.isEmpty else { return [] }
        let records = fresh.map { Self.record($0.1, name: $0.0, at: now) }
        do {
            try ledger.recordIssued(records)
            return fresh
        } catch {
            var kept: [(SpoolName, IssuedCertificate, FileIdentity)] = []
            for (item, record) in zip(fresh, records) {
                do {
                    try ledger.recordIssued([record])
                    kept.append(item)
                } catch {
                    log.failure("cannot record serial \(record.serial) for \(item.0) in the ledger: \(error)")
                }
            }
            return kept
        }
    }

    static func record(_ certificate: IssuedCertificate, name: SpoolName, at now: Date) -> IssuanceRecord {
        IssuanceRecord(
            serial: certificate.serialHex, subject: certificate.subject, sans: certificate.subjectAlternativeNames,
            notBefore: certificate.notBefore, notAfter: certificate.notAfter, issuedAt: now,
            sourceFile: name.description, csrSHA256: certificate.csrSHA256, certificate: Data(certificate.der)
        )
    }
}
