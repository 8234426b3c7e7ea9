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
    /// Signed certificates the ledger could not record, for the workers to hand back
    /// instead of signing again.
    let unrecorded: UnrecordedCertificates
    /// Marks the time spent inside ledger writes, for the watchdog and STATUS=.
    let ledgerWait: LedgerWait
    /// Counters and the latency histogram for Prometheus; nil without `metrics.textfile`.
    let metrics: DaemonMetrics?
    /// Until profiles come, every input belongs to the default one.
    var profile = "default"

    /// What the publisher thread carries from one batch to the next.
    struct State {
        var episodes = FailureEpisodes()
        /// Publication marks and rejection rows whose transaction failed. Their files have
        /// already moved, so nothing in the inbox brings them back: they are written with
        /// the next batch, or on their own after a back-off (``retryPending(_:)``). Lost
        /// at a crash; start-up recovery and reconciliation rebuild them from the outbox
        /// and `failed/`.
        var pendingWrites: [LedgerWrite] = []
        var nextRetry: ContinuousClock.Instant?
        var backoff: Duration = .seconds(1)

        /// Bound on ``pendingWrites`` (about 20 MB of rejection rows at most); beyond it the
        /// oldest are left to start-up reconciliation.
        static let pendingLimit = 100_000
    }

    /// Publishes one batch. Returns true when some input of it was left in the inbox by a
    /// failure (a full or read-only folder, a ledger that cannot be written): the intake
    /// loop then looks at the inbox again after a back-off, whatever `rescan_seconds` says,
    /// since nothing else would bring those inputs back.
    @discardableResult
    func publish(_ batch: [WorkResult], counters: DaemonCounters, state: inout State) -> Bool {
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
        let recorded = record(fresh, at: now, state: &state)

        // 2. Publish what the ledger holds, removing each input right after its certificate
        // appears; drop the temporaries of what the ledger could not record.
        var published: [(name: SpoolName, identity: FileIdentity, serial: String)] = []
        if let staging {
            let recordedNames = Set(recorded.map(\.0))
            let keep = candidates.map { !$0.isFresh || recordedNames.contains($0.name) }
            var renamed: [(name: SpoolName, identity: FileIdentity, serial: String)] = []
            var removalFailures: [String] = []
            var notRemoved: Set<SpoolName> = []
            do {
                let staged = try staging.result()
                try outbox.publish(staged, including: keep) { index in
                    let item = candidates[index]
                    renamed.append((item.name, item.identity, item.serial))
                    do {
                        _ = try inbox.remove(item.name, ifUnchangedFrom: item.identity)
                    } catch {
                        removalFailures.append("\(item.name): \(error)")
                        notRemoved.insert(item.name)
                    }
                }
                // An input still in the inbox must keep its record unmarked: its next look
                // then republishes this certificate instead of signing a new one.
                published = renamed.filter { !notRemoved.contains($0.name) }
                if !notRemoved.isEmpty { leftBehind = true }
                let wasFailing = state.episodes.isOpen(.publishCertificates)
                state.episodes.succeeded(.publishCertificates, log: log)
                // Temporaries a read-only or full outbox kept from being removed go now
                // that the outbox takes writes again.
                if wasFailing {
                    outbox.removeSpares()
                    _ = try? outbox.removeStaleTemporaries()
                }
            } catch {
                // Nothing is marked published. Inputs not yet removed stay and their next
                // look publishes them again; for those already removed (a rename or the
                // folder fsync failed after them), the next start publishes the recorded
                // certificate again (`SpoolResources.recoverUnpublished`).
                let intended = keep.filter { $0 }.count
                state.episodes.failed(.publishCertificates, count: intended - renamed.count,
                                      error: "\(intended - renamed.count) of \(intended) certificates: \(error)", log: log)
                leftBehind = true
            }
            if let first = removalFailures.first {
                state.episodes.failed(.removeInputs, count: removalFailures.count,
                                      error: "\(removalFailures.count) requests, first \(first)", log: log)
            } else if !renamed.isEmpty {
                state.episodes.succeeded(.removeInputs, log: log)
            }
        }

        // 3. Move rejections: each reason file is written before its entry moves, with the
        // same time and code the ledger row gets, so that start-up reconciliation can
        // rebuild a row a crash kept from being written.
        var rejections: [RejectionRecord] = []
        var rejectionFailures: [String] = []
        var rejected: [(name: SpoolName, refusal: Refusal, digest: String?)] = []
        let stamp = Int(now.timeIntervalSince1970.rounded(.down))
        for case .rejected(let name, let refusal, let identity, let contents, let digest) in batch {
            do {
                var details = refusal.details + ["code: \(refusal.code)"]
                if let digest { details.append("sha256: \(digest)") }
                let outcome = try failed.reject(name, from: inbox, reason: refusal.reason, details: details,
                                                expecting: identity, contents: contents, rejectedAt: stamp)
                switch outcome {
                case .moved, .copied, .reasonOnly:
                    rejections.append(RejectionRecord(sourceFile: name.description, csrSHA256: digest,
                                                      code: refusal.code, reason: refusal.reason,
                                                      rejectedAt: Date(timeIntervalSince1970: TimeInterval(stamp))))
                    rejected.append((name, refusal, digest))
                case .vanished, .replaced:
                    break
                }
            } catch {
                rejectionFailures.append("\(name): \(error)")
                leftBehind = true
            }
        }
        if let first = rejectionFailures.first {
            state.episodes.failed(.rejectInputs, count: rejectionFailures.count,
                                  error: "\(rejectionFailures.count) requests, first \(first)", log: log)
        } else if !rejections.isEmpty {
            state.episodes.succeeded(.rejectInputs, log: log)
        }
        var inboxDurable = true
        if !published.isEmpty || !rejections.isEmpty {
            do {
                try inbox.synchronize()
                state.episodes.succeeded(.syncInbox, log: log)
            } catch {
                state.episodes.failed(.syncInbox, count: published.count + rejections.count, error: "\(error)", log: log)
                inboxDurable = false
            }
        }

        // 4. Mark published, record rejections (with whatever an earlier batch could not).
        // Marks wait for the inbox fsync: a removal that may not be on disk must leave its
        // record unmarked, so that an input coming back after a power loss is republished,
        // not signed again (the next start's recovery marks those whose input is gone).
        var writes: [LedgerWrite] = inboxDurable ? published.map { .published(serial: $0.serial, at: now) } : []
        writes += rejections.map { .rejected($0) }
        if !writes.isEmpty || !state.pendingWrites.isEmpty {
            writeLedger(writes, state: &state)
        }

        let publishedNames = Set(published.map(\.name))
        for (name, certificate, _) in recorded where publishedNames.contains(name) {
            log.issued(file: name.description, certificate: certificate)
        }
        // Logged once it is true: after the rename, not before the write.
        var republished = 0
        for case .republish(let name, let record, _) in batch where publishedNames.contains(name) {
            log.republished(file: name.description, serial: record.serial)
            republished += 1
        }
        for item in rejected {
            log.rejected(file: item.name.description, refusal: item.refusal, csrSHA256: item.digest)
        }
        if let metrics {
            let freshNames = Set(recorded.map(\.0))
            let shown = Date()
            for item in published {
                metrics.published(profile: profile, republished: !freshNames.contains(item.name),
                                  since: item.identity.changed.date, at: shown)
            }
            for item in rejected { metrics.rejected(profile: profile, code: item.refusal.code) }
        }
        counters.add(issued: recorded.filter { publishedNames.contains($0.0) }.count, republished: republished,
                     rejected: rejections.count)
        if recorded.count < fresh.count { leftBehind = true }
        return leftBehind
    }

    /// Writes what earlier batches could not, when their back-off is over; the publisher
    /// thread calls it while no batch comes.
    func retryPending(_ state: inout State) {
        guard !state.pendingWrites.isEmpty else { return }
        if let due = state.nextRetry, ContinuousClock.now < due { return }
        writeLedger([], state: &state)
    }

    /// One transaction for the pending writes and `writes`. A failure keeps them all
    /// pending (a full or locked ledger); a row the ledger refuses for itself (an unknown
    /// serial, a malformed record) is dropped with a line, so that one bad row cannot hold
    /// the others back for ever.
    private func writeLedger(_ writes: [LedgerWrite], state: inout State) {
        let all = state.pendingWrites + writes
        do {
            try ledgerWait.during { try ledger.apply(all) }
            state.pendingWrites = []
            state.nextRetry = nil
            state.backoff = .seconds(1)
            state.episodes.succeeded(.ledgerWrites, log: log)
        } catch let error as LedgerError where error.code != .storage {
            // Row by row, to drop only what the ledger refuses for itself; at the first
            // storage error the rest stays pending, in order, for the normal back-off.
            var kept: [LedgerWrite] = []
            var storageFailed = false
            for write in all {
                if storageFailed {
                    kept.append(write)
                    continue
                }
                do {
                    try ledgerWait.during { try ledger.apply([write]) }
                } catch let error as LedgerError where error.code != .storage {
                    log.failure("dropping a ledger write the ledger refuses: \(error.message)")
                } catch {
                    storageFailed = true
                    kept.append(write)
                    state.episodes.failed(.ledgerWrites, count: all.count, error: "\(error)", log: log)
                }
            }
            state.pendingWrites = kept
            if kept.isEmpty {
                state.nextRetry = nil
                state.backoff = .seconds(1)
                state.episodes.succeeded(.ledgerWrites, log: log)
            } else {
                state.nextRetry = ContinuousClock.now + state.backoff
                state.backoff = min(state.backoff * 2, .seconds(30))
            }
        } catch {
            state.episodes.failed(.ledgerWrites, count: all.count, error: "\(all.count) rows: \(error)", log: log)
            state.pendingWrites = Array(all.suffix(State.pendingLimit))
            state.nextRetry = ContinuousClock.now + state.backoff
            state.backoff = min(state.backoff * 2, .seconds(30))
        }
    }

    /// Records new certificates in one transaction. When the ledger refuses a row of the
    /// batch for itself (a serial collision), the rest are recorded one by one so that one
    /// bad row does not hold back the others; when it cannot be written at all (a full
    /// disk, a lock held past the busy timeout), nothing is tried row by row — that would
    /// be the same failure 256 times, 10 s each when locked. Unrecorded certificates are
    /// kept (``UnrecordedCertificates``); their inputs stay in the inbox, and the next look
    /// publishes the same certificate.
    private func record(_ fresh: [(SpoolName, IssuedCertificate, FileIdentity)], at now: Date,
                        state: inout State) -> [(SpoolName, IssuedCertificate, FileIdentity)] {
        guard !fresh.isEmpty else { return [] }
        let records = fresh.map { Self.record($0.1, name: $0.0, at: now) }
        do {
            try ledgerWait.during { try ledger.recordIssued(records) }
            state.episodes.succeeded(.recordCertificates, log: log)
            return fresh
        } catch let error as LedgerError where error.code == .duplicateSerial || error.code == .invalidRecord {
            var kept: [(SpoolName, IssuedCertificate, FileIdentity)] = []
            var storageFailed = false
            for (item, record) in zip(fresh, records) {
                if storageFailed {
                    unrecorded.keep(item.1, for: item.0)
                    continue
                }
                do {
                    try ledgerWait.during { try ledger.recordIssued([record]) }
                    kept.append(item)
                } catch let error as LedgerError where error.code == .duplicateSerial || error.code == .invalidRecord {
                    // A colliding serial is drawn anew at the next issuance: not kept.
                    log.failure("cannot record serial \(record.serial) for \(item.0) in the ledger: \(error)")
                } catch {
                    // The ledger itself fails now: keep this one and the rest for the retry.
                    storageFailed = true
                    unrecorded.keep(item.1, for: item.0)
                    state.episodes.failed(.recordCertificates, count: fresh.count - kept.count, error: "\(error)", log: log)
                }
            }
            if !storageFailed { state.episodes.succeeded(.recordCertificates, log: log) }
            return kept
        } catch {
            state.episodes.failed(.recordCertificates, count: fresh.count, error: "\(fresh.count) certificates: \(error)", log: log)
            for (name, certificate, _) in fresh { unrecorded.keep(certificate, for: name) }
            return []
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
