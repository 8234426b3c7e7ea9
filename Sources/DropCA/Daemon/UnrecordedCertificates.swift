import DequeModule
import Issuance
import Spool
import Synchronization

/// Certificates that were signed but whose ledger row could not be written (a full or
/// locked state filesystem). Their inputs stay in the inbox; when a worker takes such an
/// input again it gets the same certificate back from here instead of signing a new one,
/// so a retry republishes, never re-signs (a second signature would be a second
/// certificate for one request, with its own serial, for nothing).
///
/// Keyed by profile, inbox name and the digest of the input's bytes, so a changed upload
/// under the same name is issued anew, and the same upload in another profile's inbox gets
/// that profile's certificate. Bounded: the oldest entries go beyond ``limit`` (their inputs
/// are simply signed again, which is what happened before this existed). Lost at a restart,
/// which is harmless: none of them was ever recorded or published.
final class UnrecordedCertificates: Sendable {
    private struct Key: Hashable {
        let entry: InboxEntry
        let digest: String
    }

    private struct State {
        var certificates: [Key: IssuedCertificate] = [:]
        var order = Deque<Key>()
    }

    private let state = Mutex(State())

    /// More than the pipeline's in-flight limit, so a whole failed burst fits.
    static let limit = 8192

    var count: Int { state.withLock { $0.certificates.count } }

    func keep(_ certificate: IssuedCertificate, for entry: InboxEntry) {
        let key = Key(entry: entry, digest: certificate.csrSHA256)
        state.withLock { state in
            if state.certificates.updateValue(certificate, forKey: key) == nil { state.order.append(key) }
            while state.certificates.count > Self.limit, let oldest = state.order.popFirst() {
                state.certificates.removeValue(forKey: oldest)
            }
        }
    }

    func removeAll() {
        state.withLock { $0 = State() }
    }

    /// The certificate kept for this input, removed from here (the publisher keeps it
    /// again if recording fails once more).
    func take(_ entry: InboxEntry, digest: String) -> IssuedCertificate? {
        state.withLock { state in
            let key = Key(entry: entry, digest: digest)
            guard let certificate = state.certificates.removeValue(forKey: key) else { return nil }
            if let index = state.order.firstIndex(of: key) { state.order.remove(at: index) }
            return certificate
        }
    }
}
