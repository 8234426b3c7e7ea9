import Issuance

extension Configuration {
    /// One set of spool folders with the rules for the requests that arrive in them: the
    /// top-level sections (the profile named "default"), or a `[profiles.NAME]` table.
    ///
    /// A named profile holds every key it does not set itself as the top level has it,
    /// except its folders (`spool.inbox`, `outbox`, `failed`), which it must set, and which
    /// no two profiles share. Its `certificate` and `policy` are the engine's own
    /// `CertificateProfile` and `IssuancePolicy`, and `names` its `NamePolicy`, so an issuer
    /// for the profile is made from these three as they are.
    public struct Profile: Sendable, Equatable {
        /// The name of the top-level profile; no `[profiles.NAME]` may take it.
        public static let defaultName = "default"

        /// "default", or NAME of `[profiles.NAME]`.
        public var name: String
        public var spool: SpoolSettings
        public var certificate: CertificateProfile
        public var policy: IssuancePolicy
        /// The profile's `[names]`; nil allows every well-formed name.
        public var names: NamePolicy?
        /// The files published for each certificate, in this order (`outputs`).
        public var outputs: [OutputFormat]

        public init(
            name: String,
            spool: SpoolSettings = SpoolSettings(),
            certificate: CertificateProfile = CertificateProfile(),
            policy: IssuancePolicy = IssuancePolicy(),
            names: NamePolicy? = nil,
            outputs: [OutputFormat] = OutputFormat.defaults
        ) {
            self.name = name
            self.spool = spool
            self.certificate = certificate
            self.policy = policy
            self.names = names
            self.outputs = outputs
        }

        /// Why `name` cannot name a `[profiles.NAME]`, or nil: 1 to 32 of `a-z 0-9 _ -`,
        /// starting with a letter or digit, so that it reads the same in the journal, in
        /// file names and in the ledger; and not "default", the top level's name.
        public static func problemWithName(_ name: String) -> String? {
            if name == defaultName {
                return "\"default\" is the name of the top-level profile; choose another"
            }
            let bytes = Array(name.utf8)
            func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            }
            guard let first = bytes.first, isLowerAlphanumeric(first), bytes.count <= 32,
                  bytes.allSatisfy({ isLowerAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
                return "\(String(reflecting: name)) is not a profile name: 1 to 32 lowercase letters, digits, _ or -, starting with a letter or digit"
            }
            return nil
        }
    }
}
