#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
internal import GRDB

/// What ``Ledger/backup(to:replacing:)`` wrote.
public struct LedgerCopy: Sendable, Equatable {
    /// The copy.
    public let path: String
    /// The ledger's id, the same as the original's (nil for a ledger from before ids).
    public let identity: String?
    public let certificates: Int
    public let rejections: Int
    /// The copy's size.
    public let bytes: Int64
}

extension Ledger {
    /// Writes a consistent copy of the ledger to `destination`, while the daemon goes on
    /// writing to it: SQLite's online backup copies every page within one read transaction
    /// (`sqlite3_backup_step(-1)`), so the copy is the ledger as of one commit, and the
    /// writer is never blocked (WAL).
    ///
    /// The copy is one self-contained file in rollback-journal mode, not WAL: it opens
    /// read-only anywhere (a WAL file needs a writable `-shm` beside it), and
    /// `dropca run` turns WAL on again when it is restored. It is written under a hidden
    /// temporary name in the destination's folder (mode 0600: it is the CA's state),
    /// checked with `PRAGMA quick_check`, fsynced, and only then given its name, with a
    /// hard link that fails when the name is taken (or a rename that replaces it, with
    /// `replacing`), and the folder fsynced. A failure leaves nothing behind but what was
    /// there.
    ///
    /// Refuses, whatever `replacing` says, when `destination-journal`, `-wal` or `-shm`
    /// exist: SQLite would apply such a leftover to the new copy the first time it is opened.
    public func backup(to destination: String, replacing: Bool = false) throws -> LedgerCopy {
        var ours = stat(), theirs = stat()
        if stat(path, &ours) == 0, stat(destination, &theirs) == 0, ours.st_dev == theirs.st_dev, ours.st_ino == theirs.st_ino {
            throw LedgerError(.destinationExists, "\(destination) is the ledger itself", path: destination)
        }
        for suffix in ["-journal", "-wal", "-shm"] where Self.exists(destination + suffix) {
            throw LedgerError(
                .destinationExists,
                "\(destination)\(suffix) exists: SQLite would apply it to the copy; remove it first", path: destination)
        }
        if !replacing, Self.exists(destination) {
            throw LedgerError(.destinationExists, "\(destination) exists; dropca backup replaces a file only with --overwrite", path: destination)
        }
        let target = URL(fileURLWithPath: destination)
        let folder = target.deletingLastPathComponent().path
        let temporary = folder + "/." + target.lastPathComponent + ".partial-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        func failure(_ what: String) -> LedgerError {
            LedgerError(.storage, "cannot write a copy of the ledger \(path) to \(destination): \(what)", path: destination)
        }
        defer {
            for suffix in ["", "-journal", "-wal", "-shm"] { unlink(temporary + suffix) }
        }

        let created = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard created >= 0 else { throw failure(String(cString: strerror(errno))) }
        closeFile(created)
        do {
            var configuration = Configuration()
            configuration.label = "dropca.ledger.copy"
            let copy = try DatabaseQueue(path: temporary, configuration: configuration)
            try copy.writeWithoutTransaction { copyDB in
                if let writer {
                    // The daemon's own ledger (saving what it has open after a loss): its
                    // write connection is the one sure to still have the open file; a pool
                    // reader opened now would open whatever the path names.
                    try writer.writeWithoutTransaction { try $0.backup(to: copyDB) }
                } else {
                    try reader.read { try $0.backup(to: copyDB) }
                }
            }
            let problems = try copy.writeWithoutTransaction { db -> [String] in
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
                guard mode == "delete" else { return ["the copy stayed in journal mode \(mode ?? "unknown")"] }
                return Self.integrityProblems(try String.fetchAll(db, sql: "PRAGMA quick_check"))
            }
            try copy.close()
            guard problems.isEmpty else {
                throw LedgerError(.damaged, "the copy of the ledger \(path) fails SQLite's check, so none was kept: \(problems.joined(separator: "; "))", path: destination)
            }
        } catch let error as LedgerError {
            throw error
        } catch let error as DatabaseError {
            throw failure(error.oneLine)
        }
        try Self.synchronize(temporary, orThrow: failure)
        if replacing {
            guard rename(temporary, destination) == 0 else { throw failure(String(cString: strerror(errno))) }
        } else if link(temporary, destination) != 0 {
            let code = errno
            if code == EEXIST {
                throw LedgerError(.destinationExists, "\(destination) exists; dropca backup replaces a file only with --overwrite", path: destination)
            }
            throw failure(String(cString: strerror(code)))
        }
        try Self.synchronize(folder, orThrow: failure)

        let written = try Ledger(path: destination, access: .readOnly)
        let counts = try written.counts()
        let identity = try written.identity()
        try written.close()
        var status = stat()
        let bytes = stat(destination, &status) == 0 ? Int64(status.st_size) : 0
        return LedgerCopy(path: destination, identity: identity, certificates: counts.issued, rejections: counts.rejected, bytes: bytes)
    }

    /// `PRAGMA quick_check`/`integrity_check` rows as problems, one line each; none for
    /// "ok". SQLite puts several findings in one row, under a heading.
    static func integrityProblems(_ rows: [String]) -> [String] {
        guard rows != ["ok"] else { return [] }
        let lines = rows.flatMap { $0.split(separator: "\n").map(String.init) }
            .filter { !$0.hasPrefix("*** in database") && !$0.isEmpty }
        let shown = Array(lines.prefix(3))
        return lines.count > shown.count ? shown + ["and \(lines.count - shown.count) more"] : shown
    }

    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    /// fsync of a file or folder by path.
    static func synchronize(_ path: String, orThrow failure: (String) -> LedgerError) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { closeFile(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }
}

/// `close(2)`, out of reach of ``Ledger/close()`` inside the type.
func closeFile(_ descriptor: Int32) {
    _ = close(descriptor)
}
