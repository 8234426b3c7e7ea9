#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
internal import GRDB

extension Ledger {
    /// What the file at `path` is, opened read-only (nothing is created or written; a running
    /// daemon is not held up). With `checkIntegrity`, `PRAGMA quick_check` reads every page
    /// too — the b-tree structure of every table and index, not the bytes of each record —
    /// which takes about a second per few hundred megabytes: what `dropca run` and
    /// `dropca check-config` pay at start, so that damage is found before the daemon takes
    /// the first request rather than in every batch after it.
    public static func examine(path: String, checkIntegrity: Bool) -> LedgerCondition {
        var status = stat()
        if stat(path, &status) != 0 {
            return errno == ENOENT ? .absent : .unreadable(String(cString: strerror(errno)))
        }
        if (status.st_mode & S_IFMT) == S_IFDIR { return .unreadable("it is a folder") }
        if status.st_size == 0 { return .empty }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.label = "dropca.ledger.examination"
            configuration.busyMode = .timeout(10)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db -> LedgerCondition in
                if checkIntegrity {
                    let problems = integrityProblems(try String.fetchAll(db, sql: "PRAGMA quick_check"))
                    if !problems.isEmpty { return .damaged(problems.joined(separator: "; ")) }
                }
                let applied = try LedgerSchema.migrator.appliedIdentifiers(db)
                guard LedgerSchema.readableMigrations.isSubset(of: applied) else { return .notALedger }
                let certificates = try Int.fetchOne(db, sql: "SELECT count(*) FROM issuance") ?? 0
                let rejections = try Int.fetchOne(db, sql: "SELECT count(*) FROM rejection") ?? 0
                return .ledger(LedgerSummary(identity: try identity(in: db), certificates: certificates, rejections: rejections))
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
            return .damaged(error.oneLine)
        } catch let error as DatabaseError {
            return .unreadable(error.oneLine)
        } catch {
            return .unreadable("\(error)")
        }
    }

    /// Side files of `path` that hold something (`-wal`, `-journal`) while the file itself
    /// is missing or empty: what is left of a ledger that was there.
    public static func leftovers(of path: String) -> [String] {
        ["-wal", "-journal"].map { path + $0 }.filter { side in
            var status = stat()
            return stat(side, &status) == 0 && status.st_size > 0
        }
    }
}
