/// Repeated failures of one kind of write — a full outbox, a read-only failed/, a ledger on
/// a full or locked filesystem — are one *episode*: logged when it begins (what failed,
/// why, how many files), counted while it lasts, and logged once more when it ends.
///
/// Why: the publisher retries every second or so while a disk is full, and a line per
/// certificate per retry buried the one line that mattered (3,400 a minute on a full state
/// filesystem). An operator needs the start, the cause, and the all-clear.
///
/// Writes to folders are episodes per profile: a full outbox of one profile is one episode,
/// whatever the other profiles' outboxes do meanwhile (each message says which profile's
/// folder, ``ProfileSpool/qualifier``; the default profile's read as before profiles).
///
/// Owned by the publisher thread (not shared), so it needs no lock; the intake loop keeps
/// one of its own for its listings.
struct FailureEpisodes {
    /// The kinds of write the publisher makes; each has its own episode.
    enum Kind: Hashable, CaseIterable {
        case recordCertificates, publishCertificates, removeInputs, rejectInputs, syncInbox, ledgerWrites
        /// The workers' own, reported with their results (``WorkResult/RetryCause``).
        case ledgerLookups, readInputs, signCertificates, encodeOutputs

        static let workers: Set<Kind> = [.ledgerLookups, .readInputs, .signCertificates, .encodeOutputs]
        /// The intake loop's own (``IntakeLoop``), an episode per inbox.
        case listInbox

        /// What the operator reads after "cannot" / "can … again".
        var action: String {
            switch self {
            case .recordCertificates: "record new certificates in the ledger"
            case .publishCertificates: "publish certificates to the outbox"
            case .removeInputs: "remove published requests from the inbox"
            case .rejectInputs: "move rejected requests to failed/"
            case .syncInbox: "sync the inbox folder"
            case .ledgerWrites: "record publications and rejections in the ledger"
            case .ledgerLookups: "look up earlier certificates in the ledger"
            case .readInputs: "read requests in the inbox"
            case .signCertificates: "sign certificates"
            case .encodeOutputs: "make the output files of certificates"
            case .listInbox: "list the inbox"
            }
        }
    }

    private struct Episode {
        var began: ContinuousClock.Instant
        var failures: Int
    }

    /// A kind of write, and where: "" for the ledger and the default profile's folders,
    /// " of profile NAME" for a named profile's.
    private struct Key: Hashable {
        let kind: Kind
        let place: String
    }

    private var open: [Key: Episode] = [:]
    private let clock = ContinuousClock()

    var isEmpty: Bool { open.isEmpty }

    /// Whether a write of the publisher's own is failing (not a worker's cause): what keeps
    /// the intake loop's back-off from starting again at 1 s. A worker's episode can stay
    /// open with nothing left to retry (the input it could not read is gone), and must not
    /// hold the back-off up for ever.
    var writesFailing: Bool {
        open.keys.contains { !Kind.workers.contains($0.kind) }
    }

    func isOpen(_ kind: Kind, in place: String = "") -> Bool { open[Key(kind: kind, place: place)] != nil }

    /// Records a failure of `kind` that affected `count` files; logs it when it starts an
    /// episode. Returns true when it did (tests and callers that add detail).
    @discardableResult
    mutating func failed(_ kind: Kind, in place: String = "", count: Int, error: String, log: DaemonLog) -> Bool {
        let key = Key(kind: kind, place: place)
        if var episode = open[key] {
            episode.failures += 1
            open[key] = episode
            return false
        }
        open[key] = Episode(began: clock.now, failures: 1)
        log.writesFailing(kind.action + place, count: count, error: error)
        return true
    }

    /// A write of `kind` worked: ends its episode, if one is open, with a line saying so.
    mutating func succeeded(_ kind: Kind, in place: String = "", log: DaemonLog) {
        guard let episode = open.removeValue(forKey: Key(kind: kind, place: place)) else { return }
        let seconds = Int((clock.now - episode.began).components.seconds)
        log.writesRecovered(kind.action + place, failures: episode.failures, seconds: seconds)
    }
}
