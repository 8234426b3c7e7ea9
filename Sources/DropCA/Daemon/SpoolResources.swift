import Foundation
import Issuance
import Ledger
import Spool

/// What `dropca run` holds for its lifetime: the instance lock, every profile's three spool
/// folders and the ledger, opened in that order (the CRL folder is the CRL thread's, opened
/// there, so that a folder that cannot be made never stops issuance) (the lock before
/// anything is touched, so a second instance changes nothing before it exits). The ledger
/// is taken only if it is the one kept here (``LedgerOpening``, ``LedgerAdmission``, which
/// looks at every profile's outbox); while the daemon runs, ``LedgerWatch`` holds it to
/// its path, as the intake loop holds the inboxes.
struct SpoolResources: Sendable {
    let lock: InstanceLock
    /// Every profile's folders, the default profile's first (``ProfileSpool/index``).
    let profiles: [ProfileSpool]
    let ledger: Ledger
    let log: DaemonLog

    /// The default profile's folders.
    var inbox: Inbox { profiles[0].inbox }
    var outbox: Outbox { profiles[0].outbox }
    var failed: FailedFolder { profiles[0].failed }

    /// Throws ``InstanceLock/Failure`` when another instance holds the state directory,
    /// ``LedgerRefusal`` when the ledger is refused (`newLedger`: `dropca run --new-ledger`),
    /// anything else when a folder cannot be used.
    init(configuration: Configuration, log: DaemonLog, newLedger: Bool = false) throws {
        let state = configuration.state.directory
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        lock = try InstanceLock(directory: state)
        if let shared = ProfileIsolation.sharedFolders(in: configuration).first {
            throw SharedFolder(description: shared)
        }
        var profiles: [ProfileSpool] = []
        for (index, profile) in configuration.profiles.enumerated() {
            let spool = profile.spool
            profiles.append(ProfileSpool(
                index: index, name: profile.name,
                inbox: try Inbox(path: spool.inbox, maxBytes: profile.policy.maxCSRBytes),
                outbox: try Outbox(path: spool.outbox),
                failed: try FailedFolder(path: spool.failed),
                settings: spool))
        }
        self.profiles = profiles
        ledger = try LedgerOpening.open(stateDirectory: state, outboxes: profiles.map(\.outbox.path), newLedger: newLedger, log: log)
        // A folder that cannot be cleaned (read-only after an I/O error) is one profile's
        // trouble, met again by the publisher's first write there: it stops nobody's start.
        // Its temporaries go once it can be written again (the publisher's recovery).
        for profile in profiles {
            for (folder, clean) in [(profile.outbox.path, profile.outbox.removeStaleTemporaries),
                                    (profile.failed.path, profile.failed.removeStaleTemporaries)] {
                do {
                    _ = try clean()
                } catch {
                    log.failure("cannot remove stale temporaries in \(folder)\(profile.qualifier): \(error)")
                }
            }
        }
        self.log = log
    }

    /// Two configured folders that are one (``ProfileIsolation/sharedFolders(in:)``).
    struct SharedFolder: Error, CustomStringConvertible {
        let description: String
    }

    /// After a crash between removing inputs and marking them published, certificates
    /// can be recorded but not marked: publish those whose input is gone (writing the same
    /// bytes again is harmless), every file of their profile's outputs, and mark them.
    /// Those whose input is still there are found by the workers, which publish them again
    /// instead of issuing anew.
    ///
    /// One whose input a later upload under the same name replaced is not published: the
    /// outbox file of that name is the later certificate's. It is marked, so that it is
    /// not looked at again, and logged as never delivered.
    func recoverUnpublished(rules: IssuanceRules) throws(LedgerUnavailableAtStart) {
        var unpublished: [IssuanceRecord]
        do {
            unpublished = try ledger.unpublished()
            let superseded = try ledger.supersededUnpublishedSerials()
            if !superseded.isEmpty {
                try ledger.markPublished(serials: Array(superseded), at: Date())
                for record in unpublished where superseded.contains(record.serial) {
                    log.failure("serial \(record.serial) for \(record.sourceFile)\(record.profile == Configuration.Profile.defaultName ? "" : " (profile \(record.profile))") was never delivered: a later upload under that name replaced its request before it reached the outbox, and that one's certificate is the one published")
                }
                unpublished.removeAll { superseded.contains($0.serial) }
            }
        } catch {
            if (error as? LedgerError)?.mayPass ?? false {
                throw LedgerUnavailableAtStart(description: "cannot recover unpublished certificates: \(error)")
            }
            log.failure("cannot recover unpublished certificates: \(error)")
            return
        }
        // Profile by profile: one outbox that cannot be written holds back only its own.
        for spool in profiles {
            let pending = unpublished.filter {
                $0.profile == spool.name && spool.inbox.status(of: SpoolName($0.sourceFile)) == nil
            }
            guard !pending.isEmpty else { continue }
            do {
                let items = try pending.map { record in
                    (input: SpoolName(record.sourceFile), files: try rules.files(for: [UInt8](record.certificate), profile: spool.index))
                }
                _ = try spool.outbox.publish(files: items)
                try ledger.markPublished(serials: pending.map(\.serial), at: Date())
                for record in pending { log.republished(record) }
            } catch {
                if (error as? LedgerError)?.mayPass ?? false {
                    throw LedgerUnavailableAtStart(description: "cannot recover \(pending.count) unpublished certificates\(spool.qualifier): \(error)")
                }
                log.failure("cannot recover \(pending.count) unpublished certificates\(spool.qualifier): \(error)")
            }
        }
        // A profile removed from the configuration since: its certificates stay
        // recorded and unmarked until it is back.
        let known = Set(profiles.map(\.name))
        for record in unpublished where !known.contains(record.profile) {
            log.failure("cannot publish serial \(record.serial) for \(record.sourceFile) again: its profile \(record.profile) is no longer configured")
        }
    }
}
