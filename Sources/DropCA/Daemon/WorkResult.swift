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
        /// Nothing could be done now for a reason that passes (the ledger could not be read):
        /// the entry stays in the inbox and the intake loop looks at the inbox again soon.
        case retryLater
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
