/// Group commit: many workers record into the ledger at once, and pay for one transaction,
/// and so one fsync, per batch instead of one per certificate.
///
/// Each ``commit(_:)`` queues its write and waits. While no transaction runs, the writer takes
/// everything queued (up to ``maximumBatchSize``) into one transaction; writes that arrive
/// while it runs wait for the next. Batches form from concurrency alone: nothing sleeps to
/// gather more, so a lone write is committed at once, and under a burst a batch holds whatever
/// piled up during the previous fsync.
///
/// Why durability is unchanged: a waiter is resumed only after the transaction holding its
/// write has committed, and with `synchronous=FULL` SQLite returns from COMMIT only after the
/// WAL has been fsynced. So when `commit` returns, the write is on disk exactly as if it had
/// had a transaction of its own, and a worker that publishes after `commit` returns keeps
/// "record before publish". Sharing the fsync changes when a waiter is resumed, never whether
/// its write is durable by then.
///
/// One bad write (a colliding serial) must not fail the neighbours that happened to share its
/// batch: when a batch fails, its writes are retried one per transaction, and each waiter
/// gets its own outcome.
public actor LedgerWriter {
    public nonisolated let ledger: Ledger
    /// Caps a transaction so that a huge backlog still commits in steps and the first waiters
    /// are not held behind the last.
    public nonisolated let maximumBatchSize: Int

    private struct Waiter {
        let write: LedgerWrite
        let continuation: CheckedContinuation<Void, any Error>
    }

    private var queued: [Waiter] = []
    private var isCommitting = false

    public init(ledger: Ledger, maximumBatchSize: Int = 512) {
        self.ledger = ledger
        self.maximumBatchSize = max(1, maximumBatchSize)
    }

    /// Returns once `write` is durably in the ledger; throws, with that write alone not
    /// recorded, when it cannot be. Cancelling the caller does not withdraw the write: it may
    /// already be part of a transaction, so the caller learns the outcome either way.
    public func commit(_ write: LedgerWrite) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queued.append(Waiter(write: write, continuation: continuation))
            if !isCommitting {
                isCommitting = true
                // Unstructured on purpose: the batch must run to completion whoever is cancelled.
                Task { await self.commitQueued() }
            }
        }
    }

    private func commitQueued() async {
        while !queued.isEmpty {
            let batch = Array(queued.prefix(maximumBatchSize))
            queued.removeFirst(batch.count)
            // The actor is free while SQLite works, so new writes queue for the next batch.
            await commit(batch)
        }
        isCommitting = false
    }

    private func commit(_ batch: [Waiter]) async {
        do {
            try await ledger.applyAsync(batch.map(\.write))
            for waiter in batch { waiter.continuation.resume() }
        } catch {
            guard batch.count > 1 else {
                batch.first?.continuation.resume(throwing: error)
                return
            }
            for waiter in batch {
                do {
                    try await ledger.applyAsync([waiter.write])
                    waiter.continuation.resume()
                } catch {
                    waiter.continuation.resume(throwing: error)
                }
            }
        }
    }
}
