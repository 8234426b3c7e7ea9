import Foundation
import Issuance
import Ledger
import Spool

/// Turns one inbox name into a `WorkResult`: safe intake, crash recovery lookup, issuance.
/// Runs on the worker threads; everything it touches is Sendable and thread-safe.
struct IssuanceWorker: Sendable {
    let inbox: Inbox
    let ledger: Ledger
    let unrecorded: UnrecordedCertificates
    /// Request bytes in memory (``ByteBudget``); a rejected result keeps its share until
    /// the publisher is done with it.
    let budget: ByteBudget
    let issuer: @Sendable () -> Issuer

    func process(_ name: SpoolName) -> WorkResult {
        if case .unsafe(let why) = name.classification {
            return .rejected(name: name, refusal: .spool(.unsafeName(why)), identity: nil, contents: nil, csrSHA256: nil)
        }
        let issuer = self.issuer()
        // The CA ran out (or was not valid yet) after the intake loop handed this name out:
        // leave it in the inbox for when a valid CA is loaded, never reject it for that.
        if issuer.authority.unusableReason(at: Date()) != nil {
            return .leftAlone(name: name)
        }
        let maxBytes = issuer.policy.maxCSRBytes
        let reserved = budget.reserve(maxBytes + 1)
        let result = read(name, maxBytes: maxBytes, issuer: issuer)
        if case .rejected(_, _, _, let contents?, _) = result {
            budget.release(max(0, reserved - contents.count))
        } else {
            budget.release(reserved)
        }
        return result
    }

    private func read(_ name: SpoolName, maxBytes: Int, issuer: Issuer) -> WorkResult {
        switch inbox.take(name, maxBytes: maxBytes) {
        case .vanished, .changed:
            return .leftAlone(name: name)
        case .refused(let refusal, let reason):
            return .rejected(name: name, refusal: .spool(SpoolRefusal(refusal, reason: reason)),
                             identity: nil, contents: nil, csrSHA256: nil)
        case .contents(let bytes, let identity):
            let digest = Issuer.sha256Hex(bytes)
            do {
                if let record = try ledger.unpublishedIssuance(sourceFile: name.description, csrSHA256: digest) {
                    return .republish(name: name, record: record, identity: identity)
                }
            } catch {
                // Without the ledger, exactly-once cannot be promised: leave the file for later.
                return .retryLater(name: name)
            }
            // Signed before, but the ledger could not record it: the same certificate again.
            if let certificate = unrecorded.take(name: name, digest: digest) {
                return .issued(name: name, certificate: certificate, identity: identity)
            }
            switch issuer.issue(bytes) {
            case .success(let certificate):
                return .issued(name: name, certificate: certificate, identity: identity)
            case .failure(let rejection):
                return .rejected(name: name, refusal: .request(rejection), identity: identity, contents: bytes, csrSHA256: digest)
            }
        }
    }
}
