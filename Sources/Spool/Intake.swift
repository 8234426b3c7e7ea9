#if canImport(Glibc)
import Glibc
#endif

/// What ``Inbox/take(_:)`` found under a name.
public enum Intake: Hashable, Sendable {
    /// A regular file with one link, no larger than the limit: its bytes (at most
    /// `maxBytes`) and the identity of the file they came from, for
    /// ``Inbox/remove(_:ifUnchangedFrom:)`` and ``FailedFolder/reject(_:from:reason:details:expecting:contents:)``.
    case contents([UInt8], FileIdentity)
    /// The entry must be rejected: a stable code and a one-line reason in an operator's
    /// words (the caller prefixes the name, e.g. "inbox/x.csr is a symbolic link; …").
    case refused(IntakeRefusal, String)
    /// The entry no longer exists (`ENOENT`): an uploader removed or renamed it.
    case vanished
    /// The entry was replaced or written to while it was being looked at. Leave it in
    /// the inbox: the change brings its own inotify events, and it is taken again then.
    case changed
    /// Opening or reading failed for a reason that is the machine's, not the file's: out of
    /// descriptors or memory (``isPassing(_:)``). Leave it in the inbox and
    /// take it again later; rejecting it would lose an input for a moment's trouble.
    case unavailable(Int32, String)

    /// `errno` values that say nothing about the file: the same read may work in a moment.
    /// `EACCES`/`EPERM` are not among them: an upload the daemon may not read is the
    /// uploader's to fix, and stays refused. Nor is `EIO`: a file on a bad sector fails
    /// every read, and waiting for it would keep it in the inbox for ever; it is refused
    /// (the move to failed/ reads nothing).
    public static func isPassing(_ errno: Int32) -> Bool {
        [EMFILE, ENFILE, ENOMEM, ENOBUFS, EINTR, EAGAIN, ESTALE, ETIMEDOUT].contains(errno)
    }
}

/// Why ``Inbox/take(_:maxBytes:)`` refused an entry before (or while) reading it, with the
/// `errno` where there is one. The daemon records it as a ``SpoolRefusal`` (whose codes are
/// the ones the ledger and the journal carry); this is the spool's own finer answer.
public enum IntakeRefusal: Hashable, Sendable, CustomStringConvertible {
    /// A symbolic link: never followed, its target never read.
    case symlink
    /// A FIFO, directory, socket or device: never opened.
    case notRegularFile
    /// A regular file with more than one hard link: refused before a byte is read.
    case multipleLinks
    /// Larger than `policy.max_csr_bytes` (from `fstat`, or found growing while read).
    case tooLarge
    /// Opening or reading failed with this `errno`.
    case unreadable(Int32)

    /// The code it is recorded under (``SpoolRefusal/Code``).
    public var description: String {
        switch self {
        case .symlink: return SpoolRefusal.Code.symlink.rawValue
        case .notRegularFile: return SpoolRefusal.Code.notRegularFile.rawValue
        case .multipleLinks: return SpoolRefusal.Code.multipleLinks.rawValue
        case .tooLarge: return SpoolRefusal.Code.tooLarge.rawValue
        case .unreadable: return SpoolRefusal.Code.unreadable.rawValue
        }
    }
}
