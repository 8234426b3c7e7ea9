import Spool

/// An entry of one profile's inbox: what the intake loop hands to the workers. The same
/// name in two inboxes is two inputs (two appliances), so the profile is part of it
/// everywhere a name is a key — the work queue, unrecorded certificates, the ledger.
struct InboxEntry: Hashable, Sendable, CustomStringConvertible {
    /// ``ProfileSpool/index``.
    let profile: Int
    let name: SpoolName

    var description: String { name.description }
}
