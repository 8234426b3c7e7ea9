import Glibc

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

    /// `fsync` of the folder itself: makes creations, renames and removals in it durable.
    func sync() throws {
        guard SystemCall.retrying({ fsync(descriptor) }) == 0 else {
            throw SpoolError.system(.cannotSync, "cannot sync \(role)", path: path, errno: errno)
        }
    }

    /// Writes `bytes` to a new hidden file `.dropca-<random>.tmp` in this folder with
    /// mode `mode` (set with `fchmod`, so the umask does not matter) and `fsync`s it.
    /// Returns the temporary name; the caller renames it into place.
    func writeTemporary(_ bytes: [UInt8], mode: mode_t) throws -> SpoolName {
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
            var failure: (String, Int32)?
            if fchmod(fd, mode) != 0 {
                failure = ("cannot set the mode of", errno)
            } else if let code = SystemCall.writeAll(fd, bytes) {
                failure = ("cannot write", code)
            } else if SystemCall.retrying({ fsync(fd) }) != 0 {
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
            return name
        }
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
