/// Why the ledger could not do what was asked: a stable code for callers and tests, and one
/// line for the operator that names the ledger file, so a journal line alone says where to look.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable identifiers; new codes may be added, existing ones never change meaning.
    public enum Code: String, Sendable, CaseIterable {
        /// No ledger file where the configuration points (`list`/`show` before any issuance).
        case missingLedger
        /// The file exists but SQLite cannot open it, or it is not a dropca ledger.
        case cannotOpen
        /// The ledger was written by a newer dropca whose schema this one does not know.
        case newerSchema
        /// A write was attempted through a ledger opened read-only.
        case readOnly
        /// The serial is already in the ledger; the caller draws a new one and tries again.
        case duplicateSerial
        /// A record to be written has a serial or digest that is not hexadecimal.
        case invalidRecord
        /// `markPublished` named a serial the ledger has never recorded.
        case unknownSerial
        /// A stored row could not be read back (edited by hand, or damaged).
        case corruptRecord
        /// The file this ledger was opened from is no longer at its path, or was cut short:
        /// deleted, replaced by another file, or truncated (``LedgerLoss``). A certificate
        /// whose record went there must not be published.
        case lost
        /// A copy ``Ledger/backup(to:replacing:)`` made fails SQLite's check. (Damage found
        /// in the ledger itself while it is in use is ``storage``, and a ``LedgerLoss``.)
        case damaged
        /// `backup` was asked to write to a path that exists.
        case destinationExists
        /// Any other SQLite failure: disk full, I/O error, locked past the busy timeout. The
        /// daemon should stop rather than go on: a certificate it cannot record, it must not
        /// publish.
        case storage
    }

    /// Whether the cause may pass by itself: a lock another process holds, a full disk,
    /// an I/O error, memory (``storage``, or ``cannotOpen`` for one of those). The daemon
    /// exits 1 for such a ledger at start (restarted), 2 for one it refuses (not).
    public var mayPass: Bool {
        code == .storage || (code == .cannotOpen && passing)
    }

    public let code: Code
    /// One line, no trailing period, naming the ledger file.
    public let message: String
    /// The ledger file concerned.
    public let path: String

    /// Set for a ``cannotOpen`` whose SQLite cause passes (``mayPass``).
    let passing: Bool

    public init(_ code: Code, _ message: String, path: String) {
        self.init(code, message, path: path, passing: false)
    }

    init(_ code: Code, _ message: String, path: String, passing: Bool) {
        self.code = code
        self.message = message
        self.path = path
        self.passing = passing
    }

    public var description: String { "LedgerError.\(code.rawValue): \(message)" }

    /// Equality on the code only, so that rewording a message never breaks a caller.
    public static func == (lhs: LedgerError, rhs: LedgerError) -> Bool { lhs.code == rhs.code }
}

extension LedgerError {
    static func missingLedger(path: String) -> LedgerError {
        LedgerError(
            .missingLedger,
            "no ledger at \(path): dropca has not issued anything yet, or state.directory points elsewhere",
            path: path)
    }

    static func readOnly(path: String) -> LedgerError {
        LedgerError(.readOnly, "ledger at \(path) was opened read-only; writes go through the daemon", path: path)
    }
}
