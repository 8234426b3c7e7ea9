import Dispatch
import Foundation
import Issuance
import Journal
import Ledger
import Logging
import Spool

/// `dropca run`: the inbox watcher, the worker pool and the publisher, wired together
/// with systemd's notification protocol and signals (DESIGN sections 3 and 4).
///
/// Threads: one intake loop (blocks in poll), `daemon.workers` signing workers (CPU
/// bound), one publisher (fsync bound, batches results). Names flow intake → workers →
/// publisher → back to intake as "finished"; the intake loop never has more names out
/// than the queue capacity, so a burst waits in the inbox rather than in memory.
public final class Daemon: @unchecked Sendable {
    private let configPath: String
    private let environment: [String: String]
    private var configuration: Configuration
    private let logger: Logger
    private let log: DaemonLog
    private let notifier: Notifier
    private let issuerBox: IssuerBox
    private let counters = DaemonCounters()

    public init(configPath: String, configuration: Configuration, issuer: Issuer, environment: [String: String], logger: Logger, notifier: Notifier) {
        self.configPath = configPath
        self.configuration = configuration
        self.environment = environment
        self.logger = logger
        self.log = DaemonLog(logger: logger)
        self.notifier = notifier
        self.issuerBox = IssuerBox(issuer)
    }

    /// Runs until SIGTERM/SIGINT (returns 0) or a fatal condition such as losing the
    /// inbox (returns 1, so that systemd's Restart=on-failure starts a fresh instance).
    public func run() -> Int32 {
        let spool = configuration.spool
        let inbox: Inbox, outbox: Outbox, failed: FailedFolder, ledger: Ledger
        do {
            inbox = try Inbox(path: spool.inbox, maxBytes: configuration.policy.maxCSRBytes)
            outbox = try Outbox(path: spool.outbox)
            failed = try FailedFolder(path: spool.failed)
            try FileManager.default.createDirectory(atPath: configuration.state.directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            ledger = try Ledger(directory: configuration.state.directory)
            _ = try outbox.removeStaleTemporaries()
            _ = try failed.removeStaleTemporaries()
        } catch {
            log.startupFailed("\(error)")
            return 1
        }
        outbox.keepSpares()
        let publisher = Publisher(inbox: inbox, outbox: outbox, failed: failed, ledger: ledger, log: log)
        recoverUnpublished(ledger: ledger, inbox: inbox, outbox: outbox)

        // The watch is set before the startup scan, so nothing that arrives in between is missed.
        let watcher: InboxWatcher
        do {
            watcher = try InboxWatcher(inbox: inbox)
        } catch {
            log.startupFailed("cannot watch the inbox: \(error)")
            return 1
        }

        let workerCount = configuration.daemon.effectiveWorkers
        let names = WorkQueue<SpoolName>()
        let results = WorkQueue<WorkResult>()
        let intake = IntakeLoop(
            inbox: inbox, watcher: watcher, queue: names, capacity: Self.inFlightLimit(workers: workerCount),
            settle: .milliseconds(Int64(configuration.spool.settleSeconds * 1000)),
            rescanInterval: configuration.spool.rescanSeconds > 0 ? .seconds(configuration.spool.rescanSeconds) : nil,
            watchdogInterval: notifier.watchdogInterval, log: log
        )
        let counters = self.counters
        let notifier = self.notifier
        let log = self.log
        intake.onReady = { [issuerBox] in
            _ = notifier.ready()
            log.started("dropca started: watching \(spool.inbox) with \(workerCount) workers; \(issuerBox.issuer.authority.summary)")
        }
        intake.onStatus = { line in
            let totals = counters.totals
            _ = notifier.status("issued \(totals.issued), rejected \(totals.rejected); \(line)")
        }
        intake.onWatchdog = { _ = notifier.watchdog() }

        let worker = IssuanceWorker(inbox: inbox, ledger: ledger, issuer: { [issuerBox] in issuerBox.issuer })
        let workers = DispatchGroup()
        for index in 0..<workerCount {
            Self.thread(named: "dropca-worker-\(index)", group: workers) {
                while let name = names.pop() {
                    let result = worker.process(name)
                    names.markDone()
                    // The publisher gathering a batch is woken when the batch is full or
                    // when this was the last name out, not for every result.
                    results.push(result, wakeGatherer: names.outstanding == 0)
                }
            }
        }
        let publishing = DispatchGroup()
        Self.thread(named: "dropca-publisher", group: publishing) {
            while true {
                // Batches of up to 256 gathered for at most 10 ms while workers are still
                // busy: enough to spread the per-batch fsyncs thin, and a small delay next
                // to the fsyncs themselves. An upload into an idle daemon is not held back.
                let batch = results.popBatch(waitingUpTo: 1, target: 256, gather: 0.01) { names.outstanding > 0 }
                if batch.isEmpty {
                    if results.isClosedAndEmpty { break }
                    continue
                }
                publisher.publish(batch, counters: counters)
                intake.finished(batch.map(\.name))
                outbox.keepSpares()
            }
        }

        let signals = installSignalHandlers(intake: intake)
        let exit = intake.run()

        // Stop: no new names; names queued but not started stay in the inbox for the next
        // start; files already being issued are finished and published.
        _ = notifier.stopping()
        names.close(dropPending: true)
        workers.wait()
        results.close()
        publishing.wait()
        outbox.removeSpares()
        signals.forEach { $0.cancel() }
        let totals = counters.totals
        switch exit {
        case .stopped:
            log.stopping("dropca stopped: issued \(totals.issued), rejected \(totals.rejected) since start")
            return 0
        case .inboxLost(let reason):
            log.inboxLost(path: spool.inbox, reason: reason)
            return 1
        case .failed(let reason):
            log.failure("stopping on an error: \(reason)")
            return 1
        }
    }

    /// After a crash between removing inputs and marking them published, certificates
    /// can be recorded but not marked: publish those whose input is gone (writing the same
    /// bytes again is harmless) and mark them. Those whose input is still there are found
    /// by the workers, which publish them again instead of issuing anew.
    private func recoverUnpublished(ledger: Ledger, inbox: Inbox, outbox: Outbox) {
        do {
            let pending = try ledger.unpublished().filter { inbox.status(of: SpoolName($0.sourceFile)) == nil }
            guard !pending.isEmpty else { return }
            _ = try outbox.publish(pending.map { (input: SpoolName($0.sourceFile), certificate: [UInt8]($0.certificate)) })
            try ledger.markPublished(serials: pending.map(\.serial), at: Date())
            for record in pending { log.republished(file: record.sourceFile, serial: record.serial) }
        } catch {
            log.failure("cannot recover unpublished certificates: \(error)")
        }
    }

    private func installSignalHandlers(intake: IntakeLoop) -> [DispatchSourceSignal] {
        let queue = DispatchQueue(label: "dropca.signals")
        var sources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { intake.stop() }
            source.resume()
            sources.append(source)
        }
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hangup.setEventHandler { [self] in reload() }
        hangup.resume()
        sources.append(hangup)
        return sources
    }

    /// SIGHUP: a new configuration and CA, or, if either is broken, the old ones kept.
    /// Runs on the signal queue, one reload at a time.
    private func reload() {
        _ = notifier.reloading()
        defer { _ = notifier.ready() }
        let fresh: Configuration
        let issuer: Issuer
        do {
            fresh = try Configuration.load(path: configPath, environment: environment)
            issuer = try AuthorityLoader.issuer(for: fresh, environment: environment)
        } catch {
            log.reloadFailed("\(error)".replacingOccurrences(of: "\n", with: "; "))
            return
        }
        var restartOnly: [String] = []
        if fresh.spool.inbox != configuration.spool.inbox || fresh.spool.outbox != configuration.spool.outbox
            || fresh.spool.failed != configuration.spool.failed { restartOnly.append("spool folders") }
        if fresh.spool.settleSeconds != configuration.spool.settleSeconds
            || fresh.spool.rescanSeconds != configuration.spool.rescanSeconds { restartOnly.append("spool timing") }
        if fresh.state.directory != configuration.state.directory { restartOnly.append("state.directory") }
        if fresh.daemon.workers != configuration.daemon.workers { restartOnly.append("daemon.workers") }
        issuerBox.replace(with: issuer)
        var summary = "configuration reloaded from \(configPath): \(issuer.authority.summary)"
        if !restartOnly.isEmpty {
            summary += "; changes to \(restartOnly.joined(separator: ", ")) take effect at the next restart"
        }
        log.reloaded(summary)
    }

    /// How many names may be out of the inbox at once: queued, being issued, or waiting
    /// for the publisher. It has to cover what the workers sign while the publisher spends
    /// a batch's few fsyncs (milliseconds each), or the workers run dry and every batch
    /// stays small; 64 capped a P-256 burst at batches of about 32 and left the CPUs half
    /// idle (`scripts/bench`). 1024 names cost about 4 MB at most (a result holds one
    /// certificate), and a burst of any size still waits in the inbox, not in memory.
    static func inFlightLimit(workers: Int) -> Int {
        max(1024, workers * 128)
    }

    private static func thread(named name: String, group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.name = name
        thread.start()
    }
}
