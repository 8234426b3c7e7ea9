import Foundation
import Ledger
import Spool

/// At start, before the first look at the inbox: makes `failed/` and the ledger agree, so
/// that every rejected input has its entry (or, for links, only its reason), its `.reason`
/// file and one ledger row, whatever moment a crash or a failed write interrupted.
///
/// The publisher writes a rejection in this order: reason file (durable), then the entry
/// moves, then — with its batch — the ledger row. So after an interruption:
/// - a reason file whose `kept as:` entry never arrived belongs to a rejection that did
///   not happen: the input is still in the inbox (it is rejected again, under the same
///   name) or its uploader took it away. Such a reason is withdrawn;
/// - a reason file with its entry but no ledger row lost its row: the row is written
///   from the reason file (input, code, digest, time and reason are all in it).
///
/// Only reason files from a little before the newest recorded rejection on are read:
/// everything older was recorded (see ``Ledger/latestRejectionTime()``), so the cost at
/// start does not grow with the size of `failed/`.
///
/// One run per profile: its `failed/` against the ledger's rows of that profile. The
/// newest recorded rejection is the ledger's, whatever the profile: one publisher writes
/// every profile's rows, and a row it could not write waits for the next transaction,
/// whichever profile that one is for. It is read once, before any profile's run
/// (``reconcile(_:ledger:log:)``): rows one run restores are new, and taken as the newest
/// they would hide the next profile's older reasons (every profile of a new ledger).
struct RejectionReconciliation {
    let failed: FailedFolder
    /// The profile whose `failed/` this is; its rows are the ones compared, and a row
    /// rebuilt from one of its reason files is its.
    var profile: String = Configuration.Profile.defaultName
    let ledger: Ledger
    let log: DaemonLog

    /// Clock differences between the reason file's time and the row's (a long batch) are
    /// far below this.
    static let slack: TimeInterval = 600

    struct Outcome: Equatable {
        var restoredRows = 0
        var withdrawnReasons = 0
    }

    /// Every profile's `failed/` against the ledger, from one reading of its newest row.
    /// A profile's `failed/` that cannot be read or changed is logged and left (its own
    /// trouble); a ledger that cannot be read or written stops the start.
    static func reconcile(_ profiles: [ProfileSpool], ledger: Ledger, log: DaemonLog) throws(LedgerUnavailableAtStart) {
        let latest: Date?
        do {
            latest = try ledger.latestRejectionTime()
        } catch {
            guard (error as? LedgerError)?.mayPass ?? true else {
                log.failure("cannot reconcile failed/ with the ledger: \(error)")
                return
            }
            throw LedgerUnavailableAtStart(description: "cannot reconcile failed/ with the ledger: \(error)")
        }
        for profile in profiles {
            try RejectionReconciliation(failed: profile.failed, profile: profile.name, ledger: ledger, log: log).run(newestRecorded: latest)
        }
    }

    /// `latest`: the newest rejection the ledger held before any reconciliation.
    @discardableResult
    func run(newestRecorded latest: Date?) throws(LedgerUnavailableAtStart) -> Outcome {
        var outcome = Outcome()
        let which = profile == Configuration.Profile.defaultName ? "failed/" : "failed/ of profile \(profile)"
        /// A ledger call: a failure that may pass (locked, full, I/O) ends the start rather
        /// than the profile's run; one that would only come back (a row the ledger refuses)
        /// is logged with the profile's other failures.
        func fromLedger<T>(_ body: () throws -> T) throws -> T {
            do {
                return try body()
            } catch let error as LedgerError where !error.mayPass {
                throw error
            } catch {
                throw LedgerUnavailableAtStart(description: "cannot reconcile \(which) with the ledger: \(error)")
            }
        }
        do {
            let since = latest.map { $0.addingTimeInterval(-Self.slack) }
            let reasons = try failed.reasons(modifiedSince: since.map { Int($0.timeIntervalSince1970) })
            guard !reasons.isEmpty else { return outcome }
            let candidates = reasons.map { ($0, Self.record(from: $0, profile: profile)) }
            // Rows from a little before the oldest reason picked (by its own `rejected at:`,
            // not its mtime: a failed/ copied back without its times has new mtimes).
            let oldest = ([since] + candidates.map { $0.1?.rejectedAt }).compactMap { $0 }.min()
            // What the ledger has, as a multiset: one input rejected twice in a second has
            // two rows and two reason files.
            var recorded: [Key: Int] = [:]
            for row in try fromLedger({ try ledger.rejections(since: oldest.map { $0.addingTimeInterval(-Self.slack) } ?? .distantPast) })
            where row.profile == profile {
                recorded[Key(row), default: 0] += 1
            }
            func consume(_ record: RejectionRecord?) -> Bool {
                guard let record, let count = recorded[Key(record)], count > 0 else { return false }
                recorded[Key(record)] = count - 1
                return true
            }
            var missing: [RejectionRecord] = []
            for (reason, record) in candidates {
                let hasRow = consume(record)
                if let kept = reason.keptAs, !failed.holds(kept) {
                    // With a row, the rejection did finish and someone removed the entry
                    // since: the reason stays.
                    if !hasRow {
                        // One that cannot be withdrawn (failed/ read-only) stays, logged;
                        // the rows of the others are still written below.
                        do {
                            try failed.withdraw(reason)
                            outcome.withdrawnReasons += 1
                        } catch {
                            log.failure("cannot withdraw the unfinished reason \(reason.name) in \(which): \(error)")
                        }
                    }
                    continue
                }
                // A reason file without a `code:` line predates reconciliation; its row was
                // written (or lost) by that version, which cannot be told from here.
                guard reason.code != nil, let record, !hasRow else { continue }
                missing.append(record)
            }
            if !missing.isEmpty {
                try fromLedger { try ledger.recordRejected(missing) }
                outcome.restoredRows = missing.count
            }
            if outcome != Outcome() {
                log.reconciled("\(which) and the ledger reconciled at start: \(outcome.restoredRows) rejections recorded from their reason files, \(outcome.withdrawnReasons) reasons of rejections that never finished withdrawn")
            }
        } catch let unavailable as LedgerUnavailableAtStart {
            throw unavailable
        } catch {
            log.failure("cannot reconcile \(which) with the ledger: \(error)")
        }
        return outcome
    }

    /// The ledger row a reason file stands for.
    static func record(from reason: ReasonFile, profile: String = Configuration.Profile.defaultName) -> RejectionRecord? {
        guard let input = reason.input, let stamp = reason.rejectedAt, let date = ISO8601DateFormatter().date(from: stamp) else {
            return nil
        }
        return RejectionRecord(profile: profile, sourceFile: input, csrSHA256: reason.sha256, code: reason.code ?? "unknown",
                               reason: reason.reason, rejectedAt: date)
    }

    /// What a row and a reason file have in common, as the reason file writes it.
    private struct Key: Hashable {
        let input: String
        let seconds: Int

        init(_ record: RejectionRecord) {
            input = FailedFolder.oneLine(record.sourceFile)
            seconds = Int(record.rejectedAt.timeIntervalSince1970.rounded(.down))
        }
    }
}
