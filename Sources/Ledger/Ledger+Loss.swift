import Foundation
internal import GRDB
import Synchronization

extension Ledger {
    /// Whether this (read-write) ledger's file is still the one at its path, its `-wal` and
    /// `-shm` included, and SQLite has not found it damaged: nil while all is well, else the
    /// first loss found (``LedgerFileWatch``). Three `stat` calls. Always nil read-only.
    public func loss() -> LedgerLoss? {
        fileWatch?.check(sideFiles: true)
    }

    /// After a loss, keeps what can be kept of what this process has open, and says what
    /// it did, in a clause for the journal line. Call it once nothing writes any more.
    ///
    /// - removed or replaced: the open file is intact though nothing names it any more, so
    ///   it is copied out (``backup(to:replacing:)``) to `ledger.sqlite.rescued-STAMP`
    ///   beside it. ``close()`` may then run as usual: SQLite deletes the `-wal` by name
    ///   at the last close, which keeps this ledger's log from being applied to a file put
    ///   in its place.
    /// - a side file lost: the open `-wal` still holds the last transactions; a checkpoint
    ///   moves them into the main file, which is intact, so the ledger is whole again.
    /// - truncated or damaged: the file's pages are gone or wrong, and a checkpoint would
    ///   write the log into a broken file. The ledger is left open until the process
    ///   ends, so that not even SQLite's close touches it: the file and its `-wal` stay as
    ///   they are, and the next `dropca run` refuses them.
    public func preserve(after loss: LedgerLoss, at date: Date) -> String {
        switch loss.kind {
        case .removed, .replaced:
            do {
                let rescue = try Ledger.asidePath(for: path, label: "rescued", at: date)
                let copy = try backup(to: rescue)
                return "the ledger dropca had open (\(copy.certificates) certificates, \(copy.rejections) rejections) is saved as \(rescue)"
            } catch {
                return "the ledger dropca had open could not be saved (\(error))"
            }
        case .sideFileLost:
            do {
                let writer = try requireWriter()
                try perform { try writer.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) } }
                return "the transactions in the open -wal were moved into \(path), which holds the whole ledger"
            } catch {
                return "the transactions in the open -wal could not be moved into \(path) (\(error))"
            }
        case .truncated, .damaged:
            abandon()
            return "\(path) and its -wal are left as they are"
        }
    }

    /// Keeps this ledger open until the process ends; ``close()`` does nothing from now on.
    func abandon() {
        fileWatch?.retire()
        abandoned.store(true, ordering: .relaxed)
        Ledger.keptOpen.withLock { $0.append(self) }
    }

    /// Ledgers left open for good (``abandon()``): held here, their connections are never
    /// closed, so SQLite never checkpoints into them nor deletes their `-wal`.
    private static let keptOpen = Mutex<[Ledger]>([])

    /// Moves the ledger at `path` and whatever side files it has out of the way, keeping
    /// them together under `path.LABEL-STAMP` (its `-wal` as `path.LABEL-STAMP-wal`, so that
    /// SQLite opens the pair as one ledger), then fsyncs the folder. Nothing is deleted.
    /// Returns the new name of the main file, or nil when there was nothing to move.
    public static func setAside(_ path: String, label: String, at date: Date) throws -> String? {
        let suffixes = ["", "-wal", "-shm", "-journal"].filter { exists(path + $0) }
        guard !suffixes.isEmpty else { return nil }
        let aside = try asidePath(for: path, label: label, at: date)
        for suffix in suffixes {
            guard rename(path + suffix, aside + suffix) == 0 else {
                throw LedgerError(.storage, "cannot move \(path + suffix) aside to \(aside + suffix): \(String(cString: strerror(errno)))", path: path)
            }
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try synchronize(folder) { LedgerError(.storage, "after moving \(path) aside: \($0)", path: path) }
        return aside
    }

    /// `path.LABEL-20250301T120000Z`, or with `-1`, `-2`… when that name or one of its side
    /// files' names is taken.
    static func asidePath(for path: String, label: String, at date: Date) throws -> String {
        let stamp = LedgerTime.text(date).filter { $0 != "-" && $0 != ":" }
        let base = "\(path).\(label)-\(stamp)"
        for attempt in 0..<1000 {
            let candidate = attempt == 0 ? base : "\(base)-\(attempt)"
            if !["", "-wal", "-shm", "-journal"].contains(where: { exists(candidate + $0) }) { return candidate }
        }
        throw LedgerError(.storage, "no free name to keep \(path) aside as \(base)", path: path)
    }
}
