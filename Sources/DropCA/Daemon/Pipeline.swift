import Foundation
import Issuance
import Journal
import Spool

/// The daemon's three stages and the two queues between them, shared by every profile:
/// intake loop (this thread: ``IntakeLoop/run()``, every inbox) → names queue → `daemon.workers`
/// worker threads (``IssuanceWorker``, CPU-bound) → results queue → one publisher thread
/// (``Publisher``, fsync-bound, batches) → back to intake as "finished".
///
/// The intake loop never has more names out than ``inFlightLimit(workers:)``, so a burst
/// waits in the inbox rather than in memory. ``start()`` starts the workers and the
/// publisher; ``drain()``, after the intake loop has returned, drops names not yet started
/// (they stay in the inbox), finishes what the workers hold and publishes it.
final class Pipeline: Sendable {
    let intake: IntakeLoop
    private let names = WorkQueue<InboxEntry>()
    private let results = WorkQueue<WorkResult>()
    private let workerCount: Int
    private let worker: IssuanceWorker
    private let publisher: Publisher
    private let outboxes: [Outbox]
    /// The outboxes' copies of the CA certificate, retried after each batch where they failed.
    private let caCopies: IssuingCACopies?
    private let rulesBox: RulesBox
    private let counters: DaemonCounters
    /// Signed certificates the ledger could not record yet (``UnrecordedCertificates``).
    private let unrecorded: UnrecordedCertificates
    /// Request bytes in memory: workers reserve, the publisher thread gives back.
    private let budget: ByteBudget
    private let workers = DispatchGroup()
    private let publishing = DispatchGroup()

    init(spool: SpoolResources, watcher: InboxWatcher, configuration: Configuration, rulesBox: RulesBox,
         caCopies: IssuingCACopies? = nil, counters: DaemonCounters, log: DaemonLog, notifier: Notifier, metrics: DaemonMetrics? = nil, extraStatus: @escaping @Sendable () -> String? = { nil }) {
        let workerCount = configuration.daemon.effectiveWorkers
        let watching = spool.profiles.count == 1
            ? spool.profiles[0].inbox.path
            : "\(spool.profiles.count) inboxes (" + spool.profiles.map { "\($0.name): \($0.inbox.path)" }.joined(separator: ", ") + ")"
        self.workerCount = workerCount
        self.counters = counters
        self.outboxes = spool.profiles.map(\.outbox)
        self.caCopies = caCopies
        self.rulesBox = rulesBox
        let unrecorded = UnrecordedCertificates()
        self.unrecorded = unrecorded
        let budget = ByteBudget(bytes: configuration.daemon.inputBudgetMiB << 20)
        let ledgerWait = LedgerWait()
        self.worker = IssuanceWorker(spools: spool.profiles, ledger: spool.ledger, unrecorded: unrecorded, budget: budget,
                                     rules: { rulesBox.rules })
        self.publisher = Publisher(spools: spool.profiles, ledger: spool.ledger,
                                   log: log, unrecorded: unrecorded, ledgerWait: ledgerWait, metrics: metrics)
        self.budget = budget
        self.intake = IntakeLoop(
            inboxes: spool.profiles.map { profile in
                IntakeLoop.Watched(
                    inbox: profile.inbox, outbox: profile.outbox, failed: profile.failed,
                    settle: .milliseconds(Int64(profile.settings.settleSeconds * 1000)),
                    rescanInterval: profile.settings.rescanSeconds > 0 ? .seconds(profile.settings.rescanSeconds) : nil)
            },
            watcher: watcher, queue: names, capacity: Self.inFlightLimit(workers: workerCount),
            watchdogInterval: notifier.watchdogInterval, log: log,
            callbacks: IntakeLoop.Callbacks(
                ready: {
                    _ = notifier.ready()
                    log.started("dropca started: watching \(watching) with \(workerCount) workers; \(rulesBox.rules.authority.summary)")
                },
                status: { line in
                    var status = "\(counters.summary); \(line)"
                    if let waiting = ledgerWait.statusLine { status += "; \(waiting)" }
                    if let extra = extraStatus() { status += "; \(extra)" }
                    _ = notifier.status(status)
                },
                watchdog: { _ = notifier.watchdog() },
                boundedWait: { ledgerWait.current.map { $0 < LedgerWait.hangAfter } ?? false },
                authorityProblem: { rulesBox.rules.authority.signingProblem(at: Date()) }
            )
        )
    }

    /// A reload brought another CA certificate: certificates the old one signed and the
    /// ledger could not record yet are dropped, and their inputs signed by the new one (an
    /// outbox must not get a certificate of a CA no longer in force). Other changes (policy,
    /// names, outputs) keep them: they were signed under the rules then in force, and a
    /// second signature would be a second certificate for one upload.
    func caReplaced() {
        unrecorded.removeAll()
    }

    /// Starts the worker threads and the publisher thread.
    func start() {
        for outbox in outboxes { outbox.keepSpares() }
        let (names, results, worker) = (self.names, self.results, self.worker)
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
        let (publisher, intake, outboxes, counters, budget) = (self.publisher, self.intake, self.outboxes, self.counters, self.budget)
        let (caCopies, rulesBox) = (self.caCopies, self.rulesBox)
        Self.thread(named: "dropca-publisher", group: publishing) {
            var state = Publisher.State()
            defer {
                // A last try at a clean stop; what still fails is rebuilt at the next start.
                state.nextRetry = nil
                publisher.retryPending(&state)
            }
            while true {
                // Whatever is queued, topped up to 256 for at most 10 ms while workers are
                // still busy: enough to spread the per-batch fsyncs thin, and a small delay
                // next to the fsyncs themselves. An upload into an idle daemon is not held back.
                var batch = results.popBatch(waitingUpTo: 1, target: 256, gather: 0.01) { names.outstanding > 0 }
                if batch.isEmpty {
                    if results.isClosedAndEmpty { break }
                    publisher.retryPending(&state)
                    // Idle: an outbox that could not take the CA's copy gets it without
                    // waiting for an upload (after a back-off, ``IssuingCACopies``).
                    caCopies?.retry(idle: true) { rulesBox.rules.authority }
                    continue
                }
                let leftBehind = publisher.publish(batch, counters: counters, state: &state)
                let failing = state.episodes.writesFailing
                let finished = batch.map(\.entry)
                // The bytes rejected inputs held go back to the budget once the batch
                // holding them is gone, not before.
                let held = batch.reduce(0) { $0 + $1.heldBytes }
                batch = []
                budget.release(held)
                intake.finished(finished, retry: leftBehind, failing: failing)
                // Spares are for the next upload into an idle daemon. With several profiles,
                // refilling each outbox's after every batch of a burst would create two files
                // per profile on this thread, where staging would have created them beside
                // the ledger's commit: so every outbox's, once the burst is over.
                if outboxes.count == 1 || names.outstanding == 0 {
                    for outbox in outboxes { outbox.keepSpares() }
                }
                caCopies?.retry { rulesBox.rules.authority }
            }
        }
    }

    /// After the intake loop returned: names queued but not started stay in the inbox;
    /// what the workers hold is finished and published; then the threads are gone.
    func drain() {
        names.close(dropPending: true)
        workers.wait()
        results.close()
        publishing.wait()
        for outbox in outboxes {
            outbox.removeSpares()
            // Temporaries a failed publish could not remove (a read-only or full outbox at
            // the time) go at a clean stop, if the outbox takes writes again.
            _ = try? outbox.removeStaleTemporaries()
        }
        // And those of reason files a failed rejection left in failed/.
        for spool in publisher.spools { _ = try? spool.failed.removeStaleTemporaries() }
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
