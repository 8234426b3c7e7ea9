import Foundation
import Ledger

/// Whether the ledger in a state directory is the one dropca kept there, decided before
/// anything opens it for writing: by `dropca run` at start (``LedgerOpening``), and asked the
/// same way by `dropca check-config` (which reports the refusal) and `dropca revoke` (which
/// then writes nothing).
///
/// A ledger is refused, with one line that names the file and says what to do, when
/// - it is missing or empty (0 bytes), or holds no record at all, while something says a
///   ledger existed here: the marker (``LedgerMarker``), a `-wal` left beside it, or
///   certificates in any profile's outbox. Opening it would make a new, empty ledger and carry on
///   as if nothing had been issued: every certificate in the outbox without a record, no
///   revocation possible, CRL numbers starting over;
/// - it is another ledger than the marker names (replaced);
/// - SQLite cannot read it or `PRAGMA quick_check` finds it damaged: a daemon that started
///   on it would fail every batch ("database disk image is malformed") and let requests pile
///   up in the inbox;
/// - it is an SQLite file without the ledger's tables, or cannot be read at all.
///
/// With nothing that says a ledger existed (a fresh state directory), a missing or empty
/// file is simply created. A sound ledger without a marker (one made before markers, or one
/// restored onto a fresh machine) is adopted: the marker is written for it.
struct LedgerAdmission: Sendable {
    enum Verdict: Sendable, Equatable {
        /// No ledger, and no sign that one existed: make one.
        case create
        /// A sound ledger; `adopt` when no marker names it yet.
        case open(LedgerSummary, adopt: Bool)
        /// One line for the operator, naming the file.
        case refuse(String)
    }

    let ledgerPath: String
    let markerPath: String
    let condition: LedgerCondition?
    let verdict: Verdict

    /// ``judge(stateDirectory:outboxes:checkIntegrity:)`` for every profile's outbox of `configuration`.
    static func judge(_ configuration: Configuration, checkIntegrity: Bool) -> LedgerAdmission {
        judge(stateDirectory: configuration.state.directory, outboxes: configuration.profiles.map(\.spool.outbox),
              checkIntegrity: checkIntegrity)
    }

    /// What to tell an operator whose ledger is gone. Restoring needs the daemon stopped,
    /// which a refusal to start ensures.
    static let restoreOrStartAnew = "restore it from a backup (README: Backup and restore) or start a new one with dropca run --new-ledger"

    /// Looks at `stateDirectory` (the marker, the ledger read-only, `quick_check` with
    /// `checkIntegrity`) and, only when the ledger is missing or empty, counts the
    /// certificates in `outboxes` (every profile's).
    static func judge(stateDirectory: String, outboxes: [String], checkIntegrity: Bool) -> LedgerAdmission {
        let path = Ledger.path(in: stateDirectory)
        let markerPath = LedgerMarker.path(in: stateDirectory)
        func verdict(_ verdict: Verdict, _ condition: LedgerCondition?) -> LedgerAdmission {
            LedgerAdmission(ledgerPath: path, markerPath: markerPath, condition: condition, verdict: verdict)
        }
        let marker: String?
        do {
            marker = try LedgerMarker.read(in: stateDirectory)
        } catch {
            return verdict(.refuse("\(error)"), nil)
        }
        let condition = Ledger.examine(path: path, checkIntegrity: checkIntegrity)
        // What says a ledger existed here, when the file does not show one.
        func evidence(_ what: String) -> Verdict? {
            if let marker {
                return .refuse("the ledger \(path) \(what), but \(markerPath) says ledger \(marker) was kept there; \(restoreOrStartAnew)")
            }
            if let leftover = Ledger.leftovers(of: path).first {
                return .refuse("the ledger \(path) \(what), but \(leftover) is left from one; \(restoreOrStartAnew)")
            }
            for outbox in outboxes {
                if let count = OutboxCensus.certificates(in: outbox), count > 0 {
                    return .refuse("the ledger \(path) \(what), but the outbox \(outbox) holds \(count) certificates: the ledger that recorded them is gone; \(restoreOrStartAnew)")
                }
            }
            return nil
        }
        switch condition {
        case .absent:
            return verdict(evidence("is missing") ?? .create, condition)
        case .empty:
            return verdict(evidence("is empty (0 bytes)") ?? .create, condition)
        case .unreadable(let reason):
            return verdict(.refuse("cannot read the ledger \(path): \(reason)"), condition)
        case .damaged(let reason):
            return verdict(.refuse("the ledger \(path) is damaged: \(reason); \(restoreOrStartAnew), which keeps this file aside"), condition)
        case .notALedger:
            return verdict(.refuse("\(path) is an SQLite database but not a dropca ledger (it has no issuance tables); put the ledger back or start a new one with dropca run --new-ledger, which keeps this file aside"), condition)
        case .ledger(let summary):
            if let marker, summary.identity != marker {
                return verdict(.refuse("the ledger \(path) was replaced: it is \(summary.identity.map { "ledger \($0)" } ?? "a ledger without an id"), but \(markerPath) says ledger \(marker) was kept there; put that one back, delete \(markerPath) to keep this one, or start a new one with dropca run --new-ledger"), condition)
            }
            if marker == nil, summary.isEmpty, let refusal = evidence("holds no records") {
                return verdict(refusal, condition)
            }
            return verdict(.open(summary, adopt: marker == nil), condition)
        }
    }
}
