import Foundation
import Issuance
import Ledger
import Spool

/// Turns one inbox name into a `WorkResult`: safe intake, crash recovery lookup, issuance.
/// Runs on the worker threads; everything it touches is Sendable and thread-safe.
struct IssuanceWorker: Sendable {
    let inbox: Inbox
    let ledger: Ledger
    let issuer: @Sendable () -> Issuer

    func process(_ name: SpoolName) -> WorkResult {
        if case .unsafe(let why) = name.classification {
            return .rejected(name: name, rejection: Rejection(.unsafeName, "the file name is not allowed: \(why)"),
                             identity: nil, contents: nil, csrSHA256: nil)
        }
        let issuer = self.issuer()
        switch inbox.take(name, maxBytes: issuer.policy.maxCSRBytes) {
        case .vanished, .changed:
            return .leftAlone(name: name)
        case .refused(let refusal, let reason):
            return .rejected(name: name, rejection: Rejection(Self.code(for: refusal), reason),
                             identity: nil, contents: nil, csrSHA256: nil)
        case .contents(let bytes, let identity):
            let digest = Issuer.sha256Hex(bytes)
            do {
                if let record = try ledger.unpublishedIssuance(sourceFile: name.description, csrSHA256: digest) {
                    return .republish(name: name, record: record, identity: identity)
                }
            } catch {
                // Without the ledger, exactly-once cannot be promised: leave the file for later.
                return .leftAlone(name: name)
            }
            switch issuer.issue(bytes) {
            case .success(let certificate):
                return .issued(name: name, certificate: certificate, identity: identity)
            case .failure(let rejection):
                return .rejected(name: name, rejection: rejection, identity: identity, contents: bytes, csrSHA256: digest)
            }
        }
    }

    static func code(for refusal: IntakeRefusal) -> Rejection.Code {
        switch refusal {
        case .symlink: return .symlink
        case .notRegularFile: return .notRegularFile
        case .multipleLinks: return .multipleLinks
        case .tooLarge: return .tooLarge
        case .unreadable: return .unreadable
        }
    }
}
