import Synchronization

/// The input names of certificates that are recorded but not yet marked published, kept in
/// memory so that the daemon's question for every input — "was this already issued and
/// not published?" — costs a set lookup instead of a query in all but the rare case where
/// the answer may be yes.
///
/// Exact only while its `Ledger` is the one writer of the file. `dropca run` makes it so:
/// it holds the state directory's instance lock (`DropCA.InstanceLock`, tested by
/// `InstanceLockTests` and `DaemonSingleInstanceTests`) for as long as it has the ledger open
/// read-write, and `list`/`show` open it read-only: names are added before their records are committed and removed only
/// after their publication is, so the set never lacks a name the file has unpublished;
/// it may hold a few extra (a failed transaction), which only costs a query.
final class UnpublishedSources: Sendable {
    /// An inbox name in one profile's inbox: the same name in two profiles is two inputs.
    struct Source: Hashable, Sendable {
        let profile: String
        let name: String
    }

    private struct State {
        var sourceBySerial: [String: Source] = [:]
        var countBySource: [Source: Int] = [:]
    }

    private let state = Mutex(State())

    /// Serials must be normalized (`IssuanceRecord.normalizedSerial`).
    func add(_ entries: [(serial: String, source: Source)]) {
        guard !entries.isEmpty else { return }
        state.withLock { state in
            for (serial, source) in entries where state.sourceBySerial.updateValue(source, forKey: serial) == nil {
                state.countBySource[source, default: 0] += 1
            }
        }
    }

    func remove(serials: [String]) {
        guard !serials.isEmpty else { return }
        state.withLock { state in
            for serial in serials {
                guard let source = state.sourceBySerial.removeValue(forKey: serial) else { continue }
                let left = (state.countBySource[source] ?? 1) - 1
                state.countBySource[source] = left > 0 ? left : nil
            }
        }
    }

    /// False when no unpublished certificate can have been issued for `source`.
    func mayHave(_ source: Source) -> Bool {
        state.withLock { $0.countBySource[source] != nil }
    }
}
