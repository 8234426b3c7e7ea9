import Glibc

/// inotify on the inbox — or on several inboxes, one per profile, through one inotify
/// descriptor with a watch each — decoded into ``InboxEvent``s.
///
/// Create the watcher *before* the startup scan (docs/ARCHITECTURE.md, "Intake"): an upload that
/// finishes during the scan is then either listed by the scan or reported here, never
/// missed. The watch is placed on the very folder ``Inbox`` holds open (through
/// `/proc/self/fd`), so both always refer to the same folder even if the configured
/// path is swapped between the two opens; without `/proc` it falls back to the path.
///
/// With several inboxes, ``nextWatchedEvents(timeout:)`` says which inbox (its index in
/// the list given to ``init(inboxes:)``) each event is about; an overflow of the one queue
/// is about all of them. One descriptor rather than one per inbox: the daemon's loop
/// waits in one `poll` whatever the number of profiles, and one queue keeps the events of
/// all inboxes in the order the kernel saw them.
///
/// Ownership: owns the inotify descriptor and a wake-up pipe, closed in `deinit`.
/// `Sendable`: all stored properties are immutable descriptors, ``wake()`` is meant to be
/// called from another thread, and ``nextEvents(timeout:)`` allocates its buffer per call.
/// Call ``nextEvents(timeout:)`` from one thread at a time: concurrent readers would each
/// get a share of the events.
public final class InboxWatcher: Sendable {
    /// The events watched. `IN_Q_OVERFLOW` is always reported; `IN_ONLYDIR` makes the
    /// watch fail unless the path is a folder.
    public static let watchMask: UInt32 =
        UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_CREATE) | UInt32(IN_MODIFY)
        | UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)
        | UInt32(IN_UNMOUNT) | UInt32(IN_IGNORED) | UInt32(IN_ONLYDIR)

    /// The first watched path, for messages.
    public var path: String { paths[0] }
    /// Every watched path, in the order given.
    public let paths: [String]
    private let inotify: Int32
    /// The watch descriptor of each inbox, in the order given.
    private let watches: [Int32]
    private let wakeReader: Int32
    private let wakeWriter: Int32

    /// One event and the inbox it is about.
    public struct WatchedEvent: Hashable, Sendable {
        /// The inbox's index in the list the watcher was made with; nil for an event about
        /// the queue itself (``InboxEvent/overflow``), which concerns every inbox.
        public let inbox: Int?
        public let event: InboxEvent
    }

    /// Watches the folder that `inbox` holds open. Throws ``SpoolError`` (`cannotWatch`).
    public convenience init(inbox: Inbox) throws {
        try self.init(folders: [(inbox.path, inbox.descriptor)])
    }

    /// Watches the folders these inboxes hold open, one watch each on one inotify
    /// descriptor. Throws ``SpoolError`` (`cannotWatch`), also when two of them are the
    /// same folder (the kernel gives both one watch, so their events could not be told
    /// apart).
    public convenience init(inboxes: [Inbox]) throws {
        try self.init(folders: inboxes.map { ($0.path, $0.descriptor) })
    }

    /// Watches the folder at `path`. Throws ``SpoolError`` (`cannotWatch`).
    public convenience init(path: String) throws {
        try self.init(folders: [(path, nil)])
    }

    private init(folders: [(path: String, descriptor: Int32?)]) throws {
        guard let first = folders.first else {
            throw SpoolError(.cannotWatch, "no inbox to watch")
        }
        self.paths = folders.map(\.path)
        let inotify = inotify_init1(Int32(IN_CLOEXEC) | Int32(IN_NONBLOCK))
        guard inotify >= 0 else {
            throw SpoolError.system(.cannotWatch, "cannot start inotify for inbox", path: first.path, errno: errno)
        }
        var watches: [Int32] = []
        for folder in folders {
            var watch: Int32 = -1
            if let descriptor = folder.descriptor {
                watch = inotify_add_watch(inotify, "/proc/self/fd/\(descriptor)", InboxWatcher.watchMask)
            }
            if watch < 0 {
                watch = inotify_add_watch(inotify, folder.path, InboxWatcher.watchMask)
            }
            guard watch >= 0 else {
                let failure = errno
                close(inotify)
                throw SpoolError.system(.cannotWatch, "cannot watch inbox", path: folder.path, errno: failure)
            }
            if let other = watches.firstIndex(of: watch) {
                close(inotify)
                throw SpoolError(.cannotWatch, "cannot watch inbox \(folder.path): it is the same folder as the inbox \(folders[other].path)")
            }
            watches.append(watch)
        }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            let failure = errno
            close(inotify)
            throw SpoolError.system(.cannotWatch, "cannot create a wake-up pipe for inbox", path: first.path, errno: failure)
        }
        for end in pipeEnds {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
        self.inotify = inotify
        self.watches = watches
        self.wakeReader = pipeEnds[0]
        self.wakeWriter = pipeEnds[1]
    }

    deinit {
        close(inotify)
        close(wakeReader)
        close(wakeWriter)
    }

    /// Makes a ``nextEvents(timeout:)`` that is waiting (or the next one) return at once,
    /// possibly with no events: for shutdown. Safe from any thread.
    public func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
    }

    /// Waits up to `timeout` (`nil`: without limit) for events and returns every event
    /// available then, in order. Returns an empty array on timeout, after ``wake()``, or
    /// when a signal interrupted the wait, so the caller can check for shutdown.
    /// Throws ``SpoolError`` (`cannotReadEvents`) if `poll` or `read` fail otherwise.
    /// With several inboxes, the events of all of them: ``nextWatchedEvents(timeout:)``
    /// says which is which.
    public func nextEvents(timeout: Duration?) throws -> [InboxEvent] {
        try nextWatchedEvents(timeout: timeout).map(\.event)
    }

    /// ``nextEvents(timeout:)`` with the inbox each event is about.
    public func nextWatchedEvents(timeout: Duration?) throws -> [WatchedEvent] {
        var fds = [
            pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeReader, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&fds, nfds_t(fds.count), InboxWatcher.milliseconds(timeout))
        if ready < 0 {
            if errno == EINTR { return [] }
            throw SpoolError.system(.cannotReadEvents, "cannot wait for events on inbox", path: path, errno: errno)
        }
        if fds[1].revents != 0 {
            var drain = [UInt8](repeating: 0, count: 64)
            while read(wakeReader, &drain, drain.count) > 0 {}
        }
        guard fds[0].revents != 0 else { return [] }

        // Room for many events; a single one is at most 16 + NAME_MAX + 1 bytes.
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = SystemCall.retrying { read(inotify, &buffer, buffer.count) }
        if count < 0 {
            if errno == EAGAIN { return [] }
            throw SpoolError.system(.cannotReadEvents, "cannot read events of inbox", path: path, errno: errno)
        }
        return InboxWatcher.decode(buffer[..<count], watches: watches)
    }

    /// `poll` timeout in milliseconds, rounded up so a short timeout does not spin.
    static func milliseconds(_ timeout: Duration?) -> Int32 {
        guard let timeout else { return -1 }
        if timeout <= .zero { return 0 }
        let (seconds, attoseconds) = timeout.components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }

    /// Decodes packed `struct inotify_event` records (`int wd; uint32_t mask, cookie, len;
    /// char name[len]`). Fields are read with `loadUnaligned` from a byte buffer, so the
    /// record layout never has to be bound to memory; a truncated record ends decoding.
    static func decode(_ bytes: ArraySlice<UInt8>, watch: Int32) -> [InboxEvent] {
        decode(bytes, watches: [watch]).map(\.event)
    }

    /// ``decode(_:watch:)`` for several watches: each event with the index of its watch.
    static func decode(_ bytes: ArraySlice<UInt8>, watches: [Int32]) -> [WatchedEvent] {
        var events: [WatchedEvent] = []
        let headerSize = 16
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + headerSize <= raw.count {
                let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let nameStart = offset + headerSize
                guard nameStart + length <= raw.count else { break }
                let name = SpoolName(bytes: raw[nameStart..<(nameStart + length)].prefix { $0 != 0 })
                offset = nameStart + length
                if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    events.append(WatchedEvent(inbox: nil, event: .overflow))
                } else if let inbox = watches.firstIndex(of: wd) {
                    // Anything else is about a watch we no longer have.
                    events += decodeOne(mask: mask, name: name).map { WatchedEvent(inbox: inbox, event: $0) }
                }
            }
        }
        return events
    }

    private static func decodeOne(mask: UInt32, name: SpoolName) -> [InboxEvent] {
        func has<F: BinaryInteger>(_ flag: F) -> Bool { mask & UInt32(truncatingIfNeeded: flag) != 0 }
        if has(IN_UNMOUNT) { return [.inboxLost("the filesystem holding the inbox was unmounted")] }
        if has(IN_DELETE_SELF) { return [.inboxLost("the inbox folder was deleted")] }
        if has(IN_MOVE_SELF) { return [.inboxLost("the inbox folder was moved or renamed")] }
        if has(IN_IGNORED) { return [.inboxLost("the kernel removed the watch on the inbox")] }
        guard !name.bytes.isEmpty else { return [] }
        var events: [InboxEvent] = []
        if has(IN_CREATE) { events.append(.created(name, isDirectory: has(IN_ISDIR))) }
        if has(IN_MODIFY) { events.append(.modified(name)) }
        if has(IN_CLOSE_WRITE) { events.append(.closedWrite(name)) }
        if has(IN_MOVED_FROM) || has(IN_DELETE) { events.append(.removed(name)) }
        if has(IN_MOVED_TO) { events.append(.movedIn(name)) }
        return events
    }
}
