import Foundation
import Issuance
import Ledger
import Logging
import Spool

/// Makes workers' results durable and visible, a batch at a time (group commit).
///
/// The order is what makes "exactly once" hold through crashes:
/// 1. one ledger transaction records every new certificate (fsync);
/// 2. the outbox receives them (temp file, fsync, rename each; one folder fsync);
/// 3. the inputs are removed from the inbox, rejected ones moved to `failed/`, and the
///    inbox folder is fsynced;
/// 4. one ledger transaction marks them published and records the rejections.
/// A crash before 2 or 3 leaves an input matching an unpublished record: it is published
/// again, not issued again. A crash after 3 leaves an unpublished record with no input;
/// startup recovery publishes it (idempotent) and marks it. A published record is never
/// matched, so a later upload of the same request is a new issuance, as it should be.
/// Batching gives one fsync per folder and per transaction for the whole batch, which is
/// what lets a burst run near the signing rate.
struct Publisher: Sendable {
    let inbox: Inbox
    let outbox: Outbox
    let failed: FailedFolder
    let ledger: Ledger
    let log: DaemonLog

    /// Publishes one batch; returns the names that are done with (all of them).
    func publish(_ batch: [WorkResult], counters: DaemonCounters) {
        let now = Date()
        var toPublish: [(name: SpoolName, certificate: [UInt8], identity: FileIdentity, serial: String)] = []

        // 1. Record new certificates before anything else sees them.
        let fresh = batch.compactMap { result -> (SpoolName, IssuedCertificate, FileIdentity)? in
            if case .issued(let name, let certificate, let identity) = result { return (name, certificate, identity) }
            return nil
        }
        let recorded = record(fresh, at: now)
        for (name, certificate, identity) in recorded {
            toPublish.append((name, certificate.der, identity, certificate.serialHex))
        }
        for case .republish(let name, let record, let identity) in batch {
            toPublish.append((name, [UInt8](record.certificate), identity, record.serial))
            log.republished(file: name.description, serial: record.serial)
        }

        // 2. Publish.
        var published: [(name: SpoolName, identity: FileIdentity, serial: String)] = []
        if !toPublish.isEmpty {
            do {
                _ = try outbox.publish(toPublish.map { (input: $0.name, certificate: $0.certificate) })
                published = toPublish.map { ($0.name, $0.identity, $0.serial) }
            } catch {
                // The records stay unpublished and the inputs stay: the next look at them
                // publishes them again.
                log.failure("cannot publish \(toPublish.count) certificates to the outbox: \(error)")
            }
        }

        // 3. Remove inputs, move rejections.
        for item in published {
            do {
                _ = try inbox.remove(item.name, ifUnchangedFrom: item.identity)
            } catch {
                log.failure("cannot remove \(item.name) from the inbox after publishing it: \(error)")
            }
        }
        var rejections: [RejectionRecord] = []
        for case .rejected(let name, let rejection, let identity, let contents, let digest) in batch {
            do {
                let outcome = try failed.reject(name, from: inbox, reason: rejection.reason, details: rejection.details,
                                                expecting: identity, contents: contents)
                switch outcome {
                case .moved, .copied, .reasonOnly:
                    rejections.append(RejectionRecord(sourceFile: name.description, csrSHA256: digest,
                                                      code: rejection.code.rawValue, reason: rejection.reason, rejectedAt: now))
                    log.rejected(file: name.description, rejection: rejection, csrSHA256: digest)
                case .vanished, .replaced:
                    break
                }
            } catch {
                log.failure("cannot move \(name) to failed/: \(error)")
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
            }
        }

        let publishedNames = Set(published.map(\.name))
        for (name, certificate, _) in recorded where publishedNames.contains(name) {
            log.issued(file: name.description, certificate: certificate)
        }
        counters.add(issued: recorded.filter { publishedNames.contains($0.0) }.count, rejected: rejections.count)
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

/// Running totals for STATUS= lines and the stop message.
final class DaemonCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var issuedCount = 0
    private var rejectedCount = 0

    func add(issued: Int, rejected: Int) {
        lock.withLock {
            issuedCount += issued
            rejectedCount += rejected
        }
    }

    var totals: (issued: Int, rejected: Int) { lock.withLock { (issuedCount, rejectedCount) } }
}
