import Glibc
import Synchronization

/// The failed folder: every rejected input ends here as `failed/NAME` plus
/// `failed/NAME.reason`, so nothing is ever silently dropped (README, "What appears where").
///
/// How an entry gets here, by kind — chosen so that not one byte of a file outside the
/// inbox can end up in `failed/`, and no rejected entry is ever opened:
/// - Regular files with one link, symbolic links, FIFOs, sockets, devices and folders
///   are *moved* with `renameat` between the held inbox and failed descriptors. A rename
///   moves the entry itself: a symlink stays a symlink (its target is neither followed
///   nor read), a FIFO stays a FIFO (never opened, so never blocks).
/// - A regular file with more than one hard link is *not* moved: its inbox name is
///   unlinked and only the reason file is written. Moving it would put a second name for
///   a file that also lives outside the inbox into `failed/`, where an operator's
///   `cat`, backup or `chown -R` would then act on that outside file. Removing the extra
///   name cannot harm the file (its other names keep it), and the reason file records
///   what was there.
/// - When `failed/` is on another filesystem (`EXDEV`), the bytes the caller already
///   read (``Intake/contents(_:_:)``) are written to `failed/NAME` atomically and the
///   inbox entry is unlinked; without such bytes (an entry that was refused before
///   reading), only the reason is written and the entry is unlinked.
///
/// Names: a safe name is kept; any other is percent-encoded
/// (``SpoolName/failedFolderName``) and the original, escaped, goes into the reason
/// file. If `failed/NAME` or `failed/NAME.reason` exists, `NAME.1`, `NAME.2`, … are tried
/// until both are free, so nothing is overwritten; `renameat2(RENAME_NOREPLACE)` makes
/// the final step refuse to replace even if an operator creates the name meanwhile. An
/// upload whose name ends in `.reason` is kept as `NAME.upload`: every `*.reason` in
/// `failed/` is then one dropca wrote, and an uploader cannot pass a file of its own off
/// as the reason of another rejection (start-up reconciliation trusts reason files).
///
/// The reason file (mode 0644, written via temporary file, `fsync`, rename, folder
/// `fsync`) has the reason on its first line and `key: value` detail lines after it.
/// Every line is made printable: control characters are escaped as `\xNN`.
///
/// Ownership: owns its folder descriptor. `Sendable`: rejections from several workers
/// are serialised by a lock, so two of them never pick the same free name.
public final class FailedFolder: Sendable {
    public var path: String { folder.path }

    /// Why the held folder is no longer the one at its path (deleted, moved, replaced), or
    /// nil; the daemon treats that as it treats a lost inbox.
    public func lossReason() -> String? {
        folder.lossReason()
    }
    let folder: FolderHandle
    /// Held while a free name is chosen and taken; guards no data of its own.
    private let lock = Mutex(())

    /// Mode of reason files and of entries copied across filesystems.
    public static let fileMode: mode_t = 0o644

    /// Opens the failed folder; throws ``SpoolError`` (`cannotOpenFolder`).
    public init(path: String) throws {
        self.folder = try FolderHandle(path: path, role: "failed folder")
    }

    /// What ``reject(_:from:reason:details:expecting:contents:)`` did.
    public enum Outcome: Hashable, Sendable {
        /// The entry was moved to `failed/entry`, its reason written to `failed/reason`.
        case moved(entry: SpoolName, reason: SpoolName)
        /// `failed/` is on another filesystem: the bytes that were read were written to
        /// `failed/entry` and the inbox entry was removed.
        case copied(entry: SpoolName, reason: SpoolName)
        /// The inbox entry was removed without being kept (a hard-linked file, or a
        /// cross-filesystem entry that was never read); only `failed/reason` was written.
        case reasonOnly(reason: SpoolName)
        /// The entry no longer existed; nothing was written.
        case vanished
        /// `expecting` did not match: the name now holds another (or a rewritten) file,
        /// which was left in the inbox for its own events.
        case replaced
    }

    /// Moves a rejected inbox entry to `failed/` and writes its reason file.
    ///
    /// The reason file is written (and made durable) *before* the entry moves, naming the
    /// place the entry is about to take (`kept as: failed/NAME`), so that no crash or
    /// failure can leave an entry in `failed/` without its reason. A crash between the two
    /// leaves a reason whose entry is missing while the input is still in the inbox:
    /// start-up reconciliation withdraws it (``withdraw(_:)``) before the first rejection,
    /// so the next rejection of that input takes the same name again.
    ///
    /// - Parameters:
    ///   - reason: one line for the operator, written as the reason file's first line.
    ///   - details: further lines (`key: value` reads best). `input:`, `kept as:` or
    ///     `not kept:`, and `rejected at:` lines are added.
    ///   - expecting: the identity from ``Intake/contents(_:_:)``; when given, a regular
    ///     file that no longer matches is left alone (``Outcome/replaced``).
    ///   - contents: the bytes already read, used only when `failed/` is on another
    ///     filesystem.
    ///   - rejectedAt: seconds since the epoch for the `rejected at:` line; the daemon
    ///     passes the time it records in the ledger, so the two can be matched up later.
    /// - Throws: ``SpoolError`` when the folders cannot be written, renamed or synced.
    public func reject(
        _ name: SpoolName, from inbox: Inbox, reason: String, details: [String] = [],
        expecting identity: FileIdentity? = nil, contents: [UInt8]? = nil, rejectedAt: Int? = nil
    ) throws -> Outcome {
        guard name.isSingleComponent else {
            throw SpoolError(.invalidName, "cannot reject \(inbox.folder.display(name)): not a single entry name")
        }
        let stamp = FailedFolder.utcTimestamp(rejectedAt ?? Int(time(nil)))
        return try lock.withLock { _ in
            try rejectLocked(
                name, from: inbox.folder, reason: reason, details: details, expecting: identity,
                contents: contents, stamp: stamp)
        }
    }

    private func rejectLocked(
        _ name: SpoolName, from inbox: FolderHandle, reason: String, details: [String],
        expecting identity: FileIdentity?, contents: [UInt8]?, stamp: String
    ) throws -> Outcome {
        guard let status = inbox.status(of: name) else { return .vanished }
        if let identity, status.kind != .regularFile || !status.identity.isSameContent(as: identity) {
            return .replaced
        }
        let lines = [FailedFolder.oneLine(reason), "input: \(FailedFolder.oneLine(name.description))"]
            + details.map(FailedFolder.oneLine)

        if status.kind == .regularFile && status.links > 1 {
            let target = freeName(for: name).name
            try writeReason(lines + [
                "not kept: the file had \(status.links) hard links, so its inbox name was removed instead of moved; nothing in failed/ links to a file outside the inbox"
            ], as: target.appending(".reason"), stamp: stamp)
            try removeOrWithdraw(name, status: status, inbox: inbox, written: [target.appending(".reason")])
            syncAfterMove(inbox)
            return .reasonOnly(reason: target.appending(".reason"))
        }

        // Reason first, then the entry itself, never replacing anything in failed/.
        var (target, number) = freeName(for: name)
        var attempts = 0
        while true {
            attempts += 1
            let reasonName = target.appending(".reason")
            try writeReason(lines + ["kept as: failed/\(target)"], as: reasonName, stamp: stamp)
            try folder.sync()
            let from = name.cString
            var result = SystemCall.renameNoReplace(inbox.descriptor, from, folder.descriptor, target.cString)
            if result != 0 && (errno == ENOSYS || errno == EINVAL) {
                // No RENAME_NOREPLACE here: the name was checked free under the lock.
                result = renameat(inbox.descriptor, from, folder.descriptor, target.cString)
            }
            if result == 0 { break }
            let failure = errno
            // The entry did not move: its reason must not stay behind it.
            unlinkat(folder.descriptor, reasonName.cString, 0)
            switch failure {
            case EEXIST where attempts < 1000, ENOTEMPTY where attempts < 1000:
                (target, number) = freeName(for: name, from: number + 1)
                continue
            case ENOENT:
                try? folder.sync()
                return .vanished
            case EXDEV:
                return try rejectAcrossFilesystems(
                    name, status: status, inbox: inbox, lines: lines, contents: contents, stamp: stamp)
            default:
                try? folder.sync()
                throw SpoolError.system(
                    .cannotRename, "cannot move \(inbox.display(name)) to", path: folder.display(target),
                    errno: failure)
            }
        }

        // A regular file swapped for a hard link between the check and the rename would
        // now be a second name of an outside file here: take that name away again.
        // The reason is rewritten first: a crash between the two must not leave a `kept as:`
        // whose entry is gone, which start-up would take for an unfinished rejection.
        if let moved = folder.status(of: target), moved.kind == .regularFile, moved.links > 1 {
            try writeReason(lines + ["not kept: the file had \(moved.links) hard links when it was moved; its name was removed"],
                            as: target.appending(".reason"), stamp: stamp)
            try folder.sync()
            unlinkat(folder.descriptor, target.cString, 0)
            syncAfterMove(inbox)
            return .reasonOnly(reason: target.appending(".reason"))
        }
        syncAfterMove(inbox)
        return .moved(entry: target, reason: target.appending(".reason"))
    }

    private func rejectAcrossFilesystems(
        _ name: SpoolName, status: EntryStatus, inbox: FolderHandle, lines: [String], contents: [UInt8]?, stamp: String
    ) throws -> Outcome {
        let target = freeName(for: name).name
        let reasonName = target.appending(".reason")
        if let contents, status.kind == .regularFile {
            try writeReason(lines + ["kept as: failed/\(target) (a copy of the \(contents.count) bytes read; failed/ is on another filesystem)"],
                            as: reasonName, stamp: stamp)
            let temporary: SpoolName
            do {
                try folder.sync()
                temporary = try folder.writeTemporary(contents, mode: FailedFolder.fileMode)
            } catch {
                unlinkat(folder.descriptor, reasonName.cString, 0)
                throw error
            }
            var result = SystemCall.renameNoReplace(folder.descriptor, temporary.cString, folder.descriptor, target.cString)
            if result != 0 && (errno == ENOSYS || errno == EINVAL) {
                result = renameat(folder.descriptor, temporary.cString, folder.descriptor, target.cString)
            }
            guard result == 0 else {
                let failure = errno
                unlinkat(folder.descriptor, temporary.cString, 0)
                unlinkat(folder.descriptor, reasonName.cString, 0)
                throw SpoolError.system(.cannotRename, "cannot keep a copy as", path: folder.display(target), errno: failure)
            }
            try folder.sync()
            try removeOrWithdraw(name, status: status, inbox: inbox, written: [target, reasonName])
            syncAfterMove(inbox)
            return .copied(entry: target, reason: reasonName)
        }
        if status.kind == .directory {
            // A folder cannot be copied to another filesystem, and one that is not empty
            // cannot be removed without deleting what an uploader put in it. It is hidden
            // in the inbox instead (a name starting with "." is never taken), so that it is
            // refused once, not on every rescan. The reason names both outcomes, since it
            // is written before either happens.
            let hidden = SpoolName(".dropca-refused-\(UInt32.random(in: 0...UInt32.max))-\(name.failedFolderName)")
            try writeReason(lines + [
                "not kept: failed/ is on another filesystem and a folder cannot be copied there; an empty folder is removed from the inbox, any other stays in the inbox as \(hidden), untouched"
            ], as: reasonName, stamp: stamp)
            try folder.sync()
            if unlinkat(inbox.descriptor, name.cString, AT_REMOVEDIR) != 0 {
                if errno == ENOTEMPTY || errno == EEXIST {
                    guard renameat(inbox.descriptor, name.cString, inbox.descriptor, hidden.cString) == 0 else {
                        let failure = errno
                        unlinkat(folder.descriptor, reasonName.cString, 0)
                        throw SpoolError.system(.cannotRename, "cannot set aside the rejected folder", path: inbox.display(name), errno: failure)
                    }
                } else if errno != ENOENT {
                    let failure = errno
                    unlinkat(folder.descriptor, reasonName.cString, 0)
                    throw SpoolError.system(.cannotRemove, "cannot remove rejected entry", path: inbox.display(name), errno: failure)
                }
            }
            syncAfterMove(inbox)
            return .reasonOnly(reason: reasonName)
        }
        try writeReason(lines + ["not kept: failed/ is on another filesystem and \(status.kind) was never read; its inbox entry was removed"],
                        as: reasonName, stamp: stamp)
        try folder.sync()
        try removeOrWithdraw(name, status: status, inbox: inbox, written: [reasonName])
        syncAfterMove(inbox)
        return .reasonOnly(reason: reasonName)
    }

    private func removeFromInbox(_ name: SpoolName, status: EntryStatus, inbox: FolderHandle) throws {
        let flags = status.kind == .directory ? AT_REMOVEDIR : 0
        if unlinkat(inbox.descriptor, name.cString, flags) != 0 && errno != ENOENT {
            throw SpoolError.system(.cannotRemove, "cannot remove rejected entry", path: inbox.display(name), errno: errno)
        }
    }

    private func syncBoth(_ inbox: FolderHandle) throws {
        try folder.sync()
        try inbox.sync()
    }

    /// After the entry has left the inbox the rejection has happened, whatever an fsync
    /// says now: throwing would keep the caller from recording it, and nothing in the
    /// inbox would bring it back. A failing fsync shows again in the publisher's own sync
    /// of the inbox, which is logged.
    private func syncAfterMove(_ inbox: FolderHandle) {
        try? syncBoth(inbox)
    }

    /// Removes the inbox name of an entry that is not moved; if that fails (a read-only or
    /// sticky inbox), takes back what was written for it in failed/, so that the retry
    /// writes it once more under the same name rather than adding NAME.1, NAME.2, …
    private func removeOrWithdraw(_ name: SpoolName, status: EntryStatus, inbox: FolderHandle, written: [SpoolName]) throws {
        do {
            try removeFromInbox(name, status: status, inbox: inbox)
        } catch {
            for entry in written { unlinkat(folder.descriptor, entry.cString, 0) }
            try? folder.sync()
            throw error
        }
    }

    /// The first of `BASE`, `BASE.1`, `BASE.2`, … from number `start` on, for which
    /// neither the name nor `NAME.reason` exists in `failed/`, and its number.
    ///
    /// A reason file whose entry is gone is taken: it belongs to a rejection that finished
    /// (an operator took the entry away, maybe back into the inbox), since those a crash
    /// cut short were withdrawn by start-up reconciliation before the first rejection.
    private func freeName(for name: SpoolName, from start: Int = 0) -> (name: SpoolName, number: Int) {
        let base = Self.entryName(for: name)
        var number = start
        while true {
            let candidate = number == 0 ? base : base.appending(".\(number)")
            if folder.status(of: candidate) == nil && folder.status(of: candidate.appending(".reason")) == nil {
                return (candidate, number)
            }
            number += 1
        }
    }

    /// The name an input is kept under: ``SpoolName/failedFolderName``, with `.upload`
    /// after a name that would end in `.reason`.
    static func entryName(for name: SpoolName) -> SpoolName {
        let base = name.failedFolderName
        return ReasonFile.hasReasonSuffix(base) ? base.appending(".upload") : base
    }

    /// Writes the reason file atomically (temporary, `fsync`, rename); the caller syncs
    /// the folder.
    private func writeReason(_ lines: [String], as reasonName: SpoolName, stamp: String) throws {
        var all = lines
        all.append("rejected at: \(stamp)")
        let text = all.joined(separator: "\n") + "\n"
        let temporary = try folder.writeTemporary(Array(text.utf8), mode: FailedFolder.fileMode)
        guard renameat(folder.descriptor, temporary.cString, folder.descriptor, reasonName.cString) == 0 else {
            let failure = errno
            unlinkat(folder.descriptor, temporary.cString, 0)
            throw SpoolError.system(.cannotRename, "cannot write reason file", path: folder.display(reasonName), errno: failure)
        }
    }

    /// The text with every control character (newline included) escaped as `\xNN`, so a
    /// reason or detail is exactly one line whatever an uploader put into it.
    public static func oneLine(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `2025-01-31T12:00:00Z`, from the wall clock.
    static func utcTimestamp(_ seconds: Int = Int(time(nil))) -> String {
        var now = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&now, &parts) != nil else { return "\(now)" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// Reads a reason file of ours, at most 64 KiB, without following links; nil when it
    /// is missing, not a regular file, or not in dropca's format.
    func readReason(_ name: SpoolName) -> ReasonFile? {
        let fd = SystemCall.retrying { openat(folder.descriptor, name.cString, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
              case .success(let bytes) = SystemCall.readAtMost(fd, limit: min(Int(info.st_size), 65_536)) else { return nil }
        return ReasonFile.parse(bytes, name: name)
    }

    /// The reason files changed at or after `since` (seconds since the epoch; nil: all),
    /// for start-up reconciliation with the ledger.
    public func reasons(modifiedSince since: Int?) throws -> [ReasonFile] {
        var found: [ReasonFile] = []
        for entry in try folder.list() where ReasonFile.hasReasonSuffix(entry.name) {
            guard let status = folder.status(of: entry.name), status.kind == .regularFile else { continue }
            if let since, status.identity.modified.seconds < since { continue }
            // One of ours says where its entry went, under its own name less `.reason`,
            // or that it kept none.
            guard let file = readReason(entry.name) else { continue }
            if let kept = file.keptAs, kept.appending(".reason") != entry.name { continue }
            if file.keptAs == nil && !file.keptNothing { continue }
            found.append(file)
        }
        // An upload an older version kept under a `*.reason` name is an entry: its own
        // reason file (`NAME.reason.reason`, maybe outside `since`) says it was kept there.
        // Whatever it holds, it is not a rejection's.
        return found.filter { readReason($0.name.appending(".reason"))?.keptAs != $0.name }
    }

    /// Whether the entry a reason file says was kept is there.
    public func holds(_ name: SpoolName) -> Bool {
        folder.status(of: name) != nil
    }

    /// Removes a reason file whose rejection never finished (its entry never arrived).
    public func withdraw(_ reason: ReasonFile) throws {
        try lock.withLock { _ in
            if unlinkat(folder.descriptor, reason.name.cString, 0) != 0 && errno != ENOENT {
                throw SpoolError.system(.cannotRemove, "cannot remove unfinished reason file", path: folder.display(reason.name), errno: errno)
            }
            try folder.sync()
        }
    }

    /// The failed folder's entries, for tests and tooling.
    public func listEntries() throws -> [FolderEntry] {
        try folder.list()
    }

    /// Removes temporaries left by a crash while writing a reason file; call at startup.
    @discardableResult
    public func removeStaleTemporaries() throws -> [SpoolName] {
        let removed = try folder.removeStaleTemporaries()
        if !removed.isEmpty { try folder.sync() }
        return removed
    }
}
