import Issuance

extension Configuration {
    /// The sections of `dropca.toml`, in the order the README and the template list them.
    ///
    /// The parser, the unknown-key messages and the template all read the key names from
    /// here, so a key added in one place cannot be forgotten in another.
    enum Section: String, CaseIterable, Sendable {
        case spool, state, ca, certificate, policy, names, crl, daemon, metrics

        var keys: [String] {
            switch self {
            case .spool: SpoolKey.allCases.map(\.rawValue)
            case .state: StateKey.allCases.map(\.rawValue)
            case .ca: CAKey.allCases.map(\.rawValue)
            case .certificate: CertificateKey.allCases.map(\.rawValue)
            case .policy: PolicyKey.allCases.map(\.rawValue)
            case .names: NamesKey.allCases.map(\.rawValue)
            case .crl: CRLKey.allCases.map(\.rawValue)
            case .daemon: DaemonKey.allCases.map(\.rawValue)
            case .metrics: MetricsKey.allCases.map(\.rawValue)
            }
        }
    }

    /// Keys of the document itself, outside any section (TOML puts them before the first
    /// `[section]`): `outputs`, and `profiles`, the table of `[profiles.NAME]` tables.
    enum TopLevelKey: String, CaseIterable, Sendable {
        case outputs
        case profiles
    }

    /// What a `[profiles.NAME]` table may hold: these sections of its own, and `outputs`.
    enum ProfileKey: String, CaseIterable, Sendable {
        case spool, certificate, policy, names, outputs

        /// The section it is, for all but `outputs`.
        var section: Section? { Section(rawValue: rawValue) }
    }

    /// The folder keys of `[spool]` that every profile sets for itself and no two
    /// profiles may share; every other key a profile leaves out is the top level's.
    static let ownSpoolKeys: [SpoolKey] = [.inbox, .outbox, .failed]

    enum SpoolKey: String, CaseIterable, Sendable {
        case inbox, outbox, failed
        case settleSeconds = "settle_seconds"
        case rescanSeconds = "rescan_seconds"
    }

    enum StateKey: String, CaseIterable, Sendable {
        case directory
    }

    enum CAKey: String, CaseIterable, Sendable {
        case certificate, key
        case pkcs11Module = "pkcs11_module"
        case pin
        case chain

        /// Keys without which there is no CA.
        static let required: [CAKey] = [.certificate, .key]
    }

    enum CertificateKey: String, CaseIterable, Sendable {
        case validityDays = "validity_days"
        case backdateSeconds = "backdate_seconds"
        case caIssuersURL = "ca_issuers_url"
        case ocspURL = "ocsp_url"
        case crlURL = "crl_url"
        case defaultExtendedKeyUsage = "default_extended_key_usage"
        case rsaSignature = "rsa_signature"
    }

    enum PolicyKey: String, CaseIterable, Sendable {
        case minRSABits = "min_rsa_bits"
        case allowedCurves = "allowed_curves"
        case allowSHA1CSRSignature = "allow_sha1_csr_signature"
        case maxCSRBytes = "max_csr_bytes"
        case allowedKeyTypes = "allowed_key_types"
        case allowedExtendedKeyUsage = "allowed_extended_key_usage"
    }

    /// `[names]`: the lists of `Issuance.NamePolicy.List`, whose names are these keys, and
    /// its two switches.
    enum NamesKey: String, CaseIterable, Sendable {
        case dns, ip, email, uri
        case denyDNS = "deny_dns"
        case denyIP = "deny_ip"
        case denyEmail = "deny_email"
        case denyURI = "deny_uri"
        case allowWildcards = "allow_wildcards"
        case freeTextCN = "free_text_cn"

        /// The key of a list; a switch over the lists, so a list added to the engine
        /// cannot be left without its key.
        init(_ list: NamePolicy.List) {
            switch list {
            case .dns: self = .dns
            case .ip: self = .ip
            case .email: self = .email
            case .uri: self = .uri
            case .denyDNS: self = .denyDNS
            case .denyIP: self = .denyIP
            case .denyEmail: self = .denyEmail
            case .denyURI: self = .denyURI
            }
        }
    }

    enum CRLKey: String, CaseIterable, Sendable {
        case directory
        case validityHours = "validity_hours"
        case refreshHours = "refresh_hours"
    }

    enum MetricsKey: String, CaseIterable, Sendable {
        case textfile
    }

    enum DaemonKey: String, CaseIterable, Sendable {
        case workers
        case inputBudgetMiB = "input_budget_mib"
    }
}
