import Foundation
import Ledger

/// Why `dropca run` will not use the ledger it found: one line naming the file; the daemon
/// exits 2, as for a configuration it cannot use (restarting cannot fix either), or 1 when
/// the cause may pass (`mayPass`: the ledger locked by another process, a full disk), so
/// that the unit starts it again.
struct LedgerRefusal: Error, Sendable, CustomStringConvertible {
    let description: String
    var mayPass = false
}

/// How `dropca run` gets its ledger, once it holds the instance lock: the ledger it finds,
/// if ``LedgerAdmission`` lets it in; or, when the operator said `--new-ledger` and the one
/// found would be refused, a new one, with the old files kept aside.
///
/// `--new-ledger` replaces only a ledger that would be refused. A sound ledger is kept
/// (with a warning), so that a flag left in a unit file by mistake cannot rotate the ledger
/// away at every restart.
enum LedgerOpening {
    static func open(stateDirectory: String, outboxes: [String], newLedger: Bool, log: DaemonLog,
                     now: Date = Date()) throws(LedgerRefusal) -> Ledger {
        let admission = LedgerAdmission.judge(stateDirectory: stateDirectory, outboxes: outboxes, checkIntegrity: true)
        let path = admission.ledgerPath
        switch admission.verdict {
        case .refuse(let reason):
            guard newLedger else { throw LedgerRefusal(description: reason) }
            let keptAs: String?
            do {
                keptAs = try Ledger.setAside(path, label: "old", at: now)
            } catch {
                throw LedgerRefusal(description: "--new-ledger: \(error)")
            }
            let (ledger, identity) = try create(path, stateDirectory: stateDirectory)
            log.newLedgerStarted(path: path, identity: identity, keptAs: keptAs, refusal: reason)
            return ledger

        case .create:
            let (ledger, identity) = try create(path, stateDirectory: stateDirectory)
            if newLedger {
                log.newLedgerStarted(path: path, identity: identity, keptAs: nil, refusal: "there was no ledger")
            } else {
                log.ledgerCreated(path: path, identity: identity)
            }
            return ledger

        case .open(let summary, let adopt):
            if newLedger { log.newLedgerDeclined(path: path) }
            let ledger = try writable(path)
            let identity: String?
            do {
                identity = try ledger.identity()
            } catch {
                throw LedgerRefusal(description: "\(error)", mayPass: (error as? LedgerError)?.mayPass ?? false)
            }
            // A ledger from before ids has one now (the v3 migration); any other change
            // means the file was swapped between the look and the open.
            guard let identity, summary.identity == nil || summary.identity == identity else {
                throw LedgerRefusal(description: "the ledger \(path) changed while dropca opened it; start dropca again")
            }
            if adopt {
                try writeMarker(identity, stateDirectory: stateDirectory)
                log.ledgerAdopted(path: path, identity: identity, marker: LedgerMarker.path(in: stateDirectory))
            }
            return ledger
        }
    }

    /// A new ledger at `path` and the marker that names it, in that order: a crash between
    /// the two leaves a ledger without a marker, which the next start adopts (when nothing
    /// says another ledger was there) or refuses (when something does).
    private static func create(_ path: String, stateDirectory: String) throws(LedgerRefusal) -> (Ledger, String) {
        let ledger = try writable(path)
        let identity: String?
        do {
            identity = try ledger.identity()
        } catch {
            throw LedgerRefusal(description: "\(error)", mayPass: (error as? LedgerError)?.mayPass ?? false)
        }
        guard let identity else {
            throw LedgerRefusal(description: "the ledger \(path) was made without an id")
        }
        try writeMarker(identity, stateDirectory: stateDirectory)
        return (ledger, identity)
    }

    private static func writable(_ path: String) throws(LedgerRefusal) -> Ledger {
        do {
            return try Ledger(path: path)
        } catch {
            throw LedgerRefusal(description: (error as? LedgerError)?.message ?? "\(error)", mayPass: (error as? LedgerError)?.mayPass ?? false)
        }
    }

    private static func writeMarker(_ identity: String, stateDirectory: String) throws(LedgerRefusal) {
        do {
            try LedgerMarker.write(identity, in: stateDirectory)
        } catch {
            throw LedgerRefusal(description: error.description)
        }
    }
}
