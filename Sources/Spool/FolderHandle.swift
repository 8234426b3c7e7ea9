import Glibc
import Synchronization

/// An open descriptor of one spool folder, shared by ``Inbox``, ``Outbox`` and
/// ``FailedFolder``: every name they touch is resolved relative to it, never through the
/// configured path again, so renaming or replacing the path after startup cannot redirect
/// the daemon.
///
/// Ownership: the handle owns `descriptor` (opened `O_RDONLY|O_DIRECTORY|O_CLOEXEC`, which
/// `fdopendir` and `fsync` need; `O_PATH` would allow neither) and closes it in `deinit`.
/// It is `Sendable` because its stored properties are immutable and the calls made on the
/// descriptor (`*at`, `fsync`) are safe from several threads at once.
final class FolderHandle: Sendable {
    /// The configured path, for messages only.
    let path: String
    /// "inbox", "outbox", "failed folder": for messages.
    let role: String
    let descriptor: Int32

    init(path: String, role: String) throws {
        self.path = path
        self.role = role
        self.descriptor = try SystemCall.openFolder(path, role: role)
    }

    deinit {
        close(descriptor)
    }

    /// Why the held folder is no longer the one at the configured path, or nil: deleted
    /// (no links left), moved away, or the path now leads to another folder. Names go to
    /// the held folder whatever its path, so a folder swapped under the daemon would get
    /// (or give) files nobody looks at.
    func lossReason() -> String? {
        // "the inbox folder", "the outbox folder", "the failed folder"
        let folder = role.hasSuffix("folder") ? "the \(role)" : "the \(role) folder"
        var held = stat()
        guard fstat(descriptor, &held) == 0 else { return "\(folder) can no longer be examined" }
        if held.st_nlink == 0 { return "\(folder) was deleted" }
        var current = stat()
        guard stat(path, &current) == 0 else { return "\(folder) was deleted or moved away" }
        if current.st_dev != held.st_dev || current.st_ino != held.st_ino {
            return "the \(role) path now leads to another folder"
        }
        return nil
    }

    /// `path/name` with the name escaped, for messages.
    func display(_ name: SpoolName) -> String {
        path.hasSuffix("/") ? "\(path)\(name)" : "\(path)/\(name)"
    }

    /// Every entry but `.` and `..`, with `d_type`.
    ///
    /// Lists through a fresh descriptor of the same folder (`openat(fd, ".")`) rather than
    /// a `dup` of the held one: a `dup` shares the file offset, so two listings running at
    /// once (a rescan and a `removeStaleTemporaries`) would each see part of the folder.
    func list() throws -> [FolderEntry] {
        let listing = SystemCall.retrying {
            openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        guard listing >= 0 else {
            throw SpoolError.system(.cannotListFolder, "cannot list \(role)", path: path, errno: errno)
        }
        guard let stream = fdopendir(listing) else {
            let failure = errno
            close(listing)
            throw SpoolError.system(.cannotListFolder, "cannot list \(role)", path: path, errno: failure)
        }
        defer { closedir(stream) }  // closes `listing` too

        var entries: [FolderEntry] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 {
                    throw SpoolError.system(.cannotListFolder, "cannot list \(role)", path: path, errno: errno)
                }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [0x2E] || name == [0x2E, 0x2E] || name.isEmpty { continue }
            entries.append(
                FolderEntry(name: SpoolName(bytes: name), kind: EntryKind(directoryEntryType: entry.pointee.d_type)))
        }
        return entries
    }

    /// The entry's own metadata (`AT_SYMLINK_NOFOLLOW`); `nil` when it does not exist.
    func status(of name: SpoolName) -> EntryStatus? {
        guard name.isSingleComponent, let info = SystemCall.lstat(descriptor, name.cString) else {
            return nil
        }
        return EntryStatus(info)
    }

    /// The bytes of a regular file of this folder (not following links, at most `limit`),
    /// or nil when it cannot be read: for files of our own, such as the outbox's CA copy.
    func read(_ name: SpoolName, limit: Int) -> [UInt8]? {
        let fd = SystemCall.retrying { openat(descriptor, name.cString, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return try? SystemCall.readAtMost(fd, limit: limit).get()
    }

    /// `fsync` of the folder itself: makes creations, renames and removals in it durable.
    func sync() throws {
        guard SystemCall.retrying({ fsync(descriptor) }) == 0 else {
            throw SpoolError.system(.cannotSync, "cannot sync \(role)", path: path, errno: errno)
        }
    }

    /// How many `fsync`s ``syncTemporaries(_:)`` runs at once. Measured on the benchmark
    /// machine (ext4 without a journal on a virtio disk, batches of 454 new files, two
    /// runs): 78–92 µs a file with 16 at once, 119–122 µs with 4, 77–83 µs with 64 (not worth
    /// four times the threads), 231 µs one after the other.
    static let parallelSyncs = 16

    /// `fsync` of one file of this folder, opened again read-only (not following links);
    /// nil when it worked, else the errno.
    func syncFile(_ name: SpoolName) -> Int32? {
        let fd = SystemCall.retrying { openat(descriptor, name.cString, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        return SystemCall.retrying({ fsync(fd) }) == 0 ? nil : errno
    }

    /// `fsync`s the named files of this folder, several at once (``ParallelCalls``): a
    /// batch of temporaries written with `sync: false` is durable when this returns.
    ///
    /// Each thread opens the file again (read-only, not following links; `fsync` needs no
    /// write access) rather than the writer keeping a descriptor per file, so a batch of any
    /// size holds at most ``parallelSyncs`` descriptors. Throws ``SpoolError`` (`cannotSync`)
    /// naming the first file that could not be synced; every file is tried.
    ///
    /// Why not one `syncfs(2)` for the batch: it flushes every dirty page of the
    /// filesystem, so in a burst it also wrote back the uploads still waiting in the inbox
    /// — work for nothing, as they are deleted moments later, and on a filesystem mounted
    /// with `discard` each such deletion then waited for a discard: 103–105 µs a file
    /// against 11–15 µs, which outweighed its cheaper sync (23–24 µs a file); a P-256 burst
    /// of 10,000 ran at 2,800–3,100/s with `syncfs` and 3,200–3,800/s with this
    /// (`scripts/bench`'s burst, three interleaved runs each).
    func syncTemporaries(_ names: [SpoolName]) throws {
        let descriptor = self.descriptor
        let failures = FirstFailure()
        ParallelCalls.forEach(names.count, width: FolderHandle.parallelSyncs) { index in
            let fd = SystemCall.retrying { openat(descriptor, names[index].cString, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
            guard fd >= 0 else {
                failures.record(index, errno)
                return
            }
            if SystemCall.retrying({ fsync(fd) }) != 0 { failures.record(index, errno) }
            close(fd)
        }
        if let (index, code) = failures.first {
            throw SpoolError.system(.cannotSync, "cannot sync", path: display(names[index]), errno: code)
        }
    }

    /// Writes `bytes` to a new hidden file `.dropca-<random>.tmp` in this folder with
    /// mode `mode` (set with `fchmod`, so the umask does not matter) and, unless `sync` is
    /// false, `fsync`s it. Returns the temporary name; the caller renames it into place.
    /// With `sync: false` the caller must make the data durable (``syncTemporaries(_:)``)
    /// before that rename.
    ///
    /// With `reusing`, an empty temporary made earlier by ``createEmptyTemporary()`` is
    /// filled instead of creating one, if it is still exactly that: a regular file of ours
    /// with one link and no content (opened without following links). Anything else under
    /// that name is removed and a new temporary is created as usual.
    func writeTemporary(_ bytes: [UInt8], mode: mode_t, sync: Bool = true, reusing spare: SpoolName? = nil) throws -> SpoolName {
        if let spare, let fd = openSpare(spare) {
            try fill(fd, name: spare, bytes: bytes, mode: mode, sync: sync)
            return spare
        }
        var attempts = 0
        while true {
            attempts += 1
            let name = FolderHandle.temporaryName()
            let fd = SystemCall.retrying {
                openat(
                    descriptor, name.cString,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0o600)
            }
            if fd < 0 {
                if errno == EEXIST && attempts < 8 { continue }
                throw SpoolError.system(
                    .cannotWrite, "cannot create a temporary file in \(role)", path: path, errno: errno)
            }
            try fill(fd, name: name, bytes: bytes, mode: mode, sync: sync)
            return name
        }
    }

    /// Sets the mode, writes, optionally `fsync`s and closes `fd`; on any failure removes
    /// `name` and throws.
    private func fill(_ fd: Int32, name: SpoolName, bytes: [UInt8], mode: mode_t, sync: Bool) throws {
        var failure: (String, Int32)?
        if fchmod(fd, mode) != 0 {
            failure = ("cannot set the mode of", errno)
        } else if let code = SystemCall.writeAll(fd, bytes) {
            failure = ("cannot write", code)
        } else if sync && SystemCall.retrying({ fsync(fd) }) != 0 {
            failure = ("cannot sync", errno)
        }
        let closeFailed = close(fd) != 0 && errno != EINTR
        if failure == nil && closeFailed {
            failure = ("cannot close", errno)
        }
        if let (what, code) = failure {
            unlinkat(descriptor, name.cString, 0)
            throw SpoolError.system(.cannotWrite, what, path: display(name), errno: code)
        }
    }

    /// Creates an empty hidden temporary (mode 0600) for a later ``writeTemporary(_:mode:sync:reusing:)``.
    ///
    /// Why: creating a file is the slowest single step between an upload and its
    /// certificate on the benchmark machine — ext4 without a journal skips every recently
    /// freed inode when it allocates one, and the daemon frees one per input it removes:
    /// 272 µs (median) for the `openat(O_CREAT)` against 26 µs for the rename. Made while
    /// the daemon is idle, it is off that path.
    func createEmptyTemporary() throws -> SpoolName {
        var attempts = 0
        while true {
            attempts += 1
            let name = FolderHandle.temporaryName()
            let fd = SystemCall.retrying {
                openat(descriptor, name.cString, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0o600)
            }
            if fd < 0 {
                if errno == EEXIST && attempts < 8 { continue }
                throw SpoolError.system(.cannotWrite, "cannot create a temporary file in \(role)", path: path, errno: errno)
            }
            close(fd)
            return name
        }
    }

    /// Opens a spare from ``createEmptyTemporary()`` for writing, or removes whatever is
    /// there now and returns nil.
    private func openSpare(_ name: SpoolName) -> Int32? {
        let fd = SystemCall.retrying {
            openat(descriptor, name.cString, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        }
        if fd >= 0 {
            var info = stat()
            if fstat(fd, &info) == 0, EntryKind(mode: info.st_mode) == .regularFile, info.st_nlink == 1,
               info.st_size == 0, info.st_uid == geteuid() {
                return fd
            }
            close(fd)
        }
        unlinkat(descriptor, name.cString, 0)
        return nil
    }

    /// Prefix of every temporary file the spool creates; see ``Outbox/removeStaleTemporaries()``.
    static let temporaryPrefix = ".dropca-"
    static let temporarySuffix = ".tmp"

    static func isTemporaryName(_ name: SpoolName) -> Bool {
        name.bytes.starts(with: temporaryPrefix.utf8)
            && name.bytes.reversed().starts(with: temporarySuffix.utf8.reversed())
    }

    private static func temporaryName() -> SpoolName {
        var generator = SystemRandomNumberGenerator()
        let random = generator.next() as UInt64
        let hex = String(random, radix: 16)
        let padded = String(repeating: "0", count: 16 - hex.count) + hex
        return SpoolName("\(temporaryPrefix)\(padded)\(temporarySuffix)")
    }

    /// Removes every regular file named like our temporaries: leftovers of a crash
    /// between creating a temporary and renaming it. Call only when nothing else is
    /// writing to the folder (at startup). Returns the names removed.
    func removeStaleTemporaries() throws -> [SpoolName] {
        var removed: [SpoolName] = []
        for entry in try list() where FolderHandle.isTemporaryName(entry.name) {
            guard status(of: entry.name)?.kind == .regularFile else { continue }
            if unlinkat(descriptor, entry.name.cString, 0) == 0 {
                removed.append(entry.name)
            } else if errno != ENOENT {
                throw SpoolError.system(
                    .cannotRemove, "cannot remove stale temporary", path: display(entry.name), errno: errno)
            }
        }
        return removed
    }
}

/// The first failure reported from several threads (lowest index wins, so the message does
/// not depend on scheduling).
final class FirstFailure: Sendable {
    private let failure = Mutex<(index: Int, errno: Int32)?>(nil)

    func record(_ index: Int, _ code: Int32) {
        failure.withLock { failure in
            if failure.map({ index < $0.index }) ?? true { failure = (index, code) }
        }
    }

    var first: (index: Int, errno: Int32)? { failure.withLock { $0 } }
}
