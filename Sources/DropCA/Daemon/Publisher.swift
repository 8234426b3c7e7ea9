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
///
/// A batch may hold inputs of several profiles: it is still one ledger transaction each
/// for steps 1 and 4, and each profile's folders get their own staging, renames and
/// folder fsyncs (their failures are episodes of their own, so a full outbox of one profile
/// neither holds back nor silences another's). An input of a profile with several outputs
/// is one item of its outbox's batch: all its files are durable before the first rename,
/// renamed back to back, and only then is the input removed.
struct Publisher: Sendable {
    /// Every profile's folders, by ``ProfileSpool/index``.
    let spools: [ProfileSpool]
    let ledger: Ledger
    let log: DaemonLog
    /// Signed certificates the ledger could not record, for the workers to hand back
    /// instead of signing again.
    let unrecorded: UnrecordedCertificates
    /// Marks the time spent inside ledger writes, for the watchdog and STATUS=.
    let ledgerWait: LedgerWait
    /// Counters and the latency histogram for Prometheus, by the input's profile; nil
    /// without `metrics.textfile`.
    let metrics: DaemonMetrics?

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

    /// A certificate on its way to the outbox: new (to be recorded first) or recorded before.
    private struct Candidate {
        let entry: InboxEntry
        let files: [OutboxFile]
        let identity: FileIdentity
        let serial: String
        let isFresh: Bool
    }

    /// The workers' failures that left inputs for later, one episode per cause (reading
    /// inputs: per profile), ended by a batch in which that step worked: an input issued or
    /// republished got past the read, the ledger look-up, the signature and the encoding;
    /// a request rejected for its contents, or left for a later step, got past its read.
    /// Inputs held back for a CA that cannot sign open no episode: the intake loop says
    /// why, once (``DaemonLog/authorityUnusable(_:)``).
    /// Returns whether any input was left for later.
    private func noteWorkersFailures(_ batch: [WorkResult], state: inout State) -> Bool {
        var failures: [FailureEpisodes.Kind: [String: (count: Int, error: String)]] = [:]
        var leftForLater = false
        var workedIn: Set<Int> = []
        var readIn: Set<Int> = []
        for result in batch {
            switch result.outcome {
            case .retryLater(let cause):
                leftForLater = true
                guard let kind = cause.kind else { continue }
                let place = kind == .readInputs ? spools[result.profile].qualifier : ""
                let seen = failures[kind]?[place]
                failures[kind, default: [:]][place] = ((seen?.count ?? 0) + 1, seen?.error ?? cause.error)
                if kind != .readInputs { readIn.insert(result.profile) }
            case .issued, .republish:
                workedIn.insert(result.profile)
                readIn.insert(result.profile)
            case .rejected(_, _, let contents, _):
                // Only a rejection of what was read proves a read; a link or a FIFO is
                // refused without opening it.
                if contents != nil { readIn.insert(result.profile) }
            case .leftAlone:
                break
            }
        }
        for (kind, places) in failures {
            for (place, failure) in places {
                state.episodes.failed(kind, in: place, count: failure.count, error: failure.error, log: log)
            }
        }
        for profile in readIn where failures[.readInputs]?[spools[profile].qualifier] == nil {
            state.episodes.succeeded(.readInputs, in: spools[profile].qualifier, log: log)
        }
        if !workedIn.isEmpty {
            for kind in [FailureEpisodes.Kind.ledgerLookups, .signCertificates, .encodeOutputs] where failures[kind] == nil {
                state.episodes.succeeded(kind, log: log)
            }
        }
        return leftForLater
    }

    /// Publishes one batch. Returns true when some input of it was left in the inbox by a
    /// failure (a full or read-only folder, a ledger that cannot be written): the intake
    /// loop then looks at the inbox again after a back-off, whatever `rescan_seconds` says,
    /// since nothing else would bring those inputs back.
    @discardableResult
    func publish(_ batch: [WorkResult], counters: DaemonCounters, state: inout State) -> Bool {
        var leftBehind = noteWorkersFailures(batch, state: &state)
        let now = Date()
        // 1. Record new certificates before anything else sees them, and meanwhile, on
        // another thread, write them and any republished ones to hidden temporaries in the
        // outboxes and make those durable. The two syncs overlap rather than add up (one
        // fsync less between upload and certificate for a single file); nothing is visible
        // until both are done.
        var fresh: [(entry: InboxEntry, certificate: IssuedCertificate)] = []
        var candidates: [Candidate] = []
        for result in batch {
            if case .issued(let certificate, let files, let identity) = result.outcome {
                fresh.append((result.entry, certificate))
                candidates.append(Candidate(entry: result.entry, files: files, identity: identity, serial: certificate.serialHex, isFresh: true))
            }
        }
        for result in batch {
            if case .republish(let record, let files, let identity) = result.outcome {
                candidates.append(Candidate(entry: result.entry, files: files, identity: identity, serial: record.serial, isFresh: false))
            }
        }
        // Each profile's candidates, in batch order, as one batch of its outbox.
        var groups: [(spool: ProfileSpool, members: [Int])] = []
        for (index, candidate) in candidates.enumerated() {
            if let group = groups.firstIndex(where: { $0.spool.index == candidate.entry.profile }) {
                groups[group].members.append(index)
            } else {
                groups.append((spools[candidate.entry.profile], [index]))
            }
        }
        let stagingInput = groups.map { group in
            (outbox: group.spool.outbox, items: group.members.map { (input: candidates[$0].entry.name, files: candidates[$0].files) })
        }
        // One profile's batch is staged and synced as before profiles; several profiles'
        // temporaries are synced together, side by side (`Outbox.synchronize`).
        let staging = candidates.isEmpty ? nil : Concurrently { () -> [Result<Outbox.StagedBatch, any Error>] in
            if stagingInput.count == 1 {
                return stagingInput.map { group in Result { try group.outbox.stage(files: group.items) } }
            }
            var staged = stagingInput.map { group in Result { try group.outbox.stage(files: group.items, syncing: false) } }
            let written = staged.indices.compactMap { index -> (Int, Outbox, Outbox.StagedBatch)? in
                guard case .success(let batch) = staged[index] else { return nil }
                return (index, stagingInput[index].outbox, batch)
            }
            for (failure, item) in zip(Outbox.synchronize(written.map { ($0.1, $0.2) }), written) {
                if let failure { staged[item.0] = .failure(failure) }
            }
            return staged
        }
        let recorded = record(fresh, at: now, state: &state)

        // 2. Publish what the ledger holds, removing each input right after its files
        // appear; drop the temporaries of what the ledger could not record. Then one fsync
        // of each outbox that got files, side by side when there are several.
        var published: [(entry: InboxEntry, identity: FileIdentity, serial: String)] = []
        var publishedFresh: Set<InboxEntry> = []
        if let staging {
            let recordedEntries = Set(recorded.map(\.entry))
            // The closure does not throw (each profile's failure is in its own result).
            let staged = (try? staging.result()) ?? []
            // Renamed in an outbox whose folder fsync is still to come.
            var unsynced: [(spool: ProfileSpool, renamed: [Candidate], kept: [Candidate], intended: Int)] = []
            for (position, group) in groups.enumerated() {
                let spool = group.spool
                let members = group.members
                let keep = members.map { !candidates[$0].isFresh || recordedEntries.contains(candidates[$0].entry) }
                let intended = keep.filter { $0 }.count
                var renamed: [Candidate] = []
                var removalFailures: [String] = []
                var notRemoved: Set<InboxEntry> = []
                do {
                    guard position < staged.count else { throw SpoolError(.cannotWrite, "staging did not finish") }
                    let batch = try staged[position].get()
                    try spool.outbox.publish(batch, including: keep, syncingFolder: false) { index in
                        let item = candidates[members[index]]
                        renamed.append(item)
                        do {
                            _ = try spool.inbox.remove(item.entry.name, ifUnchangedFrom: item.identity)
                        } catch {
                            removalFailures.append("\(item.entry.name): \(error)")
                            notRemoved.insert(item.entry)
                        }
                    }
                    // An input still in the inbox must keep its record unmarked: its next look
                    // then republishes this certificate instead of signing a new one.
                    if !notRemoved.isEmpty { leftBehind = true }
                    unsynced.append((spool, renamed, renamed.filter { !notRemoved.contains($0.entry) }, intended))
                } catch {
                    // Nothing is marked published. Inputs not yet removed stay and their next
                    // look publishes them again; for those already removed (a rename or the
                    // folder fsync failed after them), the next start publishes the recorded
                    // certificate again (`SpoolResources.recoverUnpublished`).
                    state.episodes.failed(.publishCertificates, in: spool.qualifier, count: intended - renamed.count,
                                          error: "\(intended - renamed.count) of \(intended) certificates: \(error)", log: log)
                    leftBehind = true
                }
                if let first = removalFailures.first {
                    state.episodes.failed(.removeInputs, in: spool.qualifier, count: removalFailures.count,
                                          error: "\(removalFailures.count) requests, first \(first)", log: log)
                } else if !renamed.isEmpty {
                    state.episodes.succeeded(.removeInputs, in: spool.qualifier, log: log)
                }
            }
            let syncs: [@Sendable () throws -> Void] = unsynced.map { item in
                let (outbox, renamed) = (item.spool.outbox, !item.renamed.isEmpty)
                return { @Sendable in if renamed { try outbox.synchronize() } }
            }
            for (item, failure) in zip(unsynced, FolderSyncs.run(syncs)) {
                let spool = item.spool
                if let failure {
                    state.episodes.failed(.publishCertificates, in: spool.qualifier, count: item.intended,
                                          error: "\(item.intended) of \(item.intended) certificates: \(failure)", log: log)
                    leftBehind = true
                    continue
                }
                for candidate in item.kept {
                    published.append((candidate.entry, candidate.identity, candidate.serial))
                    if candidate.isFresh { publishedFresh.insert(candidate.entry) }
                }
                // Temporaries a read-only or full outbox kept from being removed go now
                // that the outbox takes writes again, before the line that says it does.
                if state.episodes.isOpen(.publishCertificates, in: spool.qualifier) {
                    spool.outbox.removeSpares()
                    _ = try? spool.outbox.removeStaleTemporaries()
                }
                state.episodes.succeeded(.publishCertificates, in: spool.qualifier, log: log)
            }
        }

        // 3. Move rejections: each reason file is written before its entry moves, with the
        // same time and code the ledger row gets, so that start-up reconciliation can
        // rebuild a row a crash kept from being written.
        var rejections: [RejectionRecord] = []
        var rejected: [(entry: InboxEntry, reason: String, code: String, digest: String?)] = []
        var rejectionFailures: [Int: [String]] = [:]
        var rejectingProfiles: [Int] = []
        let stamp = Int(now.timeIntervalSince1970.rounded(.down))
        for result in batch {
            guard case .rejected(let refusal, let identity, let contents, let digest) = result.outcome else { continue }
            let spool = spools[result.profile]
            if !rejectingProfiles.contains(spool.index) { rejectingProfiles.append(spool.index) }
            let reason = refusal.reason(inProfile: spool.name)
            do {
                var details = refusal.details + ["code: \(refusal.code)"]
                if let digest { details.append("sha256: \(digest)") }
                if !spool.isDefault { details.append("profile: \(spool.name)") }
                let outcome = try spool.failed.reject(result.name, from: spool.inbox, reason: reason, details: details,
                                                      expecting: identity, contents: contents, rejectedAt: stamp)
                switch outcome {
                case .moved, .copied, .reasonOnly:
                    rejections.append(RejectionRecord(profile: spool.name, sourceFile: result.name.description, csrSHA256: digest,
                                                      code: refusal.code, reason: reason,
                                                      rejectedAt: Date(timeIntervalSince1970: TimeInterval(stamp))))
                    rejected.append((result.entry, reason, refusal.code, digest))
                case .vanished, .replaced:
                    break
                }
            } catch {
                rejectionFailures[spool.index, default: []].append("\(result.name): \(error)")
                leftBehind = true
            }
        }
        for index in rejectingProfiles {
            let spool = spools[index]
            if let failures = rejectionFailures[index], let first = failures.first {
                state.episodes.failed(.rejectInputs, in: spool.qualifier, count: failures.count,
                                      error: "\(failures.count) requests, first \(first)", log: log)
            } else {
                // Reason temporaries an append-only or read-only failed/ kept from being
                // removed (one per try) go once it takes writes again, as the outbox's do,
                // before the line that says it does.
                if state.episodes.isOpen(.rejectInputs, in: spool.qualifier) {
                    _ = try? spool.failed.removeStaleTemporaries()
                }
                state.episodes.succeeded(.rejectInputs, in: spool.qualifier, log: log)
            }
        }
        // One fsync of each inbox that lost entries in this batch, side by side.
        var touched: [Int] = []
        for index in published.map(\.entry.profile) + rejected.map(\.entry.profile) where !touched.contains(index) {
            touched.append(index)
        }
        var undurable: Set<Int> = []
        let inboxSyncs: [@Sendable () throws -> Void] = touched.map { index in
            let inbox = spools[index].inbox
            return { try inbox.synchronize() }
        }
        for (index, failure) in zip(touched, FolderSyncs.run(inboxSyncs)) {
            let spool = spools[index]
            if let failure {
                let count = published.count { $0.entry.profile == index } + rejected.count { $0.entry.profile == index }
                state.episodes.failed(.syncInbox, in: spool.qualifier, count: count, error: "\(failure)", log: log)
                undurable.insert(index)
            } else {
                state.episodes.succeeded(.syncInbox, in: spool.qualifier, log: log)
            }
        }

        // 4. Mark published, record rejections (with whatever an earlier batch could not).
        // Marks wait for their inbox's fsync: a removal that may not be on disk must leave
        // its record unmarked, so that an input coming back after a power loss is
        // republished, not signed again (the next start's recovery marks those whose input
        // is gone).
        var writes: [LedgerWrite] = published.filter { !undurable.contains($0.entry.profile) }.map { .published(serial: $0.serial, at: now) }
        writes += rejections.map { .rejected($0) }
        if !writes.isEmpty || !state.pendingWrites.isEmpty {
            writeLedger(writes, state: &state)
        }

        // Not for a profile whose inbox fsync failed: their marks wait for the next start,
        // whose recovery publishes them again and logs their `issued` record then, once.
        let publishedEntries = Set(published.map(\.entry).filter { !undurable.contains($0.profile) })
        for (entry, certificate) in recorded where publishedEntries.contains(entry) {
            log.issued(file: entry.name.description, profile: spools[entry.profile].name, certificate: certificate)
        }
        // Logged once it is true: after the rename, not before the write.
        var republished = 0
        for result in batch where publishedEntries.contains(result.entry) {
            guard case .republish(let record, _, _) = result.outcome else { continue }
            log.republished(record)
            republished += 1
        }
        for item in rejected {
            log.rejected(file: item.entry.name.description, profile: spools[item.entry.profile].name,
                         reason: item.reason, code: item.code, csrSHA256: item.digest)
        }
        if let metrics {
            let shown = Date()
            for item in published {
                metrics.published(profile: spools[item.entry.profile].name, republished: !publishedFresh.contains(item.entry),
                                  since: item.identity.changed.date, at: shown)
            }
            for item in rejected { metrics.rejected(profile: spools[item.entry.profile].name, code: item.code) }
        }
        counters.add(issued: recorded.filter { publishedEntries.contains($0.entry) }.count, republished: republished,
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
    private func record(_ fresh: [(entry: InboxEntry, certificate: IssuedCertificate)], at now: Date,
                        state: inout State) -> [(entry: InboxEntry, certificate: IssuedCertificate)] {
        guard !fresh.isEmpty else { return [] }
        let records = fresh.map { Self.record($0.certificate, name: $0.entry.name, profile: spools[$0.entry.profile].name, at: now) }
        do {
            try ledgerWait.during { try ledger.recordIssued(records) }
            state.episodes.succeeded(.recordCertificates, log: log)
            return fresh
        } catch let error as LedgerError where error.code == .duplicateSerial || error.code == .invalidRecord {
            var kept: [(entry: InboxEntry, certificate: IssuedCertificate)] = []
            var storageFailed = false
            for (item, record) in zip(fresh, records) {
                if storageFailed {
                    unrecorded.keep(item.certificate, for: item.entry)
                    continue
                }
                do {
                    try ledgerWait.during { try ledger.recordIssued([record]) }
                    kept.append(item)
                } catch let error as LedgerError where error.code == .duplicateSerial || error.code == .invalidRecord {
                    // A colliding serial is drawn anew at the next issuance: not kept.
                    log.failure("cannot record serial \(record.serial) for \(item.entry)\(spools[item.entry.profile].qualifier) in the ledger: \(error)")
                } catch {
                    // The ledger itself fails now: keep this one and the rest for the retry.
                    storageFailed = true
                    unrecorded.keep(item.certificate, for: item.entry)
                    state.episodes.failed(.recordCertificates, count: fresh.count - kept.count, error: "\(error)", log: log)
                }
            }
            if !storageFailed { state.episodes.succeeded(.recordCertificates, log: log) }
            return kept
        } catch {
            state.episodes.failed(.recordCertificates, count: fresh.count, error: "\(fresh.count) certificates: \(error)", log: log)
            for (entry, certificate) in fresh { unrecorded.keep(certificate, for: entry) }
            return []
        }
    }

    static func record(_ certificate: IssuedCertificate, name: SpoolName, profile: String, at now: Date) -> IssuanceRecord {
        IssuanceRecord(
            serial: certificate.serialHex, subject: certificate.subject, sans: certificate.subjectAlternativeNames,
            notBefore: certificate.notBefore, notAfter: certificate.notAfter, issuedAt: now, profile: profile,
            sourceFile: name.description, csrSHA256: certificate.csrSHA256, certificate: Data(certificate.der)
        )
    }
}
