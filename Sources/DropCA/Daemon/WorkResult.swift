import Foundation
import Issuance
import Ledger
import Spool

/// What a worker made of one inbox entry, for the publisher to make durable and visible.
enum WorkResult: Sendable {
    /// A new certificate, to be recorded, published, and its input removed.
    case issued(name: SpoolName, certificate: IssuedCertificate, identity: FileIdentity)
    /// The input matches a certificate issued before a crash but not published: publish
    /// that one again rather than issuing a second.
    case republish(name: SpoolName, record: IssuanceRecord, identity: FileIdentity)
    /// To `failed/` with a reason.
    case rejected(name: SpoolName, refusal: Refusal, identity: FileIdentity?, contents: [UInt8]?, csrSHA256: String?)
    /// Nothing to do now: the entry vanished or changed while it was read (its own events
    /// bring it back), or shutdown began.
    case leftAlone(name: SpoolName)
    /// Nothing could be done now for a reason that passes (the ledger could not be read):
    /// the entry stays in the inbox and the intake loop looks at the inbox again soon.
    case retryLater(name: SpoolName)

    var name: SpoolName {
        switch self {
        case .issued(let name, _, _), .republish(let name, _, _), .rejected(let name, _, _, _, _), .leftAlone(let name), .retryLater(let name):
            return name
        }
    }
}
