import Foundation

/// One certificate the CA signed, as the ledger keeps it.
///
/// The ledger stores every `Date` as ISO-8601 UTC text with whole seconds
/// (`2025-03-01T12:00:00Z`): an operator reading the file with `sqlite3` sees times, and
/// text in that form sorts in time order. Sub-second parts are dropped on the way in, which
/// costs nothing since X.509 validity has whole seconds too.
public struct IssuanceRecord: Sendable, Hashable, Codable {
    /// Lowercase hexadecimal, no colons; the ledger normalises whatever it is given.
    public var serial: String
    /// The subject as printed for people (RFC 4514), for `list`/`show` and the journal.
    public var subject: String
    /// Subject alternative names, each with its type: `"DNS:example.com"`, `"IP:192.0.2.1"`.
    public var sans: [String]
    public var notBefore: Date
    public var notAfter: Date
    public var issuedAt: Date
    /// When the certificate reached the outbox; `nil` until then. A row that stays `nil`
    /// after a crash is what recovery publishes again instead of issuing anew.
    public var publishedAt: Date?
    /// The profile whose inbox the request came in through ("default": the top level).
    public var profile: String
    /// The inbox name the request came in under.
    public var sourceFile: String
    /// SHA-256 of the request file's bytes, lowercase hexadecimal.
    public var csrSHA256: String
    /// The certificate, DER.
    public var certificate: Data

    public init(
        serial: String,
        subject: String,
        sans: [String],
        notBefore: Date,
        notAfter: Date,
        issuedAt: Date,
        publishedAt: Date? = nil,
        profile: String = "default",
        sourceFile: String,
        csrSHA256: String,
        certificate: Data
    ) {
        self.serial = serial
        self.subject = subject
        self.sans = sans
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.issuedAt = issuedAt
        self.publishedAt = publishedAt
        self.profile = profile
        self.sourceFile = sourceFile
        self.csrSHA256 = csrSHA256
        self.certificate = certificate
    }

    /// Column names double as JSON keys, so `dropca list --json` and the SQLite file agree.
    enum CodingKeys: String, CodingKey {
        case serial
        case subject
        case sans
        case notBefore = "not_before"
        case notAfter = "not_after"
        case issuedAt = "issued_at"
        case publishedAt = "published_at"
        case profile
        case sourceFile = "source_file"
        case csrSHA256 = "csr_sha256"
        case certificate
    }

    /// A ledger from before profiles has no `profile` column: its rows are the default
    /// profile's.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        serial = try container.decode(String.self, forKey: .serial)
        subject = try container.decode(String.self, forKey: .subject)
        sans = try container.decode([String].self, forKey: .sans)
        notBefore = try container.decode(Date.self, forKey: .notBefore)
        notAfter = try container.decode(Date.self, forKey: .notAfter)
        issuedAt = try container.decode(Date.self, forKey: .issuedAt)
        publishedAt = try container.decodeIfPresent(Date.self, forKey: .publishedAt)
        profile = try container.decodeIfPresent(String.self, forKey: .profile) ?? LedgerSchema.defaultProfile
        sourceFile = try container.decode(String.self, forKey: .sourceFile)
        csrSHA256 = try container.decode(String.self, forKey: .csrSHA256)
        certificate = try container.decode(Data.self, forKey: .certificate)
    }
}

extension IssuanceRecord {
    /// Serials arrive from people as `0A:1B:...` or `0a1b...`; the ledger keeps one form.
    static func normalizedSerial(_ serial: String) -> String {
        // The daemon passes serials already in the ledger's form, twice per certificate;
        // skip the trimming, filtering and lowercasing (Foundation, slow) for them.
        if isHex(serial) { return serial }
        return serial.trimmingCharacters(in: .whitespacesAndNewlines)
            .filter { $0 != ":" }
            .lowercased()
    }

    static func isHex(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
