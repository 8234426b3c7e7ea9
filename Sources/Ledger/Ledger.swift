import Foundation
internal import GRDB
import Synchronization

/// The issuance ledger: `<state.directory>/ledger.sqlite`, the record that makes intake
/// exactly-once. A certificate is written here, durably, before it is published, and an input
/// is removed only after that; after a crash the ledger tells issued-but-unpublished work
/// apart from work never done.
///
/// The file is in WAL mode with `synchronous=FULL`, so a committed transaction has been
/// fsynced before the commit returns, and a reader (`dropca list` while the daemon runs)
/// never blocks the writer nor waits for it.
public final class Ledger: Sendable {
    /// How the ledger is opened.
    public enum Access: Sendable {
        /// The daemon and `dropca issue`: creates the file and its folder when missing.
        case readWrite
        /// `dropca list` and `dropca show`: never creates, never writes, never takes a write
        /// lock, so an operator looking at the ledger cannot hold up issuance.
        case readOnly
    }

    public static let fileName = "ledger.sqlite"

    /// The ledger file.
    public let path: String
    public let access: Access

    let reader: any DatabaseReader
    /// `nil` when opened read-only.
    let writer: (any DatabaseWriter)?
    private let commits: CommitCounter
    /// Inputs with recorded but unpublished certificates; only a read-write instance keeps
    /// it, as a read-only one does not see what the writer does.
    let unpublishedSources: UnpublishedSources?
    /// Whether the path still names the file that was opened (read-write only: a reader
    /// loses nothing when the file goes); also where a loss found otherwise is kept.
    let fileWatch: LedgerFileWatch?
    /// Set once the ledger is left open for good (``preserve(after:at:)``): ``close()`` then
    /// does nothing.
    let abandoned = Atomic<Bool>(false)

    /// `directory/ledger.sqlite`.
    public static func path(in directory: String) -> String {
        URL(fileURLWithPath: directory, isDirectory: true).appendingPathComponent(Ledger.fileName).path
    }

    /// Opens `directory/ledger.sqlite`; see ``init(path:access:)``.
    public convenience init(directory: String, access: Access = .readWrite) throws {
        try self.init(path: Ledger.path(in: directory), access: access)
    }

    /// Opens the ledger file at `path`: the configured one, or (read-only) any other, such as
    /// a copy made by ``backup(to:replacing:)``.
    ///
    /// Read-write creates the folder (mode 0700: the ledger is the CA's state) and the file when
    /// missing and brings the schema up to date. Read-only fails with
    /// ``LedgerError/Code/missingLedger`` when there is no file, rather than
    /// leaving an empty one behind.
    public init(path: String, access: Access = .readWrite) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        self.path = path
        self.access = access
        let commits = CommitCounter()
        self.commits = commits

        var configuration = Configuration()
        configuration.label = "dropca.ledger"
        // Checkpoints and a recovering reader take short exclusive locks; wait them out.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }

        switch access {
        case .readOnly:
            // Only "no such file" means no ledger yet; a state directory this user may not
            // enter is an error to report, not an empty ledger.
            var status = stat()
            if stat(path, &status) != 0 {
                let code = errno
                if code == ENOENT { throw LedgerError.missingLedger(path: path) }
                throw LedgerError(.cannotOpen, "cannot open the ledger at \(path): \(String(cString: strerror(code)))", path: path)
            }
            // Not even opened: SQLite takes a 0-byte file for a new database and deletes the
            // -wal beside it, which after a truncation holds the last transactions.
            guard status.st_size > 0 else {
                throw LedgerError(.cannotOpen, "the ledger at \(path) is empty (0 bytes)", path: path)
            }
            configuration.readonly = true
            let queue = try Ledger.opening(path) { try DatabaseQueue(path: path, configuration: configuration) }
            let hasSchema = try Ledger.opening(path) {
                try queue.read { try LedgerSchema.readableMigrations.isSubset(of: LedgerSchema.migrator.appliedIdentifiers($0)) }
            }
            guard hasSchema else {
                throw LedgerError(.cannotOpen, "\(path) is not a dropca ledger: it has no issuance tables", path: path)
            }
            reader = queue
            writer = nil
            unpublishedSources = nil
            fileWatch = nil

        case .readWrite:
            try Ledger.createDirectory(directory, path: path)
            let pool = try Ledger.opening(path) { try DatabasePool(path: path, configuration: configuration) }
            try Ledger.opening(path) {
                try pool.writeWithoutTransaction { db in
                    // DatabasePool switches the file to WAL after prepareDatabase has run and
                    // sets synchronous=NORMAL on the way ("enough for most apps"). NORMAL can lose
                    // the last commits on power loss, and a lost row means a certificate issued
                    // twice, so FULL is set again here, last, on the one write connection.
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                    db.add(transactionObserver: commits, extent: .databaseLifetime)
                }
            }
            let migrator = LedgerSchema.migrator
            let superseded = try Ledger.opening(path) { try pool.read { try migrator.hasBeenSuperseded($0) } }
            guard !superseded else {
                throw LedgerError(
                    .newerSchema,
                    "ledger at \(path) was written by a newer dropca; this one will not write to it",
                    path: path)
            }
            try Ledger.opening(path) { try migrator.migrate(pool) }
            let pending = try Ledger.opening(path) {
                try pool.read { db in
                    try Row.fetchAll(db, sql: "SELECT serial, profile, source_file FROM issuance WHERE published_at IS NULL")
                        .map { (serial: $0["serial"] as String,
                                source: UnpublishedSources.Source(profile: $0["profile"] as String, name: $0["source_file"] as String)) }
                }
            }
            let sources = UnpublishedSources()
            sources.add(pending)
            reader = pool
            writer = pool
            unpublishedSources = sources
            // Marked now that the file, its -wal and its -shm exist and hold the schema.
            guard let watch = LedgerFileWatch(path: path) else {
                throw LedgerError(.cannotOpen, "cannot open the ledger at \(path): it vanished while it was being opened", path: path)
            }
            fileWatch = watch
        }
    }

    /// The ledger's id (``LedgerSchema``'s `ledger_identity`): the same in every copy of
    /// this ledger, different in every other. Nil for a ledger made before ids that was
    /// only ever opened read-only since.
    public func identity() throws -> String? {
        try perform { try reader.read { db in try Ledger.identity(in: db) } }
    }

    static func identity(in db: Database) throws -> String? {
        guard try db.tableExists("ledger_identity") else { return nil }
        return try String.fetchOne(db, sql: "SELECT id FROM ledger_identity WHERE one = 1")
    }

    /// Transactions committed through this instance, counted by SQLite's commit hook: with group
    /// commit this grows once per batch, not once per certificate. Always 0 when read-only.
    public var transactionsCommitted: Int { commits.value }

    /// Closes the connections. In read-write mode this checkpoints the WAL into the main file
    /// when no other process has the ledger open. Later calls on this instance fail.
    public func close() throws {
        guard !abandoned.load(ordering: .relaxed) else { return }
        fileWatch?.retire()
        // SQLite checkpoints on the last close only when that connection may write, and
        // a pool may close a read-only reader last: move the log into the main file (and
        // empty it) on the writer first, so that ledger.sqlite alone is the whole ledger.
        if let writer {
            try perform { try writer.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) } }
        }
        try perform { try reader.close() }
    }

    private static func createDirectory(_ directory: String, path: String) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw LedgerError(
                .cannotOpen, "cannot create the folder for the ledger at \(path): \(error.localizedDescription)",
                path: path)
        }
    }

    /// Opening errors say "cannot open" first, whatever SQLite called them.
    private static func opening<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as LedgerError {
            throw error
        } catch let error as DatabaseError {
            let passing: [ResultCode] = [.SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_NOMEM]
            throw LedgerError(.cannotOpen, "cannot open the ledger at \(path): \(error.oneLine)", path: path,
                              passing: passing.contains(error.resultCode.primaryResultCode))
        } catch {
            throw LedgerError(.cannotOpen, "cannot open the ledger at \(path): \(error)", path: path)
        }
    }

    /// Runs a ledger operation, turning whatever GRDB throws into a ``LedgerError`` naming the file.
    /// SQLite calling the file damaged is also kept as this ledger's ``loss()``: a daemon
    /// whose every batch fails so must stop, not retry for ever. The error itself stays
    /// ``LedgerError/Code/storage`` (the file cannot be used, whatever the row), as callers
    /// that tell a refused row from an unusable file expect.
    func perform<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
            // A file cut short or swapped reads as damaged; say that, when it is the cause.
            if let loss = fileWatch?.check(sideFiles: true) {
                throw LedgerError(.storage, loss.reason, path: path)
            }
            let damage = LedgerError(.storage, "the ledger \(path) is damaged: \(error.oneLine)", path: path)
            fileWatch?.record(LedgerLoss(.damaged, damage.message))
            throw damage
        } catch {
            throw Ledger.ledgerError(error, path: path)
        }
    }

    static func ledgerError(_ error: any Error, path: String) -> LedgerError {
        switch error {
        case let error as LedgerError:
            return error
        case let error as DatabaseError:
            return LedgerError(.storage, "ledger at \(path): \(error.oneLine)", path: path)
        case let error as RowDecodingError:
            return LedgerError(.corruptRecord, "ledger at \(path) holds a row dropca cannot read: \(error)", path: path)
        default:
            return LedgerError(.storage, "ledger at \(path): \(error)", path: path)
        }
    }
}

extension DatabaseError {
    /// SQLite's own words, without the SQL and arguments GRDB adds: those would put a whole
    /// certificate into a journal line.
    ///
    /// A failed backup step reports its code with the message of a connection that had no
    /// error ("not an error"): the code's own words then, from SQLite.
    var oneLine: String {
        var words = message ?? ""
        if words.isEmpty || words == "not an error" {
            // GRDB's description of the code: "13 (database or disk is full)".
            words = "SQLite error \(resultCode)"
        }
        return words.replacingOccurrences(of: "\n", with: " ")
    }
}
