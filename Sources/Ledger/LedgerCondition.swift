/// What a ledger file is, looked at without writing a byte (``Ledger/examine(path:checkIntegrity:)``):
/// what `dropca run` decides from at start, and what `dropca check-config` reports.
public enum LedgerCondition: Sendable, Equatable {
    /// No file at the path.
    case absent
    /// A file of 0 bytes: SQLite would take it for a new, empty database.
    case empty
    /// The file cannot be read (permissions, I/O); the reason names no path.
    case unreadable(String)
    /// SQLite cannot read it as a database, or `PRAGMA quick_check` finds damage; the
    /// reason is SQLite's own words, in one line.
    case damaged(String)
    /// A sound SQLite database, but without the ledger's tables.
    case notALedger
    /// A dropca ledger.
    case ledger(LedgerSummary)
}

/// A sound ledger, in brief.
public struct LedgerSummary: Sendable, Equatable {
    /// Nil for a ledger made before ids (``LedgerSchema``'s `v3-identity`); it gets one the
    /// first time dropca opens it read-write.
    public let identity: String?
    public let certificates: Int
    public let rejections: Int

    public init(identity: String?, certificates: Int, rejections: Int) {
        self.identity = identity
        self.certificates = certificates
        self.rejections = rejections
    }

    /// Nothing was ever recorded in it: a ledger made moments ago looks like this.
    public var isEmpty: Bool { certificates == 0 && rejections == 0 }
}
