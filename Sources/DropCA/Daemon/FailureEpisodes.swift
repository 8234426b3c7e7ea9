/// Repeated failures of one kind of write — a full outbox, a read-only failed/, a ledger on
/// a full or locked filesystem — are one *episode*: logged when it begins (what failed,
/// why, how many files), counted while it lasts, and logged once more when it ends.
///
/// Why: the publisher retries every second or so while a disk is full, and a line per
/// certificate per retry buried the one line that mattered (3,400 a minute on a full state
/// filesystem). An operator needs the start, the cause, and the all-clear.
///
/// Owned by the publisher thread (not shared), so it needs no lock.
struct FailureEpisodes {
    /// The kinds of write the publisher makes; each has its own episode.
    enum Kind: Hashable, CaseIterable {
        case recordCertificates, publishCertificates, removeInputs, rejectInputs, syncInbox, ledgerWrites

        /// What the operator reads after "cannot" / "can … again".
        var action: String {
            switch self {
            case .recordCertificates: "record new certificates in the ledger"
            case .publishCertificates: "publish certificates to the outbox"
            case .removeInputs: "remove published requests from the inbox"
            case .rejectInputs: "move rejected requests to failed/"
            case .syncInbox: "sync the inbox folder"
            case .ledgerWrites: "record publications and rejections in the ledger"
            }
        }
    }

    private struct Episode {
        var began: ContinuousClock.Instant
        var failures: Int
    }

    private var open: [Kind: Episode] = [:]
    private let clock = ContinuousClock()

    var isEmpty: Bool { open.isEmpty }

    func isOpen(_ kind: Kind) -> Bool { open[kind] != nil }

    /// Records a failure of `kind` that affected `count` files; logs it when it starts an
    /// episode. Returns true when it did (tests and callers that add detail).
    @discardableResult
    mutating func failed(_ kind: Kind, count: Int, error: String, log: DaemonLog) -> Bool {
        if var episode = open[kind] {
            episode.failures += 1
            open[kind] = episode
            return false
        }
        open[kind] = Episode(began: clock.now, failures: 1)
        log.writesFailing(kind.action, count: count, error: error)
        return true
    }

    /// A write of `kind` worked: ends its episode, if one is open, with a line saying so.
    mutating func succeeded(_ kind: Kind, log: DaemonLog) {
        guard let episode = open.removeValue(forKey: kind) else { return }
        let seconds = Int((clock.now - episode.began).components.seconds)
        log.writesRecovered(kind.action, failures: episode.failures, seconds: seconds)
    }
}
