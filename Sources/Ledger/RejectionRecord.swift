import Foundation

/// One input the CA refused, kept so that every input ends as exactly one certificate or
/// one rejection, and so `dropca list` can show what went to `failed/`.
public struct RejectionRecord: Sendable, Hashable, Codable {
    /// Assigned by the ledger; `nil` on a record not yet written.
    public var id: Int64?
    /// The profile whose inbox the input came in through ("default": the top level).
    public var profile: String
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
        profile: String = "default",
        sourceFile: String,
        csrSHA256: String?,
        code: String,
        reason: String,
        rejectedAt: Date
    ) {
        self.id = id
        self.profile = profile
        self.sourceFile = sourceFile
        self.csrSHA256 = csrSHA256
        self.code = code
        self.reason = reason
        self.rejectedAt = rejectedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case profile
        case sourceFile = "source_file"
        case csrSHA256 = "csr_sha256"
        case code
        case reason
        case rejectedAt = "rejected_at"
    }

    /// A ledger from before profiles has no `profile` column: its rows are the default
    /// profile's.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(Int64.self, forKey: .id)
        profile = try container.decodeIfPresent(String.self, forKey: .profile) ?? LedgerSchema.defaultProfile
        sourceFile = try container.decode(String.self, forKey: .sourceFile)
        csrSHA256 = try container.decodeIfPresent(String.self, forKey: .csrSHA256)
        code = try container.decode(String.self, forKey: .code)
        reason = try container.decode(String.self, forKey: .reason)
        rejectedAt = try container.decode(Date.self, forKey: .rejectedAt)
    }
}
