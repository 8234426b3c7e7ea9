import Spool

/// One profile's three folders, opened at start and held for the daemon's lifetime: a
/// profile's inbox is watched, its outbox answers it and its failed folder keeps its
/// refusals, and no two profiles share a folder (the configuration refuses it, and the
/// inbox watcher refuses one folder under two names).
///
/// What a reload may change of a profile — its issuer and its outputs — is not here but in
/// ``IssuanceRules``, swapped as a whole on SIGHUP; the folders need a restart.
struct ProfileSpool: Sendable {
    /// The profile's position in `Configuration.profiles` at start (the default one is 0):
    /// how work items, results and rules refer to it, a look-up in an array.
    let index: Int
    /// "default", or NAME of `[profiles.NAME]`: what the ledger, the journal and the
    /// metrics record.
    let name: String
    let inbox: Inbox
    let outbox: Outbox
    let failed: FailedFolder
    /// `spool.settle_seconds` and `spool.rescan_seconds` of the profile: its inbox is
    /// scanned on its own schedule.
    let settings: Configuration.SpoolSettings

    var isDefault: Bool { name == Configuration.Profile.defaultName }

    /// `profile NAME` for messages about a named profile's folders; "" for the default
    /// one, whose messages read as they did before profiles.
    var qualifier: String { isDefault ? "" : " of profile \(name)" }
}
