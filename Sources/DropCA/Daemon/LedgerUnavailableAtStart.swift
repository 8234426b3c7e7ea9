/// The ledger could not be read or written, for a cause that may pass (locked by another
/// process, a full state filesystem, an I/O error: ``LedgerError/mayPass``), while the
/// start made `failed/` and the outboxes agree with it (reconciliation, recovery). The
/// daemon must not go on: a later start would read only reason files from near the
/// newest row by then, and certificates whose input is gone would wait undelivered. Exit
/// 1: the unit starts dropca again, and nothing was taken from the inbox.
struct LedgerUnavailableAtStart: Error, CustomStringConvertible {
    let description: String
}
