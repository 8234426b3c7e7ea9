import Foundation
import Ledger
import Synchronization

/// The daemon's watch on its ledger file: every half second (what the intake loop allows
/// itself for the inbox, `IntakeLoop.lossCheckInterval`) it asks ``Ledger/loss()`` whether
/// the path still names the file SQLite has open, and on the first loss stops the daemon
/// (`onLoss`, which stops the intake loop) and ends. `Daemon.run` then saves what can be
/// saved (``Ledger/preserve(after:at:)``), logs one line and exits 1, as for a lost inbox.
///
/// A thread of its own rather than a step of the intake loop, so that the loop (which is
/// busy with the inbox) is left as it is and an idle daemon notices a deleted ledger as
/// fast as a busy one. Between two looks, the ledger itself refuses to let a certificate
/// be published whose record went to a lost file: it `stat`s the path after every commit
/// that records certificates (`Ledger.apply`).
final class LedgerWatch: Sendable {
    static let interval: TimeInterval = 0.5

    private let ledger: Ledger
    private let onLoss: @Sendable () -> Void
    private let found = Mutex<LedgerLoss?>(nil)
    private let thread = PeriodicThread(name: "dropca-ledger-watch")

    init(ledger: Ledger, onLoss: @escaping @Sendable () -> Void) {
        self.ledger = ledger
        self.onLoss = onLoss
    }

    /// The loss that stopped the daemon, if one did.
    var loss: LedgerLoss? { found.withLock { $0 } }

    func start() {
        thread.start { [self] _ in
            guard let loss = ledger.loss() else { return Self.interval }
            found.withLock { $0 = loss }
            onLoss()
            return nil
        }
    }

    /// Ends the thread and waits for it: the ledger may be closed after this returns.
    func stop() {
        thread.stop()
    }
}
