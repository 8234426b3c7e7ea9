import Foundation
import Issuance
import Journal
import Ledger
import Spool

/// `dropca run`: the inbox watcher, the worker pool and the publisher, wired together
/// with systemd's notification protocol and signals (docs/ARCHITECTURE.md walks a file
/// through them).
///
/// `run` is three steps: set up the spool (``SpoolResources``: the instance lock first,
/// then the folders and the ledger, then crash recovery), start the pipeline
/// (``Pipeline``: intake → workers → publisher) and the CRL thread (``CRLPublisher``), and
/// route signals to them (``SignalRouting``) until a stop; then drain the pipeline.
final class Daemon: Sendable {
    private let invocation: Invocation
    /// The configuration the daemon started with. A reload replaces the issuer only;
    /// what needs a restart is compared against this.
    private let configuration: Configuration
    private let log: DaemonLog
    private let notifier: Notifier
    private let issuerBox: IssuerBox
    private let counters = DaemonCounters()
    /// `dropca run --new-ledger`: start a new ledger if the one found would be refused.
    private let newLedger: Bool
    /// For the metrics' build info.
    private let version: String

    init(invocation: Invocation, configuration: Configuration, issuer: Issuer, log: DaemonLog, notifier: Notifier,
         newLedger: Bool = false, version: String) {
        self.invocation = invocation
        self.version = version
        self.newLedger = newLedger
        self.configuration = configuration
        self.log = log
        self.notifier = notifier
        self.issuerBox = IssuerBox(issuer)
    }

    /// Runs until SIGTERM/SIGINT (returns 0), a fatal condition such as losing the inbox or
    /// the ledger (returns 1, so that systemd's Restart=on-failure starts a fresh instance),
    /// or another instance on the same state directory or a ledger it refuses (returns 2 at
    /// once).
    func run() -> Int32 {
        // `dropca revoke` sends SIGUSR1 to the PID in the lock file as soon as the lock is
        // held; its default action would end the process before `SignalRouting` handles it.
        signal(SIGUSR1, SIG_IGN)
        let spool: SpoolResources
        do {
            spool = try SpoolResources(configuration: configuration, log: log, newLedger: newLedger)
        } catch let failure as InstanceLock.Failure {
            log.startupFailed("\(failure)")
            if case .held = failure { return 2 }
            return 1
        } catch let refusal as LedgerRefusal {
            log.startupFailed(refusal.description)
            return 2
        } catch {
            log.startupFailed("\(error)")
            return 1
        }
        spool.recoverUnpublished()
        RejectionReconciliation(failed: spool.failed, ledger: spool.ledger, log: log).run()

        // The watch is set before the startup scan, so nothing that arrives in between is missed.
        let watcher: InboxWatcher
        do {
            watcher = try InboxWatcher(inbox: spool.inbox)
        } catch {
            log.startupFailed("cannot watch the inbox: \(error)")
            return 1
        }

        let issuerBox = self.issuerBox
        let crl: CRLPublisher? = CRLPublisher(settings: configuration.crl, ledger: spool.ledger,
                                              issuer: { issuerBox.issuer }, log: log)
        let metrics = configuration.metrics.textfile.map { _ in DaemonMetrics(version: version) }
        let pipeline = Pipeline(
            spool: spool, watcher: watcher, configuration: configuration, issuerBox: issuerBox,
            counters: counters, log: log, notifier: notifier, metrics: metrics, extraStatus: { crl?.statusLine }
        )
        var textfile: MetricsTextfile? = nil
        if let path = configuration.metrics.textfile, let metrics {
            let (intake, ledger) = (pipeline.intake, spool.ledger)
            textfile = MetricsTextfile(path: path, metrics: metrics, log: log) {
                let now = Date()
                let published = crl?.lastPublished
                return DaemonMetrics.Snapshot(
                    inputsWaiting: intake.waitingCount, caNotAfter: issuerBox.issuer.authority.notAfter,
                    crlNumber: published?.number, crlNextUpdate: published?.nextUpdate,
                    expiringWithin30Days: try? ledger.countExpiring(before: now.addingTimeInterval(30 * 86_400), after: now))
            }
        }
        // Losing the ledger stops intake like a signal; what stopped it is asked below.
        let ledgerWatch = LedgerWatch(ledger: spool.ledger) { pipeline.intake.stop() }
        ledgerWatch.start()
        crl?.start()
        pipeline.start()
        textfile?.start()
        let signals = SignalRouting(
            stop: { pipeline.intake.stop() },
            reload: { [self] in
                reload()
                pipeline.issuerReplaced()
                crl?.wake()
            },
            revoked: { crl?.wake() }
        )
        let exit = pipeline.intake.run()

        // Stop: no new names; names queued but not started stay in the inbox for the next
        // start; files already being issued are finished and published.
        _ = notifier.stopping()
        pipeline.drain()
        crl?.stop()
        // The last write counts everything the drain published.
        textfile?.stop()
        signals.cancel()
        ledgerWatch.stop()
        // Nothing writes any more: a ledger lost meanwhile (the watch found it, or the
        // drain did) is saved as far as it can be, logged, and ends the run with 1.
        if let loss = ledgerWatch.loss ?? spool.ledger.loss() {
            if case .inboxLost(let reason) = exit { log.inboxLost(path: configuration.spool.inbox, reason: reason) }
            let kept = spool.ledger.preserve(after: loss, at: Date())
            do {
                try spool.ledger.close()
            } catch {
                log.failure("closing the lost ledger: \(error)")
            }
            log.ledgerLost(path: spool.ledger.path, loss: loss, kept: kept)
            withExtendedLifetime(spool) {}
            return 1
        }
        // A clean stop leaves the whole ledger in ledger.sqlite, not in its -wal file, so that
        // a copy of that one file is a complete ledger. The instance lock and the ledger are
        // held until the pipeline has drained, and released only here.
        do {
            try spool.ledger.close()
        } catch {
            log.failure("closing the ledger: \(error)")
        }
        withExtendedLifetime(spool) {}
        switch exit {
        case .stopped:
            log.stopping("dropca stopped: \(counters.summary) since start")
            return 0
        case .inboxLost(let reason):
            log.inboxLost(path: configuration.spool.inbox, reason: reason)
            return 1
        case .failed(let reason):
            log.failure("stopping on an error: \(reason)")
            return 1
        }
    }

    /// SIGHUP: a new configuration and CA, or, if either is broken, the old ones kept.
    /// Runs on the signal queue, one reload at a time.
    private func reload() {
        _ = notifier.reloading()
        defer { _ = notifier.ready() }
        let fresh: Configuration
        let issuer: Issuer
        do {
            (fresh, issuer) = try invocation.loadAuthority()
        } catch {
            log.reloadFailed(error.lines.joined(separator: "; "))
            return
        }
        var restartOnly: [String] = []
        if fresh.spool.inbox != configuration.spool.inbox || fresh.spool.outbox != configuration.spool.outbox
            || fresh.spool.failed != configuration.spool.failed { restartOnly.append("spool folders") }
        if fresh.spool.settleSeconds != configuration.spool.settleSeconds
            || fresh.spool.rescanSeconds != configuration.spool.rescanSeconds { restartOnly.append("spool timing") }
        if fresh.state.directory != configuration.state.directory { restartOnly.append("state.directory") }
        if fresh.daemon.workers != configuration.daemon.workers { restartOnly.append("daemon.workers") }
        if fresh.crl != configuration.crl { restartOnly.append("[crl]") }
        issuerBox.replace(with: issuer)
        var summary = "configuration reloaded from \(invocation.configPath): \(issuer.authority.summary)"
        if !restartOnly.isEmpty {
            summary += "; changes to \(restartOnly.joined(separator: ", ")) take effect at the next restart"
        }
        log.reloaded(summary)
    }
}
