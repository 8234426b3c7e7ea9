import Spool
import Synchronization

/// The loop that watches the inbox and decides what to hand to the workers: inotify
/// events, the startup/overflow/periodic scans and the settle rule (all kept by
/// `IntakeTracker`), bounded by the work queue's capacity.
///
/// Runs on a thread of its own because it blocks in `poll(2)`. It is also the loop that
/// pets the systemd watchdog: it wakes at least every quarter of WATCHDOG_USEC and only
/// pets it while the workers keep up or have nothing to do. It
/// wakes every two seconds anyway, for the STATUS= line and to check the inbox is still there
/// (checked at most every half second while busy).
///
/// What other threads touch (the tracker, the stop flag, the in-flight count) is in one
/// `Mutex`: the publisher reports finished names and the signal queue asks it to stop.
/// The loop never holds that lock while it calls out (the inbox, the work queue, the
/// callbacks), except for `IntakeTracker.apply`'s status look-up, which takes no lock.
final class IntakeLoop: Sendable {
    enum Exit: Sendable, Equatable {
        case stopped
        case inboxLost(String)
        case failed(String)
    }

    private let inbox: Inbox
    private let watcher: InboxWatcher
    private let queue: WorkQueue<SpoolName>
    private let capacity: Int
    private let rescanInterval: Duration?
    private let watchdogInterval: Duration?
    private let log: DaemonLog
    private let clock = ContinuousClock()

    private struct State {
        var tracker: IntakeTracker
        var stopRequested = false
        var inFlight = 0
        var finishedSinceLastPet = true
        /// Why nothing is handed out now: the CA is expired or not valid yet. Inputs wait in
        /// the inbox until a reload brings a valid one.
        var authorityProblem: String?
        /// A batch left inputs in the inbox after a failure: scan again at this time.
        var retryScanDue: ContinuousClock.Instant?
        /// The wait before that scan: 1 s, doubled after each batch that fails again, up
        /// to 30 s; back to 1 s after a batch without failure.
        var retryBackoff: Duration = .seconds(1)
    }

    private let lock: Mutex<State>

    /// What the loop tells the rest of the daemon, on the loop's own thread.
    struct Callbacks: Sendable {
        /// Once the watch is set and the startup scan is queued (READY=1).
        var ready: @Sendable () -> Void
        /// A one-line status every few seconds (STATUS=).
        var status: @Sendable (String) -> Void
        /// Pet the watchdog (WATCHDOG=1).
        var watchdog: @Sendable () -> Void
        /// True while the publisher waits, for a bounded time, on something outside the
        /// daemon (a ledger locked by another process): work does not move then, but
        /// nothing is hung, so the watchdog is still petted (``LedgerWait``).
        var boundedWait: @Sendable () -> Bool = { false }
        /// Why the CA in force cannot sign now (expired, not valid yet), or nil.
        var authorityProblem: @Sendable () -> String? = { nil }
    }

    private let callbacks: Callbacks

    init(inbox: Inbox, watcher: InboxWatcher, queue: WorkQueue<SpoolName>, capacity: Int,
         settle: Duration, rescanInterval: Duration?, watchdogInterval: Duration?, log: DaemonLog,
         callbacks: Callbacks) {
        self.inbox = inbox
        self.watcher = watcher
        self.queue = queue
        self.capacity = capacity
        self.rescanInterval = rescanInterval
        // systemd asks for a ping every half WATCHDOG_USEC (`watchdogInterval`); pinging
        // twice as often leaves room for a slow turn of the loop.
        self.watchdogInterval = watchdogInterval.map { $0 / 2 }
        self.log = log
        self.callbacks = callbacks
        // After an inotify overflow, a file seen being written may have lost its close
        // event. `resolveLostCloses` asks the kernel whether it still has writers; when
        // the kernel will not say (no lease permission), the file is taken once it has
        // been unchanged for this long: far past `settle`, short enough not to strand it.
        self.lock = Mutex(State(tracker: IntakeTracker(settle: settle, lostCloseQuiet: max(.seconds(30), settle * 10))))
    }

    /// How often a busy loop asks ``Inbox/lossReason()`` (see `run`).
    static let lossCheckInterval: Duration = .milliseconds(500)

    /// Asks the loop to stop taking new files; safe from any thread.
    func stop() {
        lock.withLock { $0.stopRequested = true }
        watcher.wake()
    }

    /// The workers are done with these names (issued, rejected or left alone); `retry`
    /// when a failure left some of them in the inbox.
    func finished(_ names: [SpoolName], retry: Bool = false) {
        let now = clock.now
        lock.withLock { state in
            for name in names { state.tracker.finished(name) }
            state.inFlight -= names.count
            state.finishedSinceLastPet = true
            if retry {
                // Doubled per scan scheduled, not per batch: a burst's many failing
                // batches are one round of retries.
                if state.retryScanDue == nil {
                    state.retryScanDue = now + state.retryBackoff
                    state.retryBackoff = min(state.retryBackoff * 2, .seconds(30))
                }
            } else {
                state.retryBackoff = .seconds(1)
            }
        }
        watcher.wake()
    }

    /// Inputs in the inbox not finished yet (being written, settling, ready, or out with
    /// the workers and the publisher), for the metrics.
    var waitingCount: Int {
        lock.withLock { $0.tracker.counts.values.reduce(0, +) }
    }

    var statusLine: String {
        let (counts, inFlight, problem) = lock.withLock { ($0.tracker.counts, $0.inFlight, $0.authorityProblem) }
        if let problem {
            return "waiting for a valid CA (\(problem)); \(counts[.ready, default: 0]) requests wait in the inbox"
        }
        return "queued \(queue.count), in progress \(inFlight), waiting for uploads to finish \(counts[.beingWritten, default: 0] + counts[.settling, default: 0])"
    }

    func run() -> Exit {
        do {
            try scan()
        } catch {
            return .failed("cannot list the inbox \(inbox.path): \(error)")
        }
        handOut()
        callbacks.ready()
        var nextRescan = rescanInterval.map { clock.now + $0 }
        var nextStatus = clock.now
        var nextPetCheck = watchdogInterval.map { clock.now + $0 }
        var nextLostCloseCheck: ContinuousClock.Instant? = nil
        var nextLossCheck = clock.now

        while !lock.withLock({ $0.stopRequested }) {
            let now = clock.now
            var wakeAt = [lock.withLock { $0.tracker.pendingDeadline() }, lock.withLock { $0.retryScanDue },
                          nextRescan, nextPetCheck, nextLostCloseCheck, Optional(nextStatus)]
                .compactMap { $0 }.min() ?? now + .seconds(5)
            if wakeAt < now { wakeAt = now }
            let events: [InboxEvent]
            do {
                events = try watcher.nextEvents(timeout: wakeAt - now)
            } catch {
                return .failed("\(error)")
            }
            for event in events {
                switch event {
                case .inboxLost(let reason):
                    return .inboxLost(reason)
                case .overflow:
                    log.overflow()
                    lock.withLock { $0.tracker.overflowed() }
                    do { try scan() } catch { return .failed("cannot list the inbox \(inbox.path): \(error)") }
                    nextLostCloseCheck = clock.now
                default:
                    lock.withLock { $0.tracker.apply(event, status: { inbox.status(of: $0) }) }
                }
            }

            let after = clock.now
            // Two stat calls; during a burst the loop turns hundreds of times a second (every
            // finished batch wakes it), so ask at most every half second. The status wake-up
            // every two seconds keeps an idle daemon asking as before.
            if after >= nextLossCheck {
                if let reason = inbox.lossReason() {
                    return .inboxLost(reason)
                }
                nextLossCheck = after + Self.lossCheckInterval
            }
            if let deadline = lock.withLock({ $0.tracker.pendingDeadline() }), deadline <= after {
                let names = lock.withLock { $0.tracker.namesToRecheck() }
                let statuses = names.map { ($0, inbox.status(of: $0)) }
                lock.withLock { state in
                    for (name, status) in statuses { state.tracker.observed(name, status: status, at: after) }
                }
            }
            if let due = nextLostCloseCheck, due <= after {
                nextLostCloseCheck = resolveLostCloses() ? nil : after + .seconds(1)
            }
            let retryDue = lock.withLock { state -> Bool in
                guard let due = state.retryScanDue, due <= after else { return false }
                state.retryScanDue = nil
                return true
            }
            if retryDue {
                do { try scan() } catch { return .failed("cannot list the inbox \(inbox.path): \(error)") }
            }
            if let due = nextRescan, due <= after, let interval = rescanInterval {
                do { try scan() } catch { return .failed("cannot list the inbox \(inbox.path): \(error)") }
                nextRescan = after + interval
            }
            handOut()

            if after >= nextStatus {
                callbacks.status(statusLine)
                nextStatus = after + .seconds(2)
            }
            if let interval = watchdogInterval, let due = nextPetCheck, after >= due {
                // Pet only when work moves: a hung worker pool must let the watchdog fire.
                let healthy = lock.withLock { state -> Bool in
                    let ok = state.finishedSinceLastPet || state.inFlight == 0
                    state.finishedSinceLastPet = false
                    return ok
                } || callbacks.boundedWait()
                if healthy { callbacks.watchdog() }
                nextPetCheck = after + interval
            }
        }
        return .stopped
    }

    /// For files whose close event may have been lost in an overflow: those the kernel
    /// says nobody has open for writing are complete, so they count as closed now.
    /// Returns true when no such file is left to ask about.
    private func resolveLostCloses() -> Bool {
        let doubtful = lock.withLock { state in state.tracker.namesToRecheck().filter { state.tracker.state(of: $0) == .beingWritten } }
        var unresolved = 0
        for name in doubtful {
            if inbox.hasWriters(name) == false {
                lock.withLock { $0.tracker.closedWrite(name) }
            } else {
                unresolved += 1
            }
        }
        return unresolved == 0
    }

    private func scan() throws {
        let entries = try inbox.scan()
        let now = clock.now
        lock.withLock { $0.tracker.scanned(entries, at: now) }
    }

    /// Moves ready names into the work queue while it has room, unless the CA cannot sign:
    /// then they wait in the inbox (logged once), and when a valid CA is in force again the
    /// inbox is scanned anew, for names a worker handed back meanwhile.
    private func handOut() {
        let problem = callbacks.authorityProblem()
        let previous = lock.withLock { state -> String? in
            defer { state.authorityProblem = problem }
            return state.authorityProblem
        }
        if let problem {
            if previous == nil { log.authorityUnusable(problem) }
            return
        }
        if previous != nil {
            log.authorityUsable()
            try? scan()
        }
        var names: [SpoolName] = []
        lock.withLock { state in
            while state.inFlight < capacity, let name = state.tracker.nextReady() {
                names.append(name)
                state.inFlight += 1
            }
        }
        for name in names { queue.push(name) }
    }
}
