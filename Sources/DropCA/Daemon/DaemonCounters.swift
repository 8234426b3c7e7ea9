import Synchronization

/// Running totals for STATUS= lines and the stop message. Two independent atomics: a
/// reader may see one batch's issued count before its rejected count, which a status
/// line can live with.
final class DaemonCounters: Sendable {
    private let issued = Atomic<Int>(0)
    private let rejected = Atomic<Int>(0)

    func add(issued: Int, rejected: Int) {
        self.issued.add(issued, ordering: .relaxed)
        self.rejected.add(rejected, ordering: .relaxed)
    }

    var totals: (issued: Int, rejected: Int) {
        (issued.load(ordering: .relaxed), rejected.load(ordering: .relaxed))
    }
}
