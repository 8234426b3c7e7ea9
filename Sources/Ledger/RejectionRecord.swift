import Foundation

/// One input the CA refused, kept so that every input ends as exactly one certificate or
/// one rejection, and so `dropca list` can show what went to `failed/`.
public struct RejectionRecord: Sendable, Hashable, Codable {
    /// Assigned by the ledger; `nil` on a record not yet written.
    public var id: Int64?
    /// The inbox name the input came in under.
    public var sourceFile: String
    /// SHA-256 of the input's bytes, lowercase hexadecimal; `nil` when it could not be read
    /// (a symlink, a FIFO, a file that vanished).
    public var csrSHA256: String?
    /// The rejection's stable code (`Rejection.Code.rawValue` in the Issuance target).
    public var code: String
    /// The one-line reason, as written to `failed/NAME.reason`.
    public var reason: String
    /// Stored like every ledger time: ISO-8601 UTC text, whole seconds.
    public var rejectedAt: Date

    public init(
        id: Int64? = nil,
        sourceFile: String,
        csrSHA256: String?,
        code: String,
        reason: String,
        rejectedAt: Date
    ) {
        self.id = id
        self.sourceFile = sourceFile
        self.csrSHA256 = csrSHA256
        self.code = code
        self.reason = reason
        self.rejectedAt = rejectedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case sourceFile = "source_file"
        case csrSHA256 = "csr_sha256"
        case code
        case reason
        case rejectedAt = "rejected_at"
    }
}
