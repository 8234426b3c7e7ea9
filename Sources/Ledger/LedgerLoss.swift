/// Why the ledger a process has open is no longer the ledger at its path: what
/// ``Ledger/loss()`` reports, and what the daemon treats as fatal, as it treats losing its
/// inbox.
///
/// SQLite keeps reading and writing the file it opened, whatever happens to the path: a
/// deleted ledger goes on taking records into an unlinked file that vanishes when the
/// process ends, and the next start would make a new, empty one. So the path is compared
/// with what was opened (``LedgerFileWatch``), and a difference ends the run.
public struct LedgerLoss: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// `ledger.sqlite` is gone from its path (deleted, moved away), or the path can no
        /// longer be examined. The open file is intact: it can be copied out.
        case removed
        /// The path names another file now (one moved or copied over it). The open file
        /// is intact: it can be copied out.
        case replaced
        /// The open file is smaller than it has been: truncated in place, its pages gone.
        case truncated
        /// The `-wal` or `-shm` file beside it was deleted or replaced. The main file is
        /// intact, and the transactions in the open `-wal` can still be moved into it.
        case sideFileLost
        /// SQLite found the file damaged while reading or writing it.
        case damaged
    }

    public let kind: Kind
    /// One line, naming the file: "ledger.sqlite was deleted or moved away".
    public let reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { reason }

    /// Whether the main file is gone from the path, cut short or damaged, rather than just
    /// a side file: then no further certificate may be recorded as if the ledger were
    /// sound, and the next start finds no usable ledger at the path.
    public var mainFileLost: Bool { kind != .sideFileLost }
}
