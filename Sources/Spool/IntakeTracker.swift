import DequeModule

/// Decides *when* an inbox name is ready for intake (README, "When a file is taken"). Pure
/// bookkeeping: no system calls, time passed in by the caller, so every rule can be
/// tested with a fake clock.
///
/// The rules, per name:
/// - An upload seen through `IN_CREATE` or `IN_MODIFY` is *being written* until its
///   `IN_CLOSE_WRITE`, however long the writer pauses: no scan takes it and no timer
///   gives up on it. That is what lets a slow SFTP client pause mid-upload for longer
///   than `settle_seconds` without being cut short.
/// - `IN_CLOSE_WRITE` or `IN_MOVED_TO` makes a name ready at once.
/// - An entry that never gets a close event — a symbolic link, FIFO, socket, device or
///   folder, or a regular file with more than one link (made by `link()`, never opened)
///   — is ready as soon as it is seen (created or scanned). It will be refused.
/// - A regular file found by a scan that nothing is known about (present at startup, or
///   whose events were lost) is *settling*: ready only once its metadata (size, mtime —
///   and inode and ctime, which can only make the wait longer) was observed unchanged
///   for `settle`. A change restarts the wait. ``pendingDeadline()`` says when to look
///   again.
/// - A name handed out by ``nextReady()`` is *in flight* and is not handed out again
///   until ``finished(_:)``; events that arrive meanwhile are remembered and applied then
///   (an upload of the same name during processing is taken afterwards).
/// - In-progress names (``SpoolName/Classification/inProgress``) are ignored entirely.
///   Unsafe names follow the same rules, so they too are rejected only once complete.
///
/// After ``overflowed()`` (events lost), a name that was being written may have lost its
/// close event. It stays "being written" — an overflow rescan never takes an open file —
/// but once it has been observed unchanged for `lostCloseQuiet` (much longer than
/// `settle`, default 15 minutes), it is taken anyway, so a lost `IN_CLOSE_WRITE` delays
/// an upload instead of stranding it until the next restart. Any new event for the name
/// clears that doubt.
public struct IntakeTracker: Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// An observation of a file's metadata, and since when it has been the same.
    struct Observation: Hashable, Sendable {
        var identity: FileIdentity
        var since: Instant
    }

    enum Phase: Hashable, Sendable {
        /// Saw `IN_CREATE`/`IN_MODIFY`, waiting for `IN_CLOSE_WRITE`. `doubt` is set after an
        /// overflow: the close may have been lost; `nil` observation until first scanned.
        case beingWritten(doubt: Doubt?)
        /// Found by a scan, unknown: waiting for the metadata to stay still.
        case settling(Observation)
        /// Waiting in the queue for ``nextReady()``.
        case ready
        /// Handed out. `then` is what events since then say the name should become when
        /// the worker finishes (`nil`: nothing new, forget it).
        indirect case inFlight(then: Phase?)
    }

    struct Doubt: Hashable, Sendable {
        var observation: Observation?
    }

    /// How long a scan-found file must stay unchanged (`spool.settle_seconds`).
    public let settle: Duration
    /// How long a file whose close event may have been lost in an overflow must stay
    /// unchanged before it is taken anyway.
    public let lostCloseQuiet: Duration

    /// Every write goes through ``setPhase(_:_:)``, which keeps `timedCount` in step.
    private(set) var phases: [SpoolName: Phase] = [:]
    /// How many names are settling or being written in doubt: the only phases with a
    /// deadline. Kept so that ``pendingDeadline()`` and ``namesToRecheck()`` answer at once
    /// when there are none — the intake loop asks on every turn, and during a burst of
    /// thousands of ready or in-flight names a full pass each time cost more CPU than the
    /// signing (measured by `scripts/bench`).
    private var timedCount = 0
    /// Names in the order they became ready; may hold names no longer ready (skipped).
    /// Names in the order they became ready; a name whose phase changed since is skipped
    /// when it comes up.
    private var queue = Deque<SpoolName>()

    public init(settle: Duration, lostCloseQuiet: Duration = .seconds(900)) {
        self.settle = max(settle, .zero)
        self.lostCloseQuiet = max(lostCloseQuiet, self.settle)
    }

    // MARK: - Public view

    /// A summary of where a name stands, for status lines and tests.
    public enum State: Hashable, Sendable {
        case beingWritten
        case settling
        case ready
        case inFlight
    }

    public func state(of name: SpoolName) -> State? {
        switch phases[name] {
        case nil: return nil
        case .beingWritten: return .beingWritten
        case .settling: return .settling
        case .ready: return .ready
        case .inFlight: return .inFlight
        }
    }

    /// How many names are in each state (for `STATUS=` lines).
    public var counts: [State: Int] {
        var result: [State: Int] = [:]
        for name in phases.keys {
            if let state = state(of: name) { result[state, default: 0] += 1 }
        }
        return result
    }

    // MARK: - Events

    /// Applies a watcher event. `status` is asked only for `.created` of a
    /// non-directory (is it a regular file being written, or a link/FIFO/socket that will
    /// never get a close event?); pass ``Inbox/status(of:)``.
    public mutating func apply(_ event: InboxEvent, status: (SpoolName) -> EntryStatus?) {
        switch event {
        case .closedWrite(let name): closedWrite(name)
        case .movedIn(let name): movedIn(name)
        case .modified(let name): modified(name)
        case .removed(let name): removed(name)
        case .created(let name, let isDirectory):
            if isDirectory {
                appeared(name, expectsCloseEvent: false)
            } else if let current = status(name) {
                appeared(name, expectsCloseEvent: current.expectsCloseEvent)
            }
        case .overflow: overflowed()
        case .inboxLost: break
        }
    }

    /// `IN_CREATE`: a regular file that will be closed later is being written; anything
    /// else (``EntryStatus/expectsCloseEvent`` false) is ready now.
    public mutating func appeared(_ name: SpoolName, expectsCloseEvent: Bool) {
        update(name, to: expectsCloseEvent ? .beingWritten(doubt: nil) : .ready)
    }

    /// `IN_MODIFY`: someone is writing; wait for the close, however long it takes.
    public mutating func modified(_ name: SpoolName) {
        update(name, to: .beingWritten(doubt: nil))
    }

    /// `IN_CLOSE_WRITE`: the upload is complete.
    public mutating func closedWrite(_ name: SpoolName) {
        update(name, to: .ready)
    }

    /// `IN_MOVED_TO`: an entry was renamed into place, complete.
    public mutating func movedIn(_ name: SpoolName) {
        update(name, to: .ready)
    }

    /// `IN_DELETE`/`IN_MOVED_FROM`: the name is gone.
    public mutating func removed(_ name: SpoolName) {
        guard tracks(name), let phase = phases[name] else { return }
        if case .inFlight = phase {
            setPhase(name, .inFlight(then: nil))
        } else {
            setPhase(name, nil)
        }
    }

    /// `IN_Q_OVERFLOW`: events were lost. Names being written may have lost their close
    /// event (see the type's documentation). Follow with a full ``scanned(_:at:)``.
    public mutating func overflowed() {
        for (name, phase) in phases {
            switch phase {
            case .beingWritten(nil):
                setPhase(name, .beingWritten(doubt: Doubt(observation: nil)))
            case .inFlight(.beingWritten(nil)):
                setPhase(name, .inFlight(then: .beingWritten(doubt: Doubt(observation: nil))))
            default:
                break
            }
        }
    }

    /// Moves `name` to `phase` (or records it for after the worker, when in flight).
    private mutating func update(_ name: SpoolName, to phase: Phase) {
        guard tracks(name) else { return }
        switch phases[name] {
        case .inFlight:
            setPhase(name, .inFlight(then: phase))
        case .ready where phase == .ready:
            break  // a duplicate event: already queued once
        default:
            setPhase(name, phase)
            if phase == .ready { queue.append(name) }
        }
    }

    /// The one place `phases` is written, so that `timedCount` stays exact.
    private mutating func setPhase(_ name: SpoolName, _ phase: Phase?) {
        let old = if let phase { phases.updateValue(phase, forKey: name) } else { phases.removeValue(forKey: name) }
        timedCount += (phase?.hasDeadline == true ? 1 : 0) - (old?.hasDeadline == true ? 1 : 0)
    }

    private func tracks(_ name: SpoolName) -> Bool {
        name.classification != .inProgress && name.isSingleComponent
    }

    // MARK: - Scans

    /// A full listing of the inbox (startup, overflow, periodic rescan): starts or
    /// continues the settle wait of unknown files, makes never-closed entries ready, and
    /// forgets names that are no longer there (their removal event may have been lost).
    public mutating func scanned(_ entries: [ScannedEntry], at now: Instant) {
        var present = Set<SpoolName>()
        for entry in entries {
            present.insert(entry.name)
            observed(entry.name, status: entry.status, at: now)
        }
        for (name, phase) in phases where !present.contains(name) {
            if case .inFlight = phase { continue }
            setPhase(name, nil)
        }
    }

    /// One observation of one name (a rescan of a settling name, or a scan entry);
    /// `status` `nil` means the name does not exist.
    public mutating func observed(_ name: SpoolName, status: EntryStatus?, at now: Instant) {
        guard tracks(name) else { return }
        guard let status else {
            if let phase = phases[name], !phase.isInFlight { setPhase(name, nil) }
            return
        }
        switch phases[name] {
        case nil:
            if !status.expectsCloseEvent {
                update(name, to: .ready)
            } else {
                setPhase(name, .settling(Observation(identity: status.identity, since: now)))
                promoteIfStill(name, identity: status.identity, at: now)
            }
        case .settling:
            promoteIfStill(name, identity: status.identity, at: now)
        case .beingWritten(let doubt?):
            var observation = doubt.observation ?? Observation(identity: status.identity, since: now)
            if observation.identity != status.identity {
                observation = Observation(identity: status.identity, since: now)
            }
            if now - observation.since >= lostCloseQuiet {
                update(name, to: .ready)
            } else {
                setPhase(name, .beingWritten(doubt: Doubt(observation: observation)))
            }
        case .beingWritten(nil), .ready, .inFlight:
            break  // waiting for its close event, queued, or being processed
        }
    }

    /// For a settling name: ready once unchanged for `settle`, else restart on a change.
    private mutating func promoteIfStill(_ name: SpoolName, identity: FileIdentity, at now: Instant) {
        guard case .settling(var observation) = phases[name] else { return }
        if observation.identity != identity {
            observation = Observation(identity: identity, since: now)
        }
        if now - observation.since >= settle {
            update(name, to: .ready)
        } else {
            setPhase(name, .settling(observation))
        }
    }

    /// When the caller should observe again (``observed(_:status:at:)`` for each of
    /// ``namesToRecheck()``, or a full scan): the earliest moment a settling name — or a
    /// name whose close event may have been lost — could become ready. `nil`: no timer needed.
    public func pendingDeadline() -> Instant? {
        guard timedCount > 0 else { return nil }
        var earliest: Instant?
        for phase in phases.values {
            let deadline: Instant?
            switch phase {
            case .settling(let observation):
                deadline = observation.since + settle
            case .beingWritten(let doubt?):
                deadline = doubt.observation.map { $0.since + lostCloseQuiet }
            default:
                deadline = nil
            }
            if let deadline, earliest.map({ deadline < $0 }) ?? true {
                earliest = deadline
            }
        }
        return earliest
    }

    /// Names whose readiness depends on another look at their metadata.
    public func namesToRecheck() -> [SpoolName] {
        guard timedCount > 0 else { return [] }
        return phases.compactMap { name, phase in
            switch phase {
            case .settling, .beingWritten(.some): return name
            default: return nil
            }
        }.sorted()
    }

    // MARK: - Handing out

    /// The next ready name, now marked in flight; `nil` when none is ready. Names come
    /// out in the order they became ready.
    public mutating func nextReady() -> SpoolName? {
        while let name = queue.popFirst() {
            if phases[name] == .ready {
                setPhase(name, .inFlight(then: nil))
                return name
            }
        }
        return nil
    }

    /// Every ready name, each marked in flight.
    public mutating func takeAllReady() -> [SpoolName] {
        var names: [SpoolName] = []
        while let name = nextReady() { names.append(name) }
        return names
    }

    /// The worker is done with `name` (issued, rejected, or left alone). Events that came
    /// in meanwhile decide what happens next; without any, the name is forgotten.
    public mutating func finished(_ name: SpoolName) {
        guard case .inFlight(let then) = phases[name] else { return }
        setPhase(name, nil)
        if let then {
            update(name, to: then)
        }
    }
}

extension IntakeTracker.Phase {
    var isInFlight: Bool {
        if case .inFlight = self { return true }
        return false
    }

    /// Settling, or being written with a possibly lost close event: the phases
    /// ``IntakeTracker/pendingDeadline()`` looks at.
    var hasDeadline: Bool {
        switch self {
        case .settling, .beingWritten(.some): return true
        case .beingWritten(nil), .ready, .inFlight: return false
        }
    }
}
