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
