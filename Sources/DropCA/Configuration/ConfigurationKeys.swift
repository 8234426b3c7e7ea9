extension Configuration {
    /// The sections of `dropca.toml`, in the order the README and the template list them.
    ///
    /// The parser, the unknown-key messages and the template all read the key names from
    /// here, so a key added in one place cannot be forgotten in another.
    enum Section: String, CaseIterable, Sendable {
        case spool, state, ca, certificate, policy, crl, daemon, metrics

        var keys: [String] {
            switch self {
            case .spool: SpoolKey.allCases.map(\.rawValue)
            case .state: StateKey.allCases.map(\.rawValue)
            case .ca: CAKey.allCases.map(\.rawValue)
            case .certificate: CertificateKey.allCases.map(\.rawValue)
            case .policy: PolicyKey.allCases.map(\.rawValue)
            case .crl: CRLKey.allCases.map(\.rawValue)
            case .daemon: DaemonKey.allCases.map(\.rawValue)
            case .metrics: MetricsKey.allCases.map(\.rawValue)
            }
        }
    }

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
