#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Tells whether the path of a ledger still names the file SQLite has open, the way
/// `Spool.Inbox.lossReason()` does for the inbox: `stat` of the path against what it was
/// when the ledger was opened.
///
/// SQLite does not hand out its file descriptors, and a descriptor of our own on the file
/// would be dangerous: closing it would drop SQLite's POSIX locks on the file for the whole
/// process. `stat` of the path is enough: a deleted or moved-away file fails it, a file put
/// in its place has another device and inode, and a file truncated in place is smaller than
/// it has ever been (a ledger never shrinks: dropca never vacuums it, and checkpoints only
/// add pages). The `-wal` and `-shm` files are compared by device and inode only: another
/// process's `TRUNCATE` checkpoint (`dropca revoke` closing its ledger) empties the
/// `-wal` legitimately, but nothing replaces it while this process has the ledger open.
///
/// One `stat` for ``check(sideFiles:)`` with `sideFiles: false`, what the daemon pays per
/// batch; three with the side files, what it pays every half second.
///
/// What a `stat` cannot see: a file rewritten in place (`cp` onto it keeps its inode), and
/// a truncated file that a checkpoint grows back past its old size between two looks. Both
/// read as damage once SQLite reaches pages that make no sense, which ``Ledger`` also
/// records here (``record(_:)``).
final class LedgerFileWatch: Sendable {
    /// Device and inode: what tells one file from another.
    struct Mark: Sendable, Equatable {
        let device: UInt64
        let inode: UInt64
    }

    private struct State {
        var main: Mark
        /// The largest size seen; the file is never legitimately smaller.
        var largestSize: Int64
        /// Taken when first seen: the side files may appear after the main file was opened.
        var wal: Mark?
        var shm: Mark?
        /// The first loss found, kept: a loss is never undone, and its reason stays the one
        /// the journal gave first.
        var loss: LedgerLoss?
        /// Set when the ledger is closed: SQLite then deletes the `-wal` and `-shm` files
        /// itself, which is no loss.
        var retired = false
    }

    let path: String
    private let state: Mutex<State>

    /// Marks the file at `path` as it is now; nil when it cannot be examined.
    init?(path: String) {
        guard let status = Self.status(path) else { return nil }
        self.path = path
        state = Mutex(State(main: Self.mark(status), largestSize: Int64(status.st_size),
                            wal: Self.status(path + "-wal").map(Self.mark),
                            shm: Self.status(path + "-shm").map(Self.mark)))
    }

    /// The first loss found, if any, now or before; `sideFiles` also looks at `-wal` and
    /// `-shm`.
    func check(sideFiles: Bool) -> LedgerLoss? {
        let main = Self.status(path)
        let errorNumber = main == nil ? errno : 0
        let wal = sideFiles ? Self.status(path + "-wal") : nil
        let shm = sideFiles ? Self.status(path + "-shm") : nil
        return state.withLock { state in
            if let loss = state.loss { return loss }
            if state.retired { return nil }
            let found = Self.compare(path: path, main: main, errorNumber: errorNumber, state: &state)
                ?? (sideFiles ? Self.compareSide(path + "-wal", wal, &state.wal) ?? Self.compareSide(path + "-shm", shm, &state.shm) : nil)
            state.loss = found
            return found
        }
    }

    /// Records a loss found some other way (SQLite calling the file damaged), unless one
    /// was found before.
    func record(_ loss: LedgerLoss) {
        state.withLock { state in
            if state.loss == nil { state.loss = loss }
        }
    }

    /// Stops looking: the ledger is being closed.
    func retire() {
        state.withLock { $0.retired = true }
    }

    /// The loss recorded so far, without looking at the files again.
    var recordedLoss: LedgerLoss? { state.withLock { $0.loss } }

    private static func compare(path: String, main: stat?, errorNumber: Int32, state: inout State) -> LedgerLoss? {
        guard let main else {
            if errorNumber == ENOENT || errorNumber == ENOTDIR {
                return LedgerLoss(.removed, "the ledger \(path) was deleted or moved away")
            }
            return LedgerLoss(.removed, "the ledger \(path) can no longer be examined: \(String(cString: strerror(errorNumber)))")
        }
        guard mark(main) == state.main else {
            return LedgerLoss(.replaced, "the ledger \(path) was replaced by another file")
        }
        let size = Int64(main.st_size)
        guard size >= state.largestSize else {
            return LedgerLoss(.truncated, "the ledger \(path) was truncated from \(state.largestSize) to \(size) bytes")
        }
        state.largestSize = size
        return nil
    }

    private static func compareSide(_ path: String, _ status: stat?, _ known: inout Mark?) -> LedgerLoss? {
        guard let status else {
            return known == nil ? nil : LedgerLoss(.sideFileLost, "\(path), part of the open ledger, was deleted")
        }
        guard let mark = known else {
            known = Self.mark(status)
            return nil
        }
        return Self.mark(status) == mark ? nil : LedgerLoss(.sideFileLost, "\(path), part of the open ledger, was replaced by another file")
    }

    private static func status(_ path: String) -> stat? {
        var status = stat()
        return stat(path, &status) == 0 ? status : nil
    }

    private static func mark(_ status: stat) -> Mark {
        Mark(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }
}
