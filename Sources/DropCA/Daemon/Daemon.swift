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
/// then every profile's folders and the ledger, then crash recovery), start the pipeline
/// (``Pipeline``: intake → workers → publisher, shared by every profile) and the CRL
/// thread (``CRLPublisher``), and route signals to them (``SignalRouting``) until a stop;
/// then drain the pipeline.
final class Daemon: Sendable {
    private let invocation: Invocation
    /// The configuration the daemon started with. A reload replaces the rules only (every
    /// profile's issuer and outputs); what needs a restart is compared against this.
    private let configuration: Configuration
    private let log: DaemonLog
    private let notifier: Notifier
    private let rulesBox: RulesBox
    private let counters = DaemonCounters()
    /// `dropca run --new-ledger`: start a new ledger if the one found would be refused.
    private let newLedger: Bool
    /// For the metrics' build info.
    private let version: String

    init(invocation: Invocation, configuration: Configuration, rules: IssuanceRules, log: DaemonLog, notifier: Notifier,
         newLedger: Bool = false, version: String) {
        self.invocation = invocation
        self.version = version
        self.newLedger = newLedger
        self.configuration = configuration
        self.log = log
        self.notifier = notifier
        self.rulesBox = RulesBox(rules)
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
            log.startupFailed(refusal.description + (refusal.mayPass ? "; exit status 1: a restart tries again" : ""))
            return refusal.mayPass ? 1 : 2
        } catch let shared as SpoolResources.SharedFolder {
            // A configuration a restart cannot fix, as a configuration that does not load.
            log.startupFailed(shared.description)
            return 2
        } catch {
            log.startupFailed("\(error)")
            return 1
        }
        do {
            try spool.recoverUnpublished(rules: rulesBox.rules)
            try RejectionReconciliation.reconcile(spool.profiles, ledger: spool.ledger, log: log)
        } catch {
            log.startupFailed("\(error.description); exit status 1: a restart tries again, and nothing is taken from the inbox before it has worked")
            return 1
        }
        let caCopies = IssuingCACopies(spools: spool.profiles, log: log)
        caCopies.publish(rulesBox.rules.authority)

        // The watch is set before the startup scan, so nothing that arrives in between is
        // missed: one inotify descriptor, a watch per profile's inbox.
        let watcher: InboxWatcher
        do {
            watcher = try InboxWatcher(inboxes: spool.profiles.map(\.inbox))
        } catch {
            log.startupFailed("cannot watch the inbox: \(error)")
            return 1
        }

        let rulesBox = self.rulesBox
        let crl: CRLPublisher? = CRLPublisher(settings: configuration.crl, ledger: spool.ledger,
                                              issuer: { rulesBox.issuer }, log: log)
        let metrics = configuration.metrics.textfile.map { _ in DaemonMetrics(version: version, profiles: configuration.profiles.map(\.name)) }
        let pipeline = Pipeline(
            spool: spool, watcher: watcher, configuration: configuration, rulesBox: rulesBox, caCopies: caCopies,
            counters: counters, log: log, notifier: notifier, metrics: metrics, extraStatus: { crl?.statusLine }
        )
        var textfile: MetricsTextfile? = nil
        if let path = configuration.metrics.textfile, let metrics {
            let (intake, ledger) = (pipeline.intake, spool.ledger)
            textfile = MetricsTextfile(path: path, metrics: metrics, log: log) {
                let now = Date()
                let published = crl?.lastPublished
                return DaemonMetrics.Snapshot(
                    inputsWaiting: intake.waitingCount, caNotAfter: rulesBox.rules.authority.notAfter,
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
                if reload(spool: spool, caCopies: caCopies) {
                    pipeline.caReplaced()
                }
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
            if case .inboxLost(let path, let reason) = exit { log.inboxLost(path: path, reason: reason) }
            if case .folderLost(let role, let path, let reason) = exit { log.inboxLost(path: path, reason: reason, role: role) }
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
        case .inboxLost(let path, let reason):
            log.inboxLost(path: path, reason: reason)
            return 1
        case .folderLost(let role, let path, let reason):
            log.inboxLost(path: path, reason: reason, role: role)
            return 1
        case .failed(let reason):
            log.failure("stopping on an error: \(reason)")
            return 1
        }
    }

    /// SIGHUP: a new configuration and CA, or, if either is broken, the old ones kept.
    /// Runs on the signal queue, one reload at a time. Returns whether new rules were put
    /// in force.
    ///
    /// Every profile's policy, certificate profile, names and outputs, and the CA, apply
    /// to the next file. A reload that adds or removes a profile is refused as a whole,
    /// with a line saying a restart is needed: the running daemon watches the inboxes it
    /// opened at start, and applying the rest without them would be half a reload.
    /// Returns whether the reload brought another CA certificate.
    private func reload(spool: SpoolResources, caCopies: IssuingCACopies) -> Bool {
        _ = notifier.reloading()
        defer { _ = notifier.ready() }
        let fresh: Configuration
        let loaded: IssuanceRules
        do {
            (fresh, loaded) = try invocation.loadRules()
        } catch {
            log.reloadFailed(error.lines.joined(separator: "; "))
            return false
        }
        let running = configuration.profiles.map(\.name)
        let added = fresh.profiles.map(\.name).filter { !running.contains($0) }
        let removed = running.filter { fresh.profile(named: $0) == nil }
        guard added.isEmpty, removed.isEmpty, let rules = loaded.ordered(like: spool.profiles) else {
            var change: [String] = []
            if !added.isEmpty { change.append("adds profile \(added.joined(separator: ", "))") }
            if !removed.isEmpty { change.append("removes profile \(removed.joined(separator: ", "))") }
            log.reloadFailed("the configuration \(change.joined(separator: " and ")); adding or removing a profile needs a restart (systemctl restart dropca), so nothing of it was applied")
            return false
        }
        var restartOnly: [String] = []
        for profile in configuration.profiles {
            guard let new = fresh.profile(named: profile.name) else { continue }
            let prefix = profile.name == Configuration.Profile.defaultName ? "" : "profiles.\(profile.name)."
            if new.spool.inbox != profile.spool.inbox || new.spool.outbox != profile.spool.outbox
                || new.spool.failed != profile.spool.failed { restartOnly.append("\(prefix)spool folders") }
            if new.spool.settleSeconds != profile.spool.settleSeconds
                || new.spool.rescanSeconds != profile.spool.rescanSeconds { restartOnly.append("\(prefix)spool timing") }
        }
        if fresh.state.directory != configuration.state.directory { restartOnly.append("state.directory") }
        if fresh.daemon.workers != configuration.daemon.workers { restartOnly.append("daemon.workers") }
        if fresh.crl != configuration.crl { restartOnly.append("[crl]") }
        let newCA = rules.authority.certificateDER != rulesBox.rules.authority.certificateDER
        rulesBox.replace(with: rules)
        if newCA { caCopies.publish(rules.authority) }
        var summary = "configuration reloaded from \(invocation.configPath): \(rules.authority.summary)"
        if rules.profiles.count > 1 { summary += "; profiles \(rules.profiles.map(\.name).joined(separator: ", "))" }
        if !restartOnly.isEmpty {
            summary += "; changes to \(restartOnly.joined(separator: ", ")) take effect at the next restart"
        }
        log.reloaded(summary)
        return newCA
    }
}
