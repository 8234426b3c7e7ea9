import Issuance
import Spool
import Synchronization

/// The loop that watches every profile's inbox and decides what to hand to the workers:
/// inotify events, the startup/overflow/periodic scans and the settle rule (all kept by
/// one `IntakeTracker` per inbox), bounded by the work queue's capacity.
///
/// Runs on a thread of its own because it blocks in `poll(2)`: one `poll` on one inotify
/// descriptor with a watch per inbox (``InboxWatcher``), however many profiles there are.
/// It is also the loop that pets the systemd watchdog: it wakes at least every quarter of
/// WATCHDOG_USEC and only pets it while the workers keep up or have nothing to do. It
/// wakes every two seconds anyway, for the STATUS= line and to check every inbox is still
/// there (checked at most every half second while busy). Losing any inbox is fatal, as
/// losing the one inbox was before profiles.
///
/// Each inbox keeps the rules of a single inbox: its own tracker (its own
/// `settle_seconds`), its own periodic rescan (`rescan_seconds`), its own overflow
/// handling (an overflow of the shared queue rescans every inbox). Ready names are handed
/// out one profile at a time in turn, so that a burst in one inbox does not hold back an
/// upload in another for longer than one turn of the queue.
///
/// What other threads touch (the trackers, the stop flag, the in-flight count) is in one
/// `Mutex`: the publisher reports finished names and the signal queue asks it to stop.
/// The loop never holds that lock while it calls out (the inboxes, the work queue, the
/// callbacks), except for `IntakeTracker.apply`'s status look-up, which takes no lock.
final class IntakeLoop: Sendable {
    enum Exit: Sendable, Equatable {
        case stopped
        /// The inbox at `path` is gone (deleted, moved, unmounted).
        case inboxLost(path: String, reason: String)
        /// A profile's outbox or failed folder deleted, moved or replaced.
        case folderLost(role: String, path: String, reason: String)
        case failed(String)
    }

    /// One profile's inbox and the timing of its scans.
    struct Watched: Sendable {
        let inbox: Inbox
        /// The profile's other folders, held open like the inbox: one moved or replaced
        /// under the daemon would take certificates (or rejections) nobody looks at, so it
        /// ends the run as a lost inbox does.
        var outbox: Outbox? = nil
        var failed: FailedFolder? = nil
        let settle: Duration
        /// Periodic full scan (`spool.rescan_seconds`); nil when off.
        let rescanInterval: Duration?
    }

    private let inboxes: [Watched]
    private let watcher: InboxWatcher
    private let queue: WorkQueue<InboxEntry>
    private let capacity: Int
    private let watchdogInterval: Duration?
    private let log: DaemonLog
    private let clock = ContinuousClock()
    /// Listings that failed for a passing reason, an episode per inbox. Only the loop's
    /// thread touches it (the `Mutex` is never contended).
    private let listingEpisodes = Mutex(FailureEpisodes())

    private struct State {
        /// One per inbox, by profile index.
        var trackers: [IntakeTracker]
        /// The inbox whose ready names are offered first at the next hand-out.
        var nextTurn = 0
        var stopRequested = false
        var inFlight = 0
        var finishedSinceLastPet = true
        /// Why nothing is handed out now: the CA is expired or not valid yet. Inputs wait in
        /// the inbox until a reload brings a valid one.
        var authorityProblem: SigningProblem?
        /// A batch left inputs in the inbox after a failure: scan again at this time.
        var retryScanDue: ContinuousClock.Instant?
        /// The wait before that scan: 1 s, doubled after each batch that fails again, up
        /// to 30 s; back to 1 s after a batch without failure.
        var retryBackoff: Duration = .seconds(1)

        /// A retry scan after the back-off, unless one is due already; the back-off doubles
        /// per scan scheduled, not per failure: a burst's many failing batches are one round.
        mutating func scheduleRetryScan(now: ContinuousClock.Instant) {
            guard retryScanDue == nil else { return }
            retryScanDue = now + retryBackoff
            retryBackoff = min(retryBackoff * 2, .seconds(30))
        }

        func pendingDeadline() -> ContinuousClock.Instant? {
            trackers.compactMap { $0.pendingDeadline() }.min()
        }
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
        var authorityProblem: @Sendable () -> SigningProblem? = { nil }
    }

    private let callbacks: Callbacks

    /// `inboxes` in profile order, as `watcher` watches them.
    init(inboxes: [Watched], watcher: InboxWatcher, queue: WorkQueue<InboxEntry>, capacity: Int,
         watchdogInterval: Duration?, log: DaemonLog, callbacks: Callbacks) {
        self.inboxes = inboxes
        self.watcher = watcher
        self.queue = queue
        self.capacity = capacity
        // systemd asks for a ping every half WATCHDOG_USEC (`watchdogInterval`); pinging
        // twice as often leaves room for a slow turn of the loop.
        self.watchdogInterval = watchdogInterval.map { $0 / 2 }
        self.log = log
        self.callbacks = callbacks
        // After an inotify overflow, a file seen being written may have lost its close
        // event. `resolveLostCloses` asks the kernel whether it still has writers; when
        // the kernel will not say (no lease permission), the file is taken once it has
        // been unchanged for this long: far past `settle`, short enough not to strand it.
        self.lock = Mutex(State(trackers: inboxes.map {
            IntakeTracker(settle: $0.settle, lostCloseQuiet: max(.seconds(30), $0.settle * 10))
        }))
    }

    /// How often a busy loop asks ``Inbox/lossReason()`` (see `run`).
    static let lossCheckInterval: Duration = .milliseconds(500)

    /// Asks the loop to stop taking new files; safe from any thread.
    func stop() {
        lock.withLock { $0.stopRequested = true }
        watcher.wake()
    }

    /// The workers are done with these entries (issued, rejected or left alone); `retry`
    /// when a failure left some of them in the inbox; `failing` while any failure episode
    /// is still open. The back-off starts again at 1 s only after a batch with neither: a
    /// profile whose outbox works must not keep resetting it for one whose outbox is full.
    func finished(_ entries: [InboxEntry], retry: Bool = false, failing: Bool = false) {
        let now = clock.now
        lock.withLock { state in
            for entry in entries { state.trackers[entry.profile].finished(entry.name) }
            state.inFlight -= entries.count
            state.finishedSinceLastPet = true
            if retry {
                state.scheduleRetryScan(now: now)
            } else if !failing {
                state.retryBackoff = .seconds(1)
            }
        }
        watcher.wake()
    }

    /// Inputs in the inboxes not finished yet (being written, settling, ready, or out with
    /// the workers and the publisher), for the metrics.
    var waitingCount: Int {
        lock.withLock { $0.trackers.reduce(0) { $0 + $1.counts.values.reduce(0, +) } }
    }

    var statusLine: String {
        let (counts, inFlight, problem) = lock.withLock { state in
            (state.trackers.reduce(into: [IntakeTracker.State: Int]()) { total, tracker in
                total.merge(tracker.counts, uniquingKeysWith: +)
            }, state.inFlight, state.authorityProblem)
        }
        if let problem {
            return "the CA cannot sign (\(problem.reason)); \(counts[.ready, default: 0]) requests wait in the inbox \(problem.until)"
        }
        return "queued \(queue.count), in progress \(inFlight), waiting for uploads to finish \(counts[.beingWritten, default: 0] + counts[.settling, default: 0])"
    }

    func run() -> Exit {
        if let failure = scanAll() { return failure }
        handOut()
        callbacks.ready()
        var nextRescans = inboxes.map { watched in watched.rescanInterval.map { clock.now + $0 } }
        var nextStatus = clock.now
        var nextPetCheck = watchdogInterval.map { clock.now + $0 }
        var nextLostCloseCheck: ContinuousClock.Instant? = nil
        var nextLossCheck = clock.now

        while !lock.withLock({ $0.stopRequested }) {
            let now = clock.now
            var wakeAt = ([lock.withLock { $0.pendingDeadline() }, lock.withLock { $0.retryScanDue },
                           nextPetCheck, nextLostCloseCheck, Optional(nextStatus)] + nextRescans)
                .compactMap { $0 }.min() ?? now + .seconds(5)
            if wakeAt < now { wakeAt = now }
            let events: [InboxWatcher.WatchedEvent]
            do {
                events = try watcher.nextWatchedEvents(timeout: wakeAt - now)
            } catch {
                return .failed("\(error)")
            }
            for watched in events {
                switch (watched.event, watched.inbox) {
                case (.inboxLost(let reason), let index?):
                    return .inboxLost(path: inboxes[index].inbox.path, reason: reason)
                case (.overflow, _):
                    log.overflow()
                    lock.withLock { state in
                        for index in state.trackers.indices { state.trackers[index].overflowed() }
                    }
                    if let failure = scanAll(orRetry: true) { return failure }
                    nextLostCloseCheck = clock.now
                case (let event, let index?):
                    let inbox = inboxes[index].inbox
                    lock.withLock { $0.trackers[index].apply(event, status: { inbox.status(of: $0) }) }
                case (_, nil):
                    break
                }
            }

            let after = clock.now
            // Two stat calls per inbox; during a burst the loop turns hundreds of times a
            // second (every finished batch wakes it), so ask at most every half second. The
            // status wake-up every two seconds keeps an idle daemon asking as before.
            if after >= nextLossCheck {
                for watched in inboxes {
                    if let reason = watched.inbox.lossReason() {
                        return .inboxLost(path: watched.inbox.path, reason: reason)
                    }
                    if let outbox = watched.outbox, let reason = outbox.lossReason() {
                        return .folderLost(role: "outbox", path: outbox.path, reason: reason)
                    }
                    if let failed = watched.failed, let reason = failed.lossReason() {
                        return .folderLost(role: "failed folder", path: failed.path, reason: reason)
                    }
                }
                nextLossCheck = after + Self.lossCheckInterval
            }
            if let deadline = lock.withLock({ $0.pendingDeadline() }), deadline <= after {
                for (index, watched) in inboxes.enumerated() {
                    let names = lock.withLock { $0.trackers[index].namesToRecheck() }
                    guard !names.isEmpty else { continue }
                    let statuses = names.map { ($0, watched.inbox.status(of: $0)) }
                    lock.withLock { state in
                        for (name, status) in statuses { state.trackers[index].observed(name, status: status, at: after) }
                    }
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
            if retryDue, let failure = scanAll(orRetry: true) { return failure }
            for (index, watched) in inboxes.enumerated() {
                guard let due = nextRescans[index], due <= after, let interval = watched.rescanInterval else { continue }
                if let failure = scan(index, orRetry: true) { return failure }
                nextRescans[index] = after + interval
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
        var unresolved = 0
        for (index, watched) in inboxes.enumerated() {
            let doubtful = lock.withLock { state in
                state.trackers[index].namesToRecheck().filter { state.trackers[index].state(of: $0) == .beingWritten }
            }
            for name in doubtful {
                if watched.inbox.hasWriters(name) == false {
                    lock.withLock { $0.trackers[index].closedWrite(name) }
                } else {
                    unresolved += 1
                }
            }
        }
        return unresolved == 0
    }

    /// Scans one inbox; the exit to take when it cannot be listed. While running
    /// (`orRetry`), a listing that failed for the machine's reasons (out of descriptors or
    /// memory, ``Intake/isPassing(_:)``) is logged once and tried again after the back-off
    /// instead: a daemon that stops for it would be restarted into the same shortage.
    private func scan(_ index: Int, orRetry: Bool = false) -> Exit? {
        let inbox = inboxes[index].inbox
        do {
            let entries = try inbox.scan()
            let now = clock.now
            lock.withLock { $0.trackers[index].scanned(entries, at: now) }
            listingEpisodes.withLock { $0.succeeded(.listInbox, in: " \(inbox.path)", log: log) }
            return nil
        } catch {
            if orRetry, let errno = (error as? SpoolError)?.errno, Intake.isPassing(errno) {
                let now = clock.now
                lock.withLock { $0.scheduleRetryScan(now: now) }
                listingEpisodes.withLock { _ = $0.failed(.listInbox, in: " \(inbox.path)", count: 0, error: "\(error)", log: log) }
                return nil
            }
            return .failed("cannot list the inbox \(inbox.path): \(error)")
        }
    }

    private func scanAll(orRetry: Bool = false) -> Exit? {
        for index in inboxes.indices {
            if let failure = scan(index, orRetry: orRetry) { return failure }
        }
        return nil
    }

    /// Moves ready names into the work queue while it has room, one inbox at a time in
    /// turn, unless the CA cannot sign: then they wait in the inboxes (logged once), and
    /// when a valid CA is in force again the inboxes are scanned anew, for names a worker
    /// handed back meanwhile.
    private func handOut() {
        let problem = callbacks.authorityProblem()
        let previous = lock.withLock { state -> SigningProblem? in
            defer { state.authorityProblem = problem }
            return state.authorityProblem
        }
        if let problem {
            // Once per outage, and again when what ends it changes (a token that came back
            // and refused the PIN is no longer retried: the operator must act now).
            if previous?.remedy != problem.remedy { log.authorityUnusable(problem) }
            return
        }
        if previous != nil {
            log.authorityUsable()
            _ = scanAll()
        }
        var entries: [InboxEntry] = []
        lock.withLock { state in
            let count = state.trackers.count
            var turn = state.nextTurn
            // Inboxes in a row that had nothing ready: a whole round of them ends it.
            var idle = 0
            while state.inFlight < capacity && idle < count {
                if let name = state.trackers[turn].nextReady() {
                    entries.append(InboxEntry(profile: turn, name: name))
                    state.inFlight += 1
                    idle = 0
                } else {
                    idle += 1
                }
                turn = (turn + 1) % count
            }
            state.nextTurn = turn
        }
        for entry in entries { queue.push(entry) }
    }
}
