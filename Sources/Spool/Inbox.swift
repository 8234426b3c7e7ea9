import Glibc

/// The inbox: the folder untrusted uploaders write into, opened once and then only ever
/// used relative to that descriptor.
///
/// Reading follows the README's "What is refused before a byte is read": every open is `O_RDONLY|O_NOFOLLOW|O_NONBLOCK|
/// O_CLOEXEC|O_NOCTTY` relative to the held descriptor, through `openat2` with
/// `RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS` where the kernel (and seccomp filter) allows it;
/// every decision comes from `fstat` of the opened descriptor; at most `maxBytes + 1`
/// bytes are ever read. On top of that, ``take(_:)`` looks at the entry with
/// `fstatat(AT_SYMLINK_NOFOLLOW)` before opening it, so FIFOs, sockets, devices and
/// folders are refused without ever being opened (opening a device can have side
/// effects; opening a FIFO is where blocking would start).
///
/// Ownership: owns its folder descriptor (closed when the `Inbox` is released).
/// `Sendable`: immutable, and its calls are safe from several worker threads at once.
public final class Inbox: Sendable {
    /// The configured path, for messages.
    public var path: String { folder.path }
    /// `policy.max_csr_bytes`: larger entries are refused.
    public let maxBytes: Int
    /// The setting named in "too large" reasons.
    public let limitName: String
    /// Whether `openat2` is used (false on kernels before 5.6 or where seccomp denies it).
    public let usesOpenat2: Bool

    let folder: FolderHandle
    var descriptor: Int32 { folder.descriptor }

    /// Opens the inbox folder. Throws ``SpoolError`` (`cannotOpenFolder`) naming the path
    /// and the reason when it cannot be opened as a folder.
    public convenience init(
        path: String, maxBytes: Int = 65536, limitName: String = "policy.max_csr_bytes"
    ) throws {
        try self.init(path: path, maxBytes: maxBytes, limitName: limitName, allowOpenat2: true)
    }

    /// `allowOpenat2: false` forces the `openat` fallback (for tests of that path).
    init(path: String, maxBytes: Int, limitName: String, allowOpenat2: Bool) throws {
        self.folder = try FolderHandle(path: path, role: "inbox")
        self.maxBytes = max(0, maxBytes)
        self.limitName = limitName
        self.usesOpenat2 = allowOpenat2 && Inbox.probeOpenat2(folder.descriptor)
    }

    /// Opens `.` beneath the folder with `openat2` once, to learn whether it can be used.
    private static func probeOpenat2(_ directory: Int32) -> Bool {
        let fd = SystemCall.openat2(
            directory, SpoolName(".").cString, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC,
            resolve: SystemCall.resolveBeneath | SystemCall.resolveNoSymlinks)
        if fd >= 0 {
            close(fd)
            return true
        }
        return false
    }

    private static let openFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY

    /// Opens an entry for reading without following links, without blocking and without
    /// leaving the folder.
    private func openEntry(_ name: [CChar]) -> Int32 {
        if usesOpenat2 {
            let fd = SystemCall.retrying {
                SystemCall.openat2(
                    descriptor, name, flags: Inbox.openFlags,
                    resolve: SystemCall.resolveBeneath | SystemCall.resolveNoSymlinks)
            }
            // ENOSYS/EPERM after a successful probe would mean a seccomp filter installed
            // later; fall back rather than refuse every upload.
            if fd >= 0 || (errno != ENOSYS && errno != EPERM) {
                return fd
            }
        }
        return SystemCall.retrying { openat(descriptor, name, Inbox.openFlags) }
    }

    // MARK: - Intake

    /// A failed open, stat or read: refused for the file's own reasons, left for later for
    /// the machine's (``Intake/isPassing(_:)``).
    static func unreadable(_ failure: Int32, _ reason: String) -> Intake {
        Intake.isPassing(failure) ? .unavailable(failure, reason) : .refused(.unreadable(failure), reason)
    }

    /// Reads an inbox entry safely, or says why it must be refused.
    ///
    /// Never follows a symbolic link (it is refused from `ELOOP`/`lstat`), never opens
    /// anything but a regular file, never reads a file with more than one link or larger
    /// than ``maxBytes``, and never reads more than `maxBytes + 1` bytes. `maxBytes`
    /// given here overrides the inbox's own limit, so a reloaded `policy.max_csr_bytes`
    /// applies without reopening the inbox.
    public func take(_ name: SpoolName, maxBytes limit: Int? = nil) -> Intake {
        let maxBytes = limit.map { max(0, $0) } ?? self.maxBytes
        guard name.isSingleComponent else {
            return .refused(.unreadable(EINVAL), "is not a single entry name of the inbox")
        }
        let cName = name.cString

        // Look first without opening: only a regular file is ever opened.
        guard let seen = SystemCall.lstat(descriptor, cName) else {
            let failure = errno
            if failure == ENOENT { return .vanished }
            return Inbox.unreadable(failure, "cannot be examined: \(SystemCall.errnoText(failure))")
        }
        let seenKind = EntryKind(mode: seen.st_mode)
        if seenKind != .regularFile {
            return Inbox.refusal(for: seenKind)
        }

        let fd = openEntry(cName)
        guard fd >= 0 else {
            let failure = errno
            switch failure {
            case ENOENT:
                return .vanished
            case ELOOP:
                // O_NOFOLLOW / RESOLVE_NO_SYMLINKS met a link: replaced since the lstat.
                if let now = SystemCall.lstat(descriptor, cName) {
                    return EntryKind(mode: now.st_mode) == .symbolicLink
                        ? Inbox.refusal(for: .symbolicLink) : .changed
                }
                return .vanished
            default:
                return Inbox.unreadable(failure, "cannot be opened: \(SystemCall.errnoText(failure))")
            }
        }
        defer { close(fd) }

        // Decide everything from the opened descriptor.
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let failure = errno
            return Inbox.unreadable(failure, "cannot be examined: \(SystemCall.errnoText(failure))")
        }
        let kind = EntryKind(mode: info.st_mode)
        if kind != .regularFile {
            return Inbox.refusal(for: kind)
        }
        if info.st_nlink == 0 {
            return .vanished  // unlinked between open and fstat
        }
        if info.st_nlink > 1 {
            return .refused(
                .multipleLinks,
                "has \(info.st_nlink) hard links; refused before reading so a link to a file outside the inbox cannot leak it"
            )
        }
        if info.st_size > maxBytes {
            return .refused(.tooLarge, "is \(info.st_size) bytes, over \(limitName) = \(maxBytes)")
        }
        let before = FileIdentity(info)

        let bytes: [UInt8]
        // One byte past the size it has, so that growth shows; never past the limit. The
        // buffer is as large as the file, not as the limit: a result that keeps the bytes
        // keeps only those.
        switch SystemCall.readAtMost(fd, limit: min(maxBytes, Int(info.st_size)) + 1) {
        case .success(let read):
            bytes = read
        case .failure(let failure):
            return Inbox.unreadable(failure.errno, "cannot be read: \(SystemCall.errnoText(failure.errno))")
        }
        if bytes.count > maxBytes {
            return .refused(.tooLarge, "grew past \(limitName) = \(maxBytes) bytes while being read")
        }

        // A writer still at work shows up as a different size or mtime.
        var after = stat()
        guard fstat(fd, &after) == 0 else {
            let failure = errno
            return Inbox.unreadable(failure, "cannot be examined: \(SystemCall.errnoText(failure))")
        }
        let identity = FileIdentity(after)
        if !identity.isSameContent(as: before) || Int64(bytes.count) != identity.size {
            return .changed
        }
        return .contents(bytes, identity)
    }

    static func refusal(for kind: EntryKind) -> Intake {
        switch kind {
        case .symbolicLink:
            return .refused(.symlink, "is a symbolic link; dropca never follows links in the inbox")
        default:
            return .refused(.notRegularFile, "is \(kind); only regular files are accepted and this one was not opened")
        }
    }

    // MARK: - Listing and metadata

    /// Every entry of the inbox (but `.` and `..`), with its `d_type`.
    public func listEntries() throws -> [FolderEntry] {
        try folder.list()
    }

    /// Every entry with its current metadata, for the startup, overflow and periodic
    /// scans. Entries that disappear between listing and `lstat` are left out.
    public func scan() throws -> [ScannedEntry] {
        try folder.list().compactMap { entry in
            folder.status(of: entry.name).map { ScannedEntry(name: entry.name, status: $0) }
        }
    }

    /// The entry's own metadata (`fstatat(AT_SYMLINK_NOFOLLOW)`, never a link's target),
    /// for the settle rule; `nil` when it does not exist (any more).
    public func status(of name: SpoolName) -> EntryStatus? {
        folder.status(of: name)
    }

    // MARK: - Removal

    /// What ``remove(_:ifUnchangedFrom:)`` did.
    public enum Removal: Hashable, Sendable {
        case removed
        /// Nothing by that name any more.
        case vanished
        /// The name now refers to another file, or the file was written to since it was
        /// read; it was left for its own events to bring back.
        case replaced
    }

    /// Removes an inbox entry (`unlinkat` relative to the inbox), once its certificate is
    /// recorded and published.
    ///
    /// With `identity` (from ``Intake/contents(_:_:)``), the entry is removed only if it
    /// is still the file that was read, unchanged: a client that uploads the same name
    /// again while the first upload is being issued must not lose its new upload. (The
    /// check and the unlink are two calls; the window between them is microseconds, and
    /// the new upload's own events still arrive.) Throws ``SpoolError`` (`cannotRemove`)
    /// on other failures. Call ``synchronize()`` to make removals durable.
    @discardableResult
    public func remove(_ name: SpoolName, ifUnchangedFrom identity: FileIdentity? = nil) throws -> Removal {
        guard name.isSingleComponent else {
            throw SpoolError(.invalidName, "cannot remove \(folder.display(name)): not a single entry name")
        }
        if let identity {
            guard let current = folder.status(of: name) else { return .vanished }
            if !current.identity.isSameContent(as: identity) { return .replaced }
        }
        guard unlinkat(descriptor, name.cString, 0) == 0 else {
            if errno == ENOENT { return .vanished }
            throw SpoolError.system(.cannotRemove, "cannot remove", path: folder.display(name), errno: errno)
        }
        return .removed
    }

    /// Whether some process still has `name` open for writing: true or false when the
    /// kernel can tell, nil when it cannot.
    ///
    /// Asked only for a file whose `IN_CLOSE_WRITE` may have been lost in an inotify
    /// overflow. A read lease (`F_SETLEASE`, `F_RDLCK`) is granted only while no one has
    /// the file open for writing, which is exactly the question; but only to the file's
    /// owner or a process with CAP_LEASE, so under the hardened service (uploads belong to
    /// the SFTP users) the answer is usually nil and the caller falls back to waiting.
    public func hasWriters(_ name: SpoolName) -> Bool? {
        guard name.isSingleComponent else { return nil }
        guard let seen = SystemCall.lstat(descriptor, name.cString), EntryKind(mode: seen.st_mode) == .regularFile else {
            return nil
        }
        let fd = openEntry(name.cString)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // F_SETLEASE is Linux-specific and not exported by the Swift Glibc module.
        let setLease: Int32 = 1024
        if fcntl(fd, setLease, Int32(F_RDLCK)) == 0 {
            _ = fcntl(fd, setLease, Int32(F_UNLCK))
            return false
        }
        return errno == EAGAIN || errno == EBUSY ? true : nil
    }

    /// Why the held inbox folder is no longer the inbox, or nil while it still is.
    ///
    /// inotify reports `IN_DELETE_SELF` only once the last reference to the folder goes,
    /// and this very object holds one; so the daemon also asks here, every half second
    /// while it is busy and at each wake-up when idle: a folder with no links left was
    /// deleted, and a path that no longer leads to the held folder means it was moved or
    /// replaced.
    public func lossReason() -> String? {
        folder.lossReason()
    }

    /// `fsync` of the inbox folder: makes removals durable (one call per batch).
    public func synchronize() throws {
        try folder.sync()
    }
}
