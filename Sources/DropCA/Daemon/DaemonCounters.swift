import Synchronization

/// Running totals for STATUS= lines and the stop message. Independent atomics: a reader
/// may see one batch's issued count before its rejected count, which a status line can
/// live with.
final class DaemonCounters: Sendable {
    private let issued = Atomic<Int>(0)
    private let republished = Atomic<Int>(0)
    private let rejected = Atomic<Int>(0)

    /// `issued`: new certificates published; `republished`: certificates signed before an
    /// interruption (or a failed write) and published now from the ledger.
    func add(issued: Int, republished: Int = 0, rejected: Int) {
        self.issued.add(issued, ordering: .relaxed)
        self.republished.add(republished, ordering: .relaxed)
        self.rejected.add(rejected, ordering: .relaxed)
    }

    var totals: (issued: Int, republished: Int, rejected: Int) {
        (issued.load(ordering: .relaxed), republished.load(ordering: .relaxed), rejected.load(ordering: .relaxed))
    }

    /// "issued 442, published again 1558, rejected 3": every certificate delivered is
    /// counted once, under one of the two names.
    var summary: String {
        let totals = self.totals
        var text = "issued \(totals.issued)"
        if totals.republished > 0 { text += ", published again \(totals.republished)" }
        return text + ", rejected \(totals.rejected)"
    }
}
