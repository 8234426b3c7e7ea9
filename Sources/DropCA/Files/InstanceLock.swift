#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// The one `dropca run` on a state directory: an exclusive `flock(2)` on
/// `state.directory/dropca.lock`, taken before the daemon touches the spool or the ledger
/// and held for its whole life, with its PID in the file for the message a second one gets.
///
/// Two daemons on one state directory (a second unit, a manual run beside the service)
/// would both take the same inputs and issue them twice; the ledger's in-memory look-ups
/// (`Ledger.UnpublishedSources`) also assume one writer. `flock` rather than a POSIX
/// record lock: it belongs to the open file description, so no other `close` of the file
/// in this process drops it, and the kernel releases it when the process dies, SIGKILL
/// included, so a crash never leaves a stale lock behind (a stale PID in the file is
/// harmless; the lock, not the file, decides).
final class InstanceLock: Sendable {
    static let fileName = "dropca.lock"

    /// Why the lock could not be taken.
    enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Another process holds it; its PID as the file says, when readable.
        case held(directory: String, pid: Int32?)
        /// The lock file cannot be opened or locked at all.
        case unusable(path: String, reason: String)

        var description: String {
            switch self {
            case .held(let directory, let pid):
                "another dropca (pid \(pid.map(String.init) ?? "unknown")) is using \(directory)"
            case .unusable(let path, let reason):
                "\(path): cannot take the instance lock: \(reason)"
            }
        }
    }

    private let descriptor: FileDescriptor
    let path: String

    /// Takes the lock on `directory`, which must exist; never waits.
    init(directory: String) throws(Failure) {
        let path = directory.hasSuffix("/") ? directory + Self.fileName : directory + "/" + Self.fileName
        self.path = path
        let descriptor: FileDescriptor
        var writable = true
        do {
            // 0644 as asked (the unit's UMask makes it 0600): the PID is no secret.
            descriptor = try FileDescriptor.open(
                FilePath(path), .readWrite, options: [.create, .closeOnExec, .noFollow],
                permissions: [.ownerReadWrite, .groupRead, .otherRead]
            )
        } catch let error as Errno where error == .permissionDenied {
            // A lock file another user made (a `dropca run` as root once, say): `flock`
            // works on a descriptor opened for reading too; only the PID is not written.
            do {
                descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .noFollow])
                writable = false
            } catch {
                throw .unusable(path: path, reason: "\(error)")
            }
        } catch {
            throw .unusable(path: path, reason: "\(error)")
        }
        // A `dropca revoke` probing whether a daemon runs holds a shared lock for a moment
        // (`holder(of:)`): try a few times before calling the directory taken.
        var attempts = 0
        while flock(descriptor.rawValue, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            attempts += 1
            if code == EWOULDBLOCK && attempts < 10 {
                usleep(20_000)
                continue
            }
            let pid = Self.recordedPID(descriptor)
            try? descriptor.close()
            if code == EWOULDBLOCK {
                throw .held(directory: directory, pid: pid)
            }
            throw .unusable(path: path, reason: "\(Errno(rawValue: code))")
        }
        self.descriptor = descriptor
        guard writable else { return }
        // Best effort: the PID only improves the message a second instance prints.
        let line = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor.rawValue, 0)
        _ = try? descriptor.writeAll(toAbsoluteOffset: 0, line)
        // Run as root on a state directory that belongs to the service user, leave the
        // file to that user, so that the service can write its own PID into it later.
        var folder = stat()
        if geteuid() == 0, stat(directory, &folder) == 0, folder.st_uid != 0 {
            _ = fchown(descriptor.rawValue, folder.st_uid, folder.st_gid)
        }
    }

    deinit {
        // Closing the only descriptor of the open file description releases the lock.
        try? descriptor.close()
    }

    /// Whether a `dropca run` holds `directory`'s lock.
    enum Holder: Sendable, Equatable {
        case nobody
        /// With its PID when the lock file says which process it is.
        case running(pid: Int32?)
    }

    /// Who holds `directory`'s lock. Takes and drops a shared lock to find out (a daemon
    /// starting meanwhile is harmless: it publishes a CRL at start anyway); never creates
    /// the file.
    static func holder(of directory: String) -> Holder {
        let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
        guard let descriptor = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .noFollow]) else {
            return .nobody
        }
        defer { try? descriptor.close() }
        if flock(descriptor.rawValue, LOCK_SH | LOCK_NB) == 0 {
            _ = flock(descriptor.rawValue, LOCK_UN)
            return .nobody
        }
        return errno == EWOULDBLOCK ? .running(pid: recordedPID(descriptor)) : .nobody
    }

    private static func recordedPID(_ descriptor: FileDescriptor) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        guard let count = try? buffer.withUnsafeMutableBytes({ try descriptor.read(fromAbsoluteOffset: 0, into: $0) }), count > 0 else {
            return nil
        }
        let text = String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        return Int32(text).flatMap { $0 > 0 ? $0 : nil }
    }
}
