import Synchronization

/// Several folders' `fsync`s at once: a batch that spans several profiles ends with an
/// outbox and an inbox fsync per profile, and one after the other they would cost ten
/// profiles ten times what one profile's batch pays; side by side (``ParallelCalls``, as
/// the outbox's temporaries are synced), about once.
public enum FolderSyncs {
    /// Runs every `sync` (an ``Outbox/synchronize()``, an ``Inbox/synchronize()``) at the
    /// same time as the others, and returns, in the same order, what each threw (nil when
    /// it worked). One call alone runs on the caller's thread.
    public static func run(_ syncs: [@Sendable () throws -> Void]) -> [(any Error)?] {
        let outcomes = Mutex<[(any Error)?]>(Array(repeating: nil, count: syncs.count))
        ParallelCalls.forEach(syncs.count, width: FolderHandle.parallelSyncs) { index in
            do {
                try syncs[index]()
            } catch {
                outcomes.withLock { $0[index] = error }
            }
        }
        return outcomes.withLock { $0 }
    }
}
