import Foundation
import Ledger
import Spool

/// What `dropca run` holds for its lifetime: the instance lock, the three spool folders and
/// the ledger, opened in that order (the CRL folder is the CRL thread's, opened there, so
/// that a folder that cannot be made never stops issuance) (the lock before anything is touched, so a second
/// instance changes nothing before it exits). The ledger is taken only if it is the one
/// kept here (``LedgerOpening``, ``LedgerAdmission``); while the daemon runs, ``LedgerWatch``
/// holds it to its path, as the intake loop holds the inbox.
struct SpoolResources: Sendable {
    let lock: InstanceLock
    let inbox: Inbox
    let outbox: Outbox
    let failed: FailedFolder
    let ledger: Ledger
    let log: DaemonLog

    /// Throws ``InstanceLock/Failure`` when another instance holds the state directory,
    /// ``LedgerRefusal`` when the ledger is refused (`newLedger`: `dropca run --new-ledger`),
    /// anything else when a folder cannot be used.
    init(configuration: Configuration, log: DaemonLog, newLedger: Bool = false) throws {
        let state = configuration.state.directory
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        lock = try InstanceLock(directory: state)
        let spool = configuration.spool
        inbox = try Inbox(path: spool.inbox, maxBytes: configuration.policy.maxCSRBytes)
        outbox = try Outbox(path: spool.outbox)
        failed = try FailedFolder(path: spool.failed)
        ledger = try LedgerOpening.open(stateDirectory: state, outbox: spool.outbox, newLedger: newLedger, log: log)
        _ = try outbox.removeStaleTemporaries()
        _ = try failed.removeStaleTemporaries()
        self.log = log
    }

    /// After a crash between removing inputs and marking them published, certificates
    /// can be recorded but not marked: publish those whose input is gone (writing the same
    /// bytes again is harmless) and mark them. Those whose input is still there are found
    /// by the workers, which publish them again instead of issuing anew.
    func recoverUnpublished() {
        do {
            let pending = try ledger.unpublished().filter { inbox.status(of: SpoolName($0.sourceFile)) == nil }
            guard !pending.isEmpty else { return }
            _ = try outbox.publish(pending.map { (input: SpoolName($0.sourceFile), certificate: [UInt8]($0.certificate)) })
            try ledger.markPublished(serials: pending.map(\.serial), at: Date())
            for record in pending { log.republished(file: record.sourceFile, serial: record.serial) }
        } catch {
            log.failure("cannot recover unpublished certificates: \(error)")
        }
    }
}
