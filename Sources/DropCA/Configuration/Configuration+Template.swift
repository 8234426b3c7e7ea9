import Issuance

extension Configuration {
    /// A complete, commented `dropca.toml`, as `dropca init` writes it.
    ///
    /// Every key is written out with its default and a one-line explanation, so the file
    /// documents itself and an operator changes values instead of looking up key names.
    /// Relative paths are written as given and resolve against the file's folder when it is
    /// loaded, so `parse` of the result yields exactly the values passed here. `caKey` is
    /// written as the file spells it: a key file path or `credential:NAME`.
    public static func template(
        caCertificate: String,
        caKey: String,
        inbox: String,
        outbox: String,
        failed: String,
        stateDirectory: String,
        crlDirectory: String = CRLSettings().directory ?? ""
    ) -> String {
        let certificate = CertificateProfile()
        let policy = IssuancePolicy()
        let spool = SpoolSettings()
        let crl = CRLSettings()
        return """
            # dropca configuration: every setting, each with a note on what it does.
            # Apart from the folders and the CA files, the values shown are the defaults.
            # Relative paths are relative to the folder that holds this file.
            # Check changes with `dropca check-config`; a running service picks them up on
            # `systemctl reload dropca` (an invalid file is refused and the old one kept).

            # The files published for each certificate, under the request's name: "der" (NAME.cer),
            # "pem" (NAME.pem), "pem-chain" (NAME.chain.pem: the certificate, the CA, then ca.chain)
            # and "p7b" (NAME.p7b, a PKCS#7 bundle of the same). Written before the first section;
            # left out, only ["der"].
            # outputs = ["der", "pem-chain"]

            [spool]
            # Appliances upload certificate requests (PKCS#10, PEM or DER) into this folder.
            inbox = \(quoted(inbox))
            # Issued certificates appear here as NAME.cer (DER), for appliances to fetch.
            outbox = \(quoted(outbox))
            # Rejected requests are moved here, each with a NAME.reason file saying why.
            failed = \(quoted(failed))
            # A file found by a scan is taken only after it has not changed for this many seconds.
            settle_seconds = \(Reader.format(spool.settleSeconds))
            # Rescan the inbox this often in seconds, for network filesystems without change events; 0 = off.
            rescan_seconds = \(spool.rescanSeconds)

            [state]
            # The issuance ledger (a record of every certificate issued) is kept in this folder.
            directory = \(quoted(stateDirectory))

            [ca]
            # The CA certificate (PEM or DER) that signs issued certificates.
            certificate = \(quoted(caCertificate))
            # The CA private key: a file path, or "credential:NAME" for a systemd LoadCredential=NAME.
            key = \(quoted(caKey))
            # The certificates above the CA (PEM, from the one that issued it upwards), for the
            # "pem-chain" and "p7b" outputs; left out, those carry the CA certificate alone.
            # chain = "ca-chain.pem"

            [certificate]
            # How many days an issued certificate is valid (never beyond the CA certificate).
            validity_days = \(certificate.validityDays)
            # Start validity this many seconds in the past, for appliances whose clocks run slow.
            backdate_seconds = \(certificate.backdateSeconds)
            # URL where clients can download the CA certificate (AIA caIssuers); "" = leave out.
            ca_issuers_url = \(quoted(certificate.caIssuersURL ?? ""))
            # URL of an OCSP responder for these certificates (AIA OCSP); "" = leave out.
            ocsp_url = \(quoted(certificate.ocspURL ?? ""))
            # URL of the CRL for these certificates (CRL Distribution Points); "" = leave out.
            crl_url = \(quoted(certificate.crlURL ?? ""))
            # Extended key usages for requests that ask for none, e.g. ["clientAuth"] or dotted OIDs.
            default_extended_key_usage = \(list(certificate.defaultExtendedKeyUsage))
            # Signature made with an RSA CA key: "sha256", "sha384", "sha512" or "pss-sha256".
            rsa_signature = \(quoted(certificate.rsaSignature.rawValue))

            [policy]
            # Smallest RSA key accepted in a request, in bits.
            min_rsa_bits = \(policy.minRSABits)
            # EC curves accepted in a request (also: "secp256k1", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1").
            allowed_curves = \(list(policy.allowedCurves.map(\.name)))
            # Accept requests signed with SHA-1 (only for old appliances that can do nothing better).
            allow_sha1_csr_signature = \(policy.allowSHA1CSRSignature)
            # Request files larger than this many bytes are rejected unread.
            max_csr_bytes = \(policy.maxCSRBytes)
            # Key types accepted ("RSA", "RSA-PSS", "Ed25519", "Ed448" and curve names, which must also
            # be in allowed_curves); left out, every type the keys above allow.
            # allowed_key_types = ["RSA", "P-256", "P-384", "Ed25519"]
            # Extended key usages a request may ask for (names as in default_extended_key_usage, or
            # dotted OIDs); a request asking for another is rejected. Left out, any.
            # allowed_extended_key_usage = ["serverAuth", "clientAuth"]

            # Which names certificates may carry. Without [names] every well-formed name is allowed;
            # with it, a type without an allow list is refused, and so are otherName, directoryName,
            # registeredID, x400Address and ediPartyName entries. A subject CN that is a DNS name or
            # an IP address is checked as one, and a subject emailAddress as an e-mail address.
            # [names]
            # DNS names: a name exactly, or .name for every name below it (not the name itself).
            # dns = ["printers.corp.example", ".printers.corp.example"]
            # IP addresses: ranges in CIDR form (an IPv4-mapped IPv6 address is checked as IPv4).
            # ip = ["10.20.0.0/16", "2001:db8:20::/48"]
            # E-mail addresses: a mail domain, .domain for the domains below it, or one address.
            # email = ["corp.example", ".corp.example", "ops@corp.example"]
            # URIs: prefixes, scheme and host in lowercase; end the host with "/".
            # uri = ["https://printers.corp.example/"]
            # DNS names refused even when dns takes them (deny_* lists win), in the same forms.
            # deny_dns = ["admin.printers.corp.example"]
            # IP addresses refused even when ip takes them.
            # deny_ip = ["10.20.99.0/24"]
            # E-mail addresses refused even when email takes them.
            # deny_email = ["root@corp.example"]
            # URIs refused even when uri takes them.
            # deny_uri = ["https://printers.corp.example/admin/"]
            # Allow *.a.b, when ".a.b" (or a rule above it) is in dns.
            # allow_wildcards = false
            # Allow a subject CN that is neither a DNS name nor an IP address ("Printer 7").
            # free_text_cn = false

            [crl]
            # The daemon publishes the CRL here as ca.crl and the CA certificate as ca.cer (both DER),
            # for a web server to serve at certificate.crl_url and certificate.ca_issuers_url; "" = no CRL.
            directory = \(quoted(crlDirectory))
            # nextUpdate of each CRL is this many hours after its thisUpdate.
            validity_hours = \(Reader.format(crl.validityHours))
            # A new CRL is signed at least this often, revocations or not; must be below validity_hours.
            refresh_hours = \(Reader.format(crl.refreshHours))

            [daemon]
            # Number of signing workers; 0 = one per CPU.
            workers = \(DaemonSettings().workers)
            # Memory for request bytes in flight (being read, or rejected and waiting to be
            # kept in failed/), in MiB. Bounds memory whatever policy.max_csr_bytes is; a
            # request larger than this is still read, one at a time.
            input_budget_mib = \(DaemonSettings().inputBudgetMiB)

            [metrics]
            # A Prometheus text file (ending in .prom) that the daemon rewrites every 15 s and
            # at stop, for node_exporter's textfile collector (Debian's reads
            # /var/lib/prometheus/node-exporter); "" = no metrics.
            textfile = ""

            # Profiles: further spool folders, each with rules of its own. A profile may hold spool,
            # certificate, policy, names and outputs; every key it leaves out is the one above, except
            # spool.inbox, outbox and failed, which it sets itself (no two profiles share a folder).
            # NAME: 1 to 32 of a-z, 0-9, _ and -, not "default" (the name of the settings above).
            # [profiles.printers]
            # outputs = ["der", "pem-chain"]
            # [profiles.printers.spool]
            # inbox = "printers/inbox"
            # outbox = "printers/outbox"
            # failed = "printers/failed"
            # [profiles.printers.certificate]
            # validity_days = 90
            # [profiles.printers.names]
            # dns = [".printers.corp.example"]

            """
    }

    /// A TOML basic string. Paths may hold quotes, backslashes or control characters;
    /// escaping them keeps the file valid and the value exact.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    static func list(_ items: [String]) -> String {
        "[" + items.map(quoted).joined(separator: ", ") + "]"
    }
}
