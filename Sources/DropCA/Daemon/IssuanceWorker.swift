import Foundation
import Issuance
import Ledger
import Spool

/// Turns one inbox entry into a `WorkResult`: safe intake from its profile's inbox, crash
/// recovery lookup, issuance under its profile's rules, and the profile's output files.
/// Runs on the worker threads; everything it touches is Sendable and thread-safe.
struct IssuanceWorker: Sendable {
    /// Every profile's folders, by ``ProfileSpool/index``.
    let spools: [ProfileSpool]
    let ledger: Ledger
    let unrecorded: UnrecordedCertificates
    /// Request bytes in memory (``ByteBudget``); a rejected result keeps its share until
    /// the publisher is done with it.
    let budget: ByteBudget
    let rules: @Sendable () -> IssuanceRules

    func process(_ entry: InboxEntry) -> WorkResult {
        if case .unsafe(let why) = entry.name.classification {
            return WorkResult(entry: entry, outcome: .rejected(refusal: .spool(.unsafeName(why)), identity: nil, contents: nil, csrSHA256: nil))
        }
        // Read once: the file is issued and its outputs made under one set of rules.
        let rules = self.rules()
        let issuer = rules.profiles[entry.profile].issuer
        // The CA ran out (or was not valid yet) after the intake loop handed this name out:
        // leave it in the inbox for when a valid CA is loaded, never reject it for that.
        if issuer.authority.signingProblem(at: Date()) != nil {
            return WorkResult(entry: entry, outcome: .retryLater(.caUnusable))
        }
        let maxBytes = issuer.policy.maxCSRBytes
        let reserved = budget.reserve(maxBytes + 1)
        let result = WorkResult(entry: entry, outcome: read(entry, maxBytes: maxBytes, rules: rules))
        budget.release(max(0, reserved - result.heldBytes))
        return result
    }

    private func read(_ entry: InboxEntry, maxBytes: Int, rules: IssuanceRules) -> WorkResult.Outcome {
        let spool = spools[entry.profile]
        let name = entry.name
        switch spool.inbox.take(name, maxBytes: maxBytes) {
        case .vanished, .changed:
            return .leftAlone
        case .refused(let refusal, let reason):
            return .rejected(refusal: .spool(SpoolRefusal(refusal, reason: reason)), identity: nil, contents: nil, csrSHA256: nil)
        case .unavailable(_, let reason):
            return .retryLater(.inputUnavailable("\(name) \(reason)"))
        case .contents(let bytes, let identity):
            let digest = Issuer.sha256Hex(bytes)
            do {
                if let record = try ledger.unpublishedIssuance(profile: spool.name, sourceFile: name.description, csrSHA256: digest) {
                    guard let files = try? rules.files(for: [UInt8](record.certificate), profile: entry.profile) else { return .retryLater(.encoding) }
                    return .republish(record: record, files: files, identity: identity)
                }
            } catch {
                // Without the ledger, exactly-once cannot be promised: leave the file for later.
                return .retryLater(.ledgerLookup("\(error)"))
            }
            // Signed before, but the ledger could not record it: the same certificate again.
            let certificate: IssuedCertificate
            if let kept = unrecorded.take(entry, digest: digest) {
                certificate = kept
            } else {
                switch rules.profiles[entry.profile].issuer.issue(bytes) {
                case .success(let issued):
                    certificate = issued
                case .failure(let rejection):
                    // The CA could not sign it (a token that stopped signing, a CA that ran out
                    // while it signed): not the request's fault, so it waits in the inbox
                    // like the ones the intake loop now holds back.
                    let caSaysWhy = rules.profiles[entry.profile].issuer.authority.signingProblem(at: Date()) != nil
                    if rejection.code == .signerUnavailable || rejection.code == .issuerFailure && caSaysWhy {
                        return .retryLater(caSaysWhy ? .caUnusable : .signer(rejection.reason))
                    }
                    return .rejected(refusal: .request(rejection), identity: identity, contents: bytes, csrSHA256: digest)
                }
            }
            // Made here rather than by the publisher: a PKCS#7 or PEM per certificate is
            // CPU work, which the workers share and the one publisher thread should not do.
            // Encoding fails only when OpenSSL does (memory); the certificate is kept, never
            // signed again, and the input waits for the next look.
            guard let files = try? rules.files(for: certificate.der, profile: entry.profile) else {
                unrecorded.keep(certificate, for: entry)
                return .retryLater(.encoding)
            }
            return .issued(certificate: certificate, files: files, identity: identity)
        }
    }
}
