import Foundation
import Spool

/// The loop that watches the inbox and decides what to hand to the workers: inotify
/// events, the startup/overflow/periodic scans and the settle rule (all kept by
/// `IntakeTracker`), bounded by the work queue's capacity.
///
/// Runs on a thread of its own because it blocks in `poll(2)`. It is also the loop that
/// pets the systemd watchdog: it wakes at least every quarter of WATCHDOG_USEC and only
/// pets it while the workers keep up or have nothing to do. It
/// wakes every two seconds anyway, for the STATUS= line and to check the inbox is still there
/// (checked at most every half second while busy).
/// `@unchecked Sendable`: `tracker` and `stopRequested` are only touched under `lock`.
final class IntakeLoop: @unchecked Sendable {
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

    private let lock = NSLock()
    private var tracker: IntakeTracker
    private var stopRequested = false
    private var inFlight = 0
    private var finishedSinceLastPet = true

    /// Called once the watch is set and the startup scan is queued (READY=1).
    var onReady: @Sendable () -> Void = {}
    /// Called with a one-line status every few seconds (STATUS=).
    var onStatus: @Sendable (String) -> Void = { _ in }
    /// Called to pet the watchdog (WATCHDOG=1).
    var onWatchdog: @Sendable () -> Void = {}

    init(inbox: Inbox, watcher: InboxWatcher, queue: WorkQueue<SpoolName>, capacity: Int,
         settle: Duration, rescanInterval: Duration?, watchdogInterval: Duration?, log: DaemonLog) {
        self.inbox = inbox
        self.watcher = watcher
        self.queue = queue
        self.capacity = capacity
        self.rescanInterval = rescanInterval
        // systemd asks for a ping every half WATCHDOG_USEC (`watchdogInterval`); pinging
        // twice as often leaves room for a slow turn of the loop.
        self.watchdogInterval = watchdogInterval.map { $0 / 2 }
        self.log = log
        // After an inotify overflow, a file seen being written may have lost its close
        // event. `resolveLostCloses` asks the kernel whether it still has writers; when
        // the kernel will not say (no lease permission), the file is taken once it has
        // been unchanged for this long: far past `settle`, short enough not to strand it.
        self.tracker = IntakeTracker(settle: settle, lostCloseQuiet: max(.seconds(30), settle * 10))
    }

    /// How often a busy loop asks ``Inbox/lossReason()`` (see `run`).
    static let lossCheckInterval: Duration = .milliseconds(500)

    /// Asks the loop to stop taking new files; safe from any thread.
    func stop() {
        lock.withLock { stopRequested = true }
        watcher.wake()
    }

    /// The workers are done with these names (issued, rejected or left alone).
    func finished(_ names: [SpoolName]) {
        lock.withLock {
            for name in names { tracker.finished(name) }
            inFlight -= names.count
            finishedSinceLastPet = true
        }
        watcher.wake()
    }

    var statusLine: String {
        lock.withLock {
            let counts = tracker.counts
            return "queued \(queue.count), in progress \(inFlight), waiting for uploads to finish \(counts[.beingWritten, default: 0] + counts[.settling, default: 0])"
        }
    }

    func run() -> Exit {
        do {
            try scan()
        } catch {
            return .failed("cannot list the inbox \(inbox.path): \(error)")
        }
        handOut()
        onReady()
        var nextRescan = rescanInterval.map { clock.now + $0 }
        var nextStatus = clock.now
        var nextPetCheck = watchdogInterval.map { clock.now + $0 }
        var nextLostCloseCheck: ContinuousClock.Instant? = nil
        var nextLossCheck = clock.now

        while !lock.withLock({ stopRequested }) {
            let now = clock.now
            var wakeAt = [lock.withLock { tracker.pendingDeadline() }, nextRescan, nextPetCheck, nextLostCloseCheck, Optional(nextStatus)]
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
                    lock.withLock { tracker.overflowed() }
                    do { try scan() } catch { return .failed("cannot list the inbox \(inbox.path): \(error)") }
                    nextLostCloseCheck = clock.now
                default:
                    lock.withLock { tracker.apply(event, status: { inbox.status(of: $0) }) }
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
            if let deadline = lock.withLock({ tracker.pendingDeadline() }), deadline <= after {
                let names = lock.withLock { tracker.namesToRecheck() }
                let statuses = names.map { ($0, inbox.status(of: $0)) }
                lock.withLock {
                    for (name, status) in statuses { tracker.observed(name, status: status, at: after) }
                }
            }
            if let due = nextLostCloseCheck, due <= after {
                nextLostCloseCheck = resolveLostCloses() ? nil : after + .seconds(1)
            }
            if let due = nextRescan, due <= after, let interval = rescanInterval {
                do { try scan() } catch { return .failed("cannot list the inbox \(inbox.path): \(error)") }
                nextRescan = after + interval
            }
            handOut()

            if after >= nextStatus {
                onStatus(statusLine)
                nextStatus = after + .seconds(2)
            }
            if let interval = watchdogInterval, let due = nextPetCheck, after >= due {
                // Pet only when work moves: a hung worker pool must let the watchdog fire.
                let healthy = lock.withLock { () -> Bool in
                    let ok = finishedSinceLastPet || inFlight == 0
                    finishedSinceLastPet = false
                    return ok
                }
                if healthy { onWatchdog() }
                nextPetCheck = after + interval
            }
        }
        return .stopped
    }

    /// For files whose close event may have been lost in an overflow: those the kernel
    /// says nobody has open for writing are complete, so they count as closed now.
    /// Returns true when no such file is left to ask about.
    private func resolveLostCloses() -> Bool {
        let doubtful = lock.withLock { tracker.namesToRecheck().filter { tracker.state(of: $0) == .beingWritten } }
        var unresolved = 0
        for name in doubtful {
            if inbox.hasWriters(name) == false {
                lock.withLock { tracker.closedWrite(name) }
            } else {
                unresolved += 1
            }
        }
        return unresolved == 0
    }

    private func scan() throws {
        let entries = try inbox.scan()
        let now = clock.now
        lock.withLock { tracker.scanned(entries, at: now) }
    }

    /// Moves ready names into the work queue while it has room.
    private func handOut() {
        var names: [SpoolName] = []
        lock.withLock {
            while inFlight < capacity, let name = tracker.nextReady() {
                names.append(name)
                inFlight += 1
            }
        }
        for name in names { queue.push(name) }
    }
}
