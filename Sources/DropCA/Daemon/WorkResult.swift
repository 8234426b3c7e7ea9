import Foundation
import Issuance
import Ledger
import Spool

/// What a worker made of one inbox entry, for the publisher to make durable and visible.
struct WorkResult: Sendable {
    enum Outcome: Sendable {
        /// A new certificate and the profile's files of it, to be recorded, published, and
        /// its input removed.
        case issued(certificate: IssuedCertificate, files: [OutboxFile], identity: FileIdentity)
        /// The input matches a certificate issued before a crash but not published: publish
        /// that one again (every file of the profile's outputs) rather than issuing a second.
        case republish(record: IssuanceRecord, files: [OutboxFile], identity: FileIdentity)
        /// To `failed/` with a reason.
        case rejected(refusal: Refusal, identity: FileIdentity?, contents: [UInt8]?, csrSHA256: String?)
        /// Nothing to do now: the entry vanished or changed while it was read (its own events
        /// bring it back), or shutdown began.
        case leftAlone
        /// Nothing could be done now for a reason that passes (the ledger could not be read,
        /// the CA did not sign): the entry stays in the inbox and the intake loop looks at
        /// the inbox again after a back-off. The cause is logged once per episode.
        case retryLater(RetryCause)
    }

    /// Why an entry was left for later: one failure episode each (``FailureEpisodes``).
    enum RetryCause: Sendable {
        /// The ledger could not say whether the input was issued before a crash.
        case ledgerLookup(String)
        /// The entry could not be read for the machine's reasons (``Intake/unavailable(_:_:)``).
        case inputUnavailable(String)
        /// The CA cannot sign and says why (``SigningProblem``): a token that stopped
        /// signing, a CA out of its dates. The intake loop holds every input back and logs
        /// it once; no episode of its own.
        case caUnusable
        /// A signature failed while the CA said nothing was wrong (a module's odd answer).
        case signer(String)
        /// The output files could not be made (OpenSSL out of memory); the certificate is kept.
        case encoding

        /// Its episode; nil for one the intake loop reports itself.
        var kind: FailureEpisodes.Kind? {
            switch self {
            case .ledgerLookup: .ledgerLookups
            case .inputUnavailable: .readInputs
            case .caUnusable: nil
            case .signer: .signCertificates
            case .encoding: .encodeOutputs
            }
        }

        var error: String {
            switch self {
            case .ledgerLookup(let why), .inputUnavailable(let why), .signer(let why): why
            case .caUnusable: "the CA cannot sign"
            case .encoding: "OpenSSL could not encode them"
            }
        }
    }

    let entry: InboxEntry
    let outcome: Outcome

    var name: SpoolName { entry.name }
    var profile: Int { entry.profile }

    /// The bytes a rejected result holds on to (``ByteBudget``).
    var heldBytes: Int {
        if case .rejected(_, _, let contents?, _) = outcome { return contents.count }
        return 0
    }
}
