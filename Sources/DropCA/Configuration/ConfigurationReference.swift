import Issuance

/// `dropca.toml` described once: every section and key with its default and what it means.
///
/// Two documents are written from this table and nothing else: the commented configuration
/// `dropca init` writes (``Configuration/template(caCertificate:caKey:inbox:outbox:failed:stateDirectory:crlDirectory:)``)
/// and the manual page dropca.toml(5) (``manualPage(date:)``). Each key enum's `reference` is
/// an exhaustive switch, so a key added to ``Configuration/Section`` does not compile until
/// it is described here, and then both documents have it.
public enum ConfigurationReference {
    /// One key: its name as the file spells it, what it does, and its value.
    struct Key {
        let name: String
        /// Sentences; the template wraps them into comment lines, the page into a paragraph.
        let meaning: String
        let value: Value
    }

    /// How a key's value is shown.
    enum Value {
        /// Written out, uncommented, with its default (a TOML value).
        case `default`(String)
        /// Written out with the value the template is given (a folder or a CA file); the page
        /// gives `manual` as its default ("required" when there is none).
        case given(KeyPath<TemplateValues, String>, manual: String)
        /// Left out unless set: the template shows `example` commented out, and the meaning
        /// says what leaving it out does.
        case example(String)
    }

    /// What ``Configuration/template(caCertificate:caKey:inbox:outbox:failed:stateDirectory:crlDirectory:)`` is given.
    struct TemplateValues: Sendable {
        var caCertificate: String
        var caKey: String
        var inbox: String
        var outbox: String
        var failed: String
        var stateDirectory: String
        var crlDirectory: String
    }

    /// A `[section]`: what it is for, its keys in file order, and whether the template writes
    /// it commented out as a whole (it changes behaviour merely by being there).
    struct Section {
        let name: String
        let meaning: String
        let keys: [Key]
        let commentedOut: Bool
    }

    /// What the file as a whole is; the template's first lines and the page's DESCRIPTION.
    static let introduction = """
        dropca reads one TOML file: /etc/dropca/dropca.toml for the service, or the file \
        given with --config or $DROPCA_CONFIG. Relative paths are relative to the folder that \
        holds the file. A key that is not described here, a value of the wrong type and a \
        value out of range are errors that name the file, the line and the key; nothing is \
        guessed. Check changes with dropca check-config; a running service reads the file \
        again on systemctl reload dropca, and refuses an invalid file and keeps the old one.
        """

    /// The keys before the first `[section]`. `profiles` is described by ``profiles``.
    static var topLevel: [Key] { [Configuration.TopLevelKey.outputs.reference].compactMap { $0 } }

    /// Every section, in file order.
    static var sections: [Section] { Configuration.Section.allCases.map(\.reference) }

    /// `[profiles.NAME]`: what a profile is, and the example both documents show.
    static let profiles = """
        Profiles: further spool folders, each with rules of its own, for one appliance group \
        each (its own SFTP account group and chroot). A [profiles.NAME] table may hold spool, \
        certificate, policy and names tables and outputs; every key it leaves out is the top \
        level's, except spool.inbox, outbox and failed, which every profile sets itself (no two \
        profiles share a folder). NAME is 1 to 32 of a-z, 0-9, _ and -, and not "default", the \
        name of the top-level settings. Reasons for requests refused by a profile end with \
        "(profile NAME)". Adding or removing a profile takes a restart; a reload changes the \
        rules of the profiles there are.
        """

    static let profileExample = """
        [profiles.printers]
        outputs = ["der", "pem-chain"]
        [profiles.printers.spool]
        inbox = "printers/inbox"
        outbox = "printers/outbox"
        failed = "printers/failed"
        [profiles.printers.certificate]
        validity_days = 90
        [profiles.printers.names]
        dns = [".printers.corp.example"]
        """
}

// MARK: - The keys, section by section

extension Configuration.TopLevelKey {
    /// Nil for `profiles`, which is a table of tables (``ConfigurationReference/profiles``).
    var reference: ConfigurationReference.Key? {
        switch self {
        case .outputs:
            .init(name: rawValue, meaning: """
                The files published for each certificate, under the request's name: "der" \
                (NAME.cer), "pem" (NAME.pem), "pem-chain" (NAME.chain.pem: the certificate, the \
                CA, then ca.chain) and "p7b" (NAME.p7b, a certs-only PKCS#7 bundle of the same). \
                All of one request's files appear together. Written before the first section; \
                left out, only ["der"].
                """, value: .example(#"["der", "pem-chain"]"#))
        case .profiles: nil
        }
    }
}

extension Configuration.Section {
    var reference: ConfigurationReference.Section {
        switch self {
        case .spool:
            .init(name: rawValue, meaning: "The spool: the folders appliances upload into and fetch from.",
                  keys: Configuration.SpoolKey.allCases.map(\.reference), commentedOut: false)
        case .state:
            .init(name: rawValue, meaning: "What the daemon keeps for itself.",
                  keys: Configuration.StateKey.allCases.map(\.reference), commentedOut: false)
        case .ca:
            .init(name: rawValue, meaning: "The issuing CA. Its certificate's dates bound every certificate issued.",
                  keys: Configuration.CAKey.allCases.map(\.reference), commentedOut: false)
        case .certificate:
            .init(name: rawValue, meaning: "What goes into every certificate issued.",
                  keys: Configuration.CertificateKey.allCases.map(\.reference), commentedOut: false)
        case .policy:
            .init(name: rawValue, meaning: "Which requests are accepted.",
                  keys: Configuration.PolicyKey.allCases.map(\.reference), commentedOut: false)
        case .names:
            .init(name: rawValue, meaning: """
                Which names certificates may carry. Without [names] every well-formed name is \
                allowed; with it, a type without an allow list is refused, and so are otherName, \
                directoryName, registeredID, x400Address and ediPartyName entries. A subject CN \
                that is a DNS name or an IP address is checked as one, and a subject \
                emailAddress as an e-mail address. Whatever the rules, every name is checked for \
                its syntax (DNS names as LDH labels, A-labels only).
                """, keys: Configuration.NamesKey.allCases.map(\.reference), commentedOut: true)
        case .crl:
            .init(name: rawValue, meaning: "The certificate revocation list the daemon signs and publishes.",
                  keys: Configuration.CRLKey.allCases.map(\.reference), commentedOut: false)
        case .daemon:
            .init(name: rawValue, meaning: "How dropca run works.",
                  keys: Configuration.DaemonKey.allCases.map(\.reference), commentedOut: false)
        case .metrics:
            .init(name: rawValue, meaning: "Metrics for Prometheus.",
                  keys: Configuration.MetricsKey.allCases.map(\.reference), commentedOut: false)
        }
    }
}

extension Configuration.SpoolKey {
    var reference: ConfigurationReference.Key {
        let defaults = Configuration.SpoolSettings()
        return switch self {
        case .inbox:
            .init(name: rawValue, meaning: "Appliances upload certificate requests (PKCS#10, PEM or DER) into this folder.",
                  value: .given(\.inbox, manual: Configuration.quoted(defaults.inbox)))
        case .outbox:
            .init(name: rawValue, meaning: "Issued certificates appear here as NAME.cer (DER, and the other outputs), for appliances to fetch.",
                  value: .given(\.outbox, manual: Configuration.quoted(defaults.outbox)))
        case .failed:
            .init(name: rawValue, meaning: "Rejected requests are moved here, each with a NAME.reason file saying why.",
                  value: .given(\.failed, manual: Configuration.quoted(defaults.failed)))
        case .settleSeconds:
            .init(name: rawValue, meaning: "A file found by a scan is taken only after it has not changed for this many seconds.",
                  value: .default(Configuration.Reader.format(defaults.settleSeconds)))
        case .rescanSeconds:
            .init(name: rawValue, meaning: "Rescan the inbox this often in seconds, for network filesystems without change events; 0 = off.",
                  value: .default(String(defaults.rescanSeconds)))
        }
    }
}

extension Configuration.StateKey {
    var reference: ConfigurationReference.Key {
        switch self {
        case .directory:
            .init(name: rawValue, meaning: "The issuance ledger (a record of every certificate issued and request rejected) is kept in this folder.",
                  value: .given(\.stateDirectory, manual: Configuration.quoted(Configuration.State().directory)))
        }
    }
}

extension Configuration.CAKey {
    var reference: ConfigurationReference.Key {
        switch self {
        case .certificate:
            .init(name: rawValue, meaning: "The CA certificate (PEM or DER) that signs issued certificates.",
                  value: .given(\.caCertificate, manual: "required"))
        case .key:
            .init(name: rawValue, meaning: """
                The CA private key: a file path, "credential:NAME" for a systemd \
                LoadCredential=NAME, or an RFC 7512 PKCS#11 URI for a key on a token, such as \
                "pkcs11:token=dropca;object=ca;type=private" (then set pkcs11_module, and pin \
                if the token needs a login; the URI must not carry the PIN).
                """, value: .given(\.caKey, manual: "required"))
        case .pkcs11Module:
            .init(name: rawValue, meaning: """
                With a pkcs11: key, the PKCS#11 module that reaches the token: SoftHSM2's \
                /usr/lib/softhsm/libsofthsm2.so, a vendor's, or p11-kit's client for a token \
                served over a socket. Required with a pkcs11: key, unused otherwise.
                """, value: .example(#""/usr/lib/softhsm/libsofthsm2.so""#))
        case .pin:
            .init(name: rawValue, meaning: """
                With a pkcs11: key, where the token's user PIN is read from: a file (its first \
                line), or "credential:NAME" for a systemd LoadCredential=NAME. Never the PIN \
                itself. Left out, dropca does not log in.
                """, value: .example(#""credential:ca.pin""#))
        case .chain:
            .init(name: rawValue, meaning: """
                The certificates above the CA (PEM, from the one that issued it upwards), for the \
                "pem-chain" and "p7b" outputs; left out, those carry the CA certificate alone.
                """, value: .example(#""ca-chain.pem""#))
        }
    }
}

extension Configuration.CertificateKey {
    var reference: ConfigurationReference.Key {
        let defaults = CertificateProfile()
        return switch self {
        case .validityDays:
            .init(name: rawValue, meaning: "How many days an issued certificate is valid (never beyond the CA certificate).",
                  value: .default(String(defaults.validityDays)))
        case .backdateSeconds:
            .init(name: rawValue, meaning: "Start validity this many seconds in the past, for appliances whose clocks run slow.",
                  value: .default(String(defaults.backdateSeconds)))
        case .caIssuersURL:
            .init(name: rawValue, meaning: "URL where clients can download the CA certificate (AIA caIssuers); \"\" = leave out.",
                  value: .default(Configuration.quoted(defaults.caIssuersURL ?? "")))
        case .ocspURL:
            .init(name: rawValue, meaning: "URL of an OCSP responder for these certificates (AIA OCSP); \"\" = leave out.",
                  value: .default(Configuration.quoted(defaults.ocspURL ?? "")))
        case .crlURL:
            .init(name: rawValue, meaning: "URL of the CRL for these certificates (CRL Distribution Points); \"\" = leave out.",
                  value: .default(Configuration.quoted(defaults.crlURL ?? "")))
        case .defaultExtendedKeyUsage:
            .init(name: rawValue, meaning: "Extended key usages for requests that ask for none, e.g. [\"clientAuth\"] or dotted OIDs.",
                  value: .default(Configuration.list(defaults.defaultExtendedKeyUsage)))
        case .rsaSignature:
            .init(name: rawValue, meaning: "Signature made with an RSA CA key: \"sha256\", \"sha384\", \"sha512\" or \"pss-sha256\".",
                  value: .default(Configuration.quoted(defaults.rsaSignature.rawValue)))
        }
    }
}

extension Configuration.PolicyKey {
    var reference: ConfigurationReference.Key {
        let defaults = IssuancePolicy()
        return switch self {
        case .minRSABits:
            .init(name: rawValue, meaning: "Smallest RSA key accepted in a request, in bits.",
                  value: .default(String(defaults.minRSABits)))
        case .allowedCurves:
            .init(name: rawValue, meaning: """
                EC curves accepted in a request (also: "secp256k1", "brainpoolP256r1", \
                "brainpoolP384r1", "brainpoolP512r1").
                """, value: .default(Configuration.list(defaults.allowedCurves.map(\.name))))
        case .allowSHA1CSRSignature:
            .init(name: rawValue, meaning: "Accept requests signed with SHA-1 (only for old appliances that can do nothing better).",
                  value: .default(String(defaults.allowSHA1CSRSignature)))
        case .maxCSRBytes:
            .init(name: rawValue, meaning: "Request files larger than this many bytes are rejected unread.",
                  value: .default(String(defaults.maxCSRBytes)))
        case .allowedKeyTypes:
            .init(name: rawValue, meaning: """
                Key types accepted ("RSA", "RSA-PSS", "Ed25519", "Ed448" and curve names, which \
                must also be in allowed_curves); left out, every type the keys above allow.
                """, value: .example(#"["RSA", "P-256", "P-384", "Ed25519"]"#))
        case .allowedExtendedKeyUsage:
            .init(name: rawValue, meaning: """
                Extended key usages a request may ask for (names as in \
                default_extended_key_usage, or dotted OIDs); a request asking for another is \
                rejected, not issued without it. Left out, any.
                """, value: .example(#"["serverAuth", "clientAuth"]"#))
        }
    }
}

extension Configuration.NamesKey {
    var reference: ConfigurationReference.Key {
        switch self {
        case .dns:
            .init(name: rawValue, meaning: "DNS names: a name exactly, or .name for every name below it (not the name itself). Compared case-insensitively.",
                  value: .example(#"["printers.corp.example", ".printers.corp.example"]"#))
        case .ip:
            .init(name: rawValue, meaning: "IP addresses: ranges in CIDR form (an IPv4-mapped IPv6 address is checked as IPv4).",
                  value: .example(#"["10.20.0.0/16", "2001:db8:20::/48"]"#))
        case .email:
            .init(name: rawValue, meaning: "E-mail addresses: a mail domain, .domain for the domains below it, or one address.",
                  value: .example(#"["corp.example", ".corp.example", "ops@corp.example"]"#))
        case .uri:
            .init(name: rawValue, meaning: """
                URIs: prefixes, scheme and host in lowercase; end the host with "/". A URI with \
                user information is refused.
                """, value: .example(#"["https://printers.corp.example/"]"#))
        case .denyDNS:
            .init(name: rawValue, meaning: "DNS names refused even when dns takes them (deny_* lists win), in the same forms.",
                  value: .example(#"["admin.printers.corp.example"]"#))
        case .denyIP:
            .init(name: rawValue, meaning: "IP addresses refused even when ip takes them.",
                  value: .example(#"["10.20.99.0/24"]"#))
        case .denyEmail:
            .init(name: rawValue, meaning: "E-mail addresses refused even when email takes them.",
                  value: .example(#"["root@corp.example"]"#))
        case .denyURI:
            .init(name: rawValue, meaning: "URIs refused even when uri takes them.",
                  value: .example(#"["https://printers.corp.example/admin/"]"#))
        case .allowWildcards:
            .init(name: rawValue, meaning: "Allow *.a.b, when \".a.b\" (or a rule above it) is in dns and no denied name falls under it.",
                  value: .example("false"))
        case .freeTextCN:
            .init(name: rawValue, meaning: "Allow a subject CN that is neither a DNS name nor an IP address (\"Printer 7\").",
                  value: .example("false"))
        }
    }
}

extension Configuration.CRLKey {
    var reference: ConfigurationReference.Key {
        let defaults = Configuration.CRLSettings()
        return switch self {
        case .directory:
            .init(name: rawValue, meaning: """
                The daemon publishes the CRL here as ca.crl and the CA certificate as ca.cer (both \
                DER), for a web server to serve at certificate.crl_url and \
                certificate.ca_issuers_url; "" = no CRL.
                """, value: .given(\.crlDirectory, manual: Configuration.quoted(defaults.directory ?? "")))
        case .validityHours:
            .init(name: rawValue, meaning: "nextUpdate of each CRL is this many hours after its thisUpdate.",
                  value: .default(Configuration.Reader.format(defaults.validityHours)))
        case .refreshHours:
            .init(name: rawValue, meaning: "A new CRL is signed at least this often, revocations or not; must be below validity_hours.",
                  value: .default(Configuration.Reader.format(defaults.refreshHours)))
        }
    }
}

extension Configuration.DaemonKey {
    var reference: ConfigurationReference.Key {
        let defaults = Configuration.DaemonSettings()
        return switch self {
        case .workers:
            .init(name: rawValue, meaning: "Number of signing workers; 0 = one per CPU.",
                  value: .default(String(defaults.workers)))
        case .inputBudgetMiB:
            .init(name: rawValue, meaning: """
                Memory for request bytes in flight (being read, or rejected and waiting to be \
                kept in failed/), in MiB. Bounds memory whatever policy.max_csr_bytes is; a \
                request larger than this is still read, one at a time.
                """, value: .default(String(defaults.inputBudgetMiB)))
        }
    }
}

extension Configuration.MetricsKey {
    var reference: ConfigurationReference.Key {
        switch self {
        case .textfile:
            .init(name: rawValue, meaning: """
                A Prometheus text file (ending in .prom) that the daemon rewrites every 15 s and \
                at stop, for node_exporter's textfile collector (Debian's reads \
                /var/lib/prometheus/node-exporter); "" = no metrics.
                """, value: .default(Configuration.quoted(Configuration.MetricsSettings().textfile ?? "")))
        }
    }
}
