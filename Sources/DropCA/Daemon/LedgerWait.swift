import Dispatch
import Synchronization

/// Whether the publisher is inside a ledger write right now, and since when: shared with
/// the intake loop, which pets the systemd watchdog and writes STATUS=.
///
/// Why: another process holding the ledger locked (`BEGIN EXCLUSIVE` in the sqlite3 shell,
/// a backup tool) makes a write wait up to the busy timeout (10 s) before it fails and is
/// retried. The watchdog is petted only while work moves, and a batch's two ledger
/// writes waiting 10 s each came close to a 30 s WatchdogSec. A known, bounded wait is not
/// a hang: the loop keeps petting while the current wait is shorter than ``hangAfter``,
/// and STATUS= says what the daemon waits for. A write stuck for longer than that (a hung
/// disk) lets the watchdog fire, as it should.
final class LedgerWait: Sendable {
    /// Uptime in nanoseconds when the current write began; 0 while none runs.
    private let since = Atomic<UInt64>(0)

    /// Twice the ledger's busy timeout: no single write waits longer unless something
    /// below SQLite hangs.
    static let hangAfter: Duration = .seconds(20)

    func during<T>(_ body: () throws -> T) rethrows -> T {
        since.store(max(1, DispatchTime.now().uptimeNanoseconds), ordering: .relaxed)
        defer { since.store(0, ordering: .relaxed) }
        return try body()
    }

    /// How long the current write has been waiting; nil when none runs.
    var current: Duration? {
        let start = since.load(ordering: .relaxed)
        guard start != 0 else { return nil }
        let now = DispatchTime.now().uptimeNanoseconds
        return .nanoseconds(Int64(now > start ? now - start : 0))
    }

    /// For STATUS=: said once a write has waited a second or more.
    var statusLine: String? {
        guard let waited = current, waited >= .seconds(1) else { return nil }
        return "waiting \(waited.components.seconds) s for the ledger (locked by another process, or a slow disk)"
    }
}
