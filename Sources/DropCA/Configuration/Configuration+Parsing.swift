import Foundation
import Issuance
import TOMLKit

extension Configuration {
    /// Reads and validates the config file at `path`.
    ///
    /// Relative paths inside the file are taken from the file's own folder (made absolute
    /// from the current directory when `path` is relative), so a config written by
    /// `dropca init` keeps working wherever its folder is moved or run from.
    ///
    /// `environment` is the process environment; loading itself reads no variable from it
    /// today. A `credential:` key is only resolved when the key is needed
    /// (``KeySource/resolvedKeyPath(environment:)``), because commands such as `dropca list`
    /// load the config from a shell where systemd set no `CREDENTIALS_DIRECTORY`.
    public static func load(path: String, environment: [String: String]) throws(ConfigurationError) -> Configuration {
        let text = try ConfigurationFile.read(path: path)
        let folder = ConfigurationPath.folder(of: path, currentDirectory: FileManager.default.currentDirectoryPath)
        return try parse(text: text, file: path, baseDirectory: folder)
    }

    /// Validates config text. `file` is only used to name the file in errors;
    /// `baseDirectory` is what relative paths in the text are relative to.
    ///
    /// Throws every problem found, in file order, not just the first.
    public static func parse(text: String, file: String, baseDirectory: String) throws(ConfigurationError) -> Configuration {
        let root = try parseTOML(text: text, file: file)
        var reader = Reader(file: file, baseDirectory: baseDirectory, source: text)
        let tables = reader.sections(of: root)
        func section(_ name: Section) -> Reader.SectionTable {
            let section = Reader.SectionTable(section: name, table: tables[name])
            reader.rejectUnknownKeys(in: section)
            return section
        }

        let spool = reader.readSpool(section(.spool))
        let state = reader.readState(section(.state))
        let ca = reader.readCA(section(.ca))
        let certificate = reader.readCertificate(section(.certificate))
        let policy = reader.readPolicy(section(.policy))
        let crl = reader.readCRL(section(.crl))
        let daemon = reader.readDaemon(section(.daemon))
        let metrics = reader.readMetrics(section(.metrics))
        reader.checkFoldersDiffer(spool: spool, state: state, crl: crl)

        if let error = ConfigurationError(collecting: reader.problems) {
            throw error
        }
        guard let ca else {
            // readCA reports a missing key whenever it returns nil; this only keeps the
            // compiler and a future refactoring honest.
            throw ConfigurationError(.init(code: .missingKey, file: file, key: "ca", message: "required section is missing"))
        }
        return Configuration(spool: spool, state: state, ca: ca, certificate: certificate, policy: policy, crl: crl, daemon: daemon,
                             metrics: metrics)
    }

    /// TOMLKit's parse, with its error turned into ours.
    private static func parseTOML(text: String, file: String) throws(ConfigurationError) -> TOMLTable {
        // The text reaches the TOML parser as a C string, which would end silently at a NUL
        // and let the rest of the file go unread.
        if let nul = text.utf8.firstIndex(of: 0) {
            let line = text.utf8[..<nul].reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            throw ConfigurationError(
                .init(code: .syntax, file: file, line: line, message: "TOML syntax error: the file contains a NUL byte; is it a text file?")
            )
        }
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let position = error.source.begin
            throw ConfigurationError(
                .init(
                    code: .syntax, file: file,
                    line: position.line > 0 ? position.line : nil,
                    column: position.line > 0 && position.column > 0 ? position.column : nil,
                    message: "TOML syntax error: \(error.description)"
                )
            )
        } catch {
            throw ConfigurationError(.init(code: .syntax, file: file, message: "TOML syntax error: \(error)"))
        }
    }
}

// MARK: - Sections

extension Configuration.Reader {
    mutating func readSpool(_ section: SectionTable) -> Configuration.SpoolSettings {
        let defaults = Configuration.SpoolSettings()
        return Configuration.SpoolSettings(
            inbox: path(Configuration.SpoolKey.inbox.rawValue, in: section) ?? defaults.inbox,
            outbox: path(Configuration.SpoolKey.outbox.rawValue, in: section) ?? defaults.outbox,
            failed: path(Configuration.SpoolKey.failed.rawValue, in: section) ?? defaults.failed,
            settleSeconds: number(Configuration.SpoolKey.settleSeconds.rawValue, in: section, range: 0...86_400, unit: "seconds")
                ?? defaults.settleSeconds,
            rescanSeconds: integer(Configuration.SpoolKey.rescanSeconds.rawValue, in: section, range: 0...86_400, unit: "seconds")
                ?? defaults.rescanSeconds
        )
    }

    mutating func readState(_ section: SectionTable) -> Configuration.State {
        Configuration.State(directory: path(Configuration.StateKey.directory.rawValue, in: section) ?? Configuration.State().directory)
    }

    /// Nil when a key is missing or invalid (and reported).
    mutating func readCA(_ section: SectionTable) -> Configuration.CA? {
        var complete = true
        for key in Configuration.CAKey.allCases where section.table?[key.rawValue] == nil {
            report(.missingKey, at: section.path(key.rawValue), line: nil, "required key is missing")
            complete = false
        }
        let certificate = path(Configuration.CAKey.certificate.rawValue, in: section)
        let key = keySource(in: section)
        guard complete, let certificate, let key else {
            return nil
        }
        return Configuration.CA(certificate: certificate, key: key)
    }

    private mutating func keySource(in section: SectionTable) -> Configuration.KeySource? {
        let name = Configuration.CAKey.key.rawValue
        guard let text = string(name, in: section) else {
            return nil
        }
        let prefix = Configuration.KeySource.credentialPrefix
        guard text.hasPrefix(prefix) else {
            guard !text.isEmpty else {
                report(.invalidValue, name, in: section, "must not be empty; give a key file path or credential:NAME")
                return nil
            }
            return .file(ConfigurationPath.resolve(text, against: baseDirectory))
        }
        let credential = String(text.dropFirst(prefix.count))
        if let problem = Configuration.KeySource.problemWithCredentialName(credential) {
            report(.invalidValue, name, in: section, problem)
            return nil
        }
        return .credential(credential)
    }

    mutating func readCertificate(_ section: SectionTable) -> CertificateProfile {
        let defaults = CertificateProfile()
        return CertificateProfile(
            validityDays: integer(Configuration.CertificateKey.validityDays.rawValue, in: section, range: 1...36_500, unit: "days")
                ?? defaults.validityDays,
            backdateSeconds: integer(
                Configuration.CertificateKey.backdateSeconds.rawValue, in: section, range: 0...31_536_000, unit: "seconds"
            ) ?? defaults.backdateSeconds,
            caIssuersURL: url(.caIssuersURL, in: section, schemes: ["http", "https", "ldap"]) ?? defaults.caIssuersURL,
            ocspURL: url(.ocspURL, in: section, schemes: ["http", "https"]) ?? defaults.ocspURL,
            crlURL: url(.crlURL, in: section, schemes: ["http", "https", "ldap"]) ?? defaults.crlURL,
            defaultExtendedKeyUsage: extendedKeyUsages(in: section) ?? defaults.defaultExtendedKeyUsage,
            rsaSignature: rsaSignature(in: section) ?? defaults.rsaSignature
        )
    }

    /// `""` in the file means "not set" (nil); an absent key keeps the default (also nil).
    /// OCSP is HTTP by definition (RFC 6960 appendix A), so it does not take `ldap://`;
    /// caIssuers and CRLs may be served from a directory (RFC 5280).
    private mutating func url(_ key: Configuration.CertificateKey, in section: SectionTable, schemes: [String]) -> String?? {
        guard let text = string(key.rawValue, in: section) else {
            return nil
        }
        if text.isEmpty {
            return .some(nil)
        }
        if let problem = Configuration.problemWithURL(text, schemes: schemes) {
            report(.invalidValue, key.rawValue, in: section, problem + " (or \"\" for none)")
            return nil
        }
        return text
    }

    private mutating func extendedKeyUsages(in section: SectionTable) -> [String]? {
        let key = Configuration.CertificateKey.defaultExtendedKeyUsage.rawValue
        guard let entries = strings(key, in: section) else {
            return nil
        }
        let names = ExtendedKeyUsage.names.map(\.name)
        var seen: [String: String] = [:]
        var valid = true
        for (position, entry) in entries.enumerated() {
            let quoted = String(reflecting: entry)
            let oid: String
            if let known = ExtendedKeyUsage.names.first(where: { $0.name == entry }) {
                oid = known.oid
            } else if entry.first?.isNumber == true {
                if let problem = ExtendedKeyUsage.problemWithOID(entry) {
                    report(.invalidValue, key, element: position, in: section, "\(quoted): \(problem)")
                    valid = false
                    continue
                }
                oid = entry
            } else {
                var message = "\(quoted) is neither a known usage (\(names.joined(separator: ", "))) nor a dotted OID"
                if let suggestion = Configuration.suggestion(for: entry, among: names) {
                    message += "; did you mean \(suggestion)?"
                }
                report(.invalidValue, key, element: position, in: section, message)
                valid = false
                continue
            }
            // A usage listed twice would make the extension carry it twice.
            if let earlier = seen[oid] {
                let sameText = earlier == entry
                report(
                    .invalidValue, key, element: position, in: section,
                    sameText ? "\(quoted) is listed twice" : "\(quoted) is the same usage as \(String(reflecting: earlier))"
                )
                valid = false
                continue
            }
            seen[oid] = entry
        }
        return valid ? entries : nil
    }

    private mutating func rsaSignature(in section: SectionTable) -> RSASignatureScheme? {
        let key = Configuration.CertificateKey.rsaSignature.rawValue
        guard let text = string(key, in: section) else {
            return nil
        }
        if let signature = RSASignatureScheme(rawValue: text) {
            return signature
        }
        let known = RSASignatureScheme.allCases.map(\.rawValue)
        var message = "\(String(reflecting: text)) is not one of \(known.joined(separator: ", "))"
        if let suggestion = Configuration.suggestion(for: text, among: known) {
            message += "; did you mean \(suggestion)?"
        }
        report(.invalidValue, key, in: section, message)
        return nil
    }

    mutating func readPolicy(_ section: SectionTable) -> IssuancePolicy {
        let defaults = IssuancePolicy()
        return IssuancePolicy(
            minRSABits: integer(Configuration.PolicyKey.minRSABits.rawValue, in: section, range: 1024...16_384, unit: "bits")
                ?? defaults.minRSABits,
            allowedCurves: curves(in: section) ?? defaults.allowedCurves,
            allowSHA1CSRSignature: bool(Configuration.PolicyKey.allowSHA1CSRSignature.rawValue, in: section)
                ?? defaults.allowSHA1CSRSignature,
            maxCSRBytes: integer(Configuration.PolicyKey.maxCSRBytes.rawValue, in: section, range: 256...16_777_216, unit: "bytes")
                ?? defaults.maxCSRBytes
        )
    }

    /// An empty list is allowed: it admits no EC key at all (an RSA-only CA).
    private mutating func curves(in section: SectionTable) -> [NamedCurve]? {
        let key = Configuration.PolicyKey.allowedCurves.rawValue
        guard let entries = strings(key, in: section) else {
            return nil
        }
        let known = Configuration.supportedCurveNames
        var seen: Set<String> = []
        var valid = true
        for (position, entry) in entries.enumerated() {
            let quoted = String(reflecting: entry)
            guard known.contains(entry) else {
                var message = "\(quoted) is not a supported curve (\(known.joined(separator: ", ")))"
                if let suggestion = Configuration.suggestion(for: entry, among: known, aliases: Configuration.curveAliases) {
                    message += "; did you mean \(suggestion)?"
                }
                report(.invalidValue, key, element: position, in: section, message)
                valid = false
                continue
            }
            guard seen.insert(entry).inserted else {
                report(.invalidValue, key, element: position, in: section, "\(quoted) is listed twice")
                valid = false
                continue
            }
        }
        return valid ? entries.compactMap(NamedCurve.init(configurationName:)) : nil
    }

    mutating func readCRL(_ section: SectionTable) -> Configuration.CRLSettings {
        let defaults = Configuration.CRLSettings()
        var directory = defaults.directory
        let directoryKey = Configuration.CRLKey.directory.rawValue
        if let text = string(directoryKey, in: section) {
            directory = text.isEmpty ? nil : ConfigurationPath.resolve(text, against: baseDirectory)
        }
        // At most ten years: nextUpdate must stay encodable and a CRL that old is a mistake.
        let validity = number(Configuration.CRLKey.validityHours.rawValue, in: section, range: 0.001...87_600, unit: "hours")
        let refresh = number(Configuration.CRLKey.refreshHours.rawValue, in: section, range: 0.001...87_600, unit: "hours")
        var settings = Configuration.CRLSettings(
            directory: directory,
            validityHours: validity ?? defaults.validityHours,
            refreshHours: refresh ?? defaults.refreshHours
        )
        if settings.refreshHours >= settings.validityHours {
            let key = refresh != nil ? Configuration.CRLKey.refreshHours.rawValue : Configuration.CRLKey.validityHours.rawValue
            report(.invalidValue, key, in: section,
                   "crl.refresh_hours (\(Configuration.Reader.format(settings.refreshHours))) must be below crl.validity_hours (\(Configuration.Reader.format(settings.validityHours))), or relying parties would hold a CRL past its nextUpdate")
            settings = defaults
        }
        return settings
    }

    mutating func readMetrics(_ section: SectionTable) -> Configuration.MetricsSettings {
        let key = Configuration.MetricsKey.textfile.rawValue
        guard let text = string(key, in: section), !text.isEmpty else { return Configuration.MetricsSettings() }
        let path = ConfigurationPath.resolve(text, against: baseDirectory)
        // node_exporter's textfile collector reads only *.prom files.
        guard path.hasSuffix(".prom"), !path.hasSuffix("/") else {
            report(.invalidValue, key, in: section, "metrics.textfile must name a file ending in .prom (node_exporter's textfile collector reads only those), not \"\(text)\"")
            return Configuration.MetricsSettings()
        }
        return Configuration.MetricsSettings(textfile: path)
    }

    mutating func readDaemon(_ section: SectionTable) -> Configuration.DaemonSettings {
        Configuration.DaemonSettings(
            workers: integer(Configuration.DaemonKey.workers.rawValue, in: section, range: 0...1024)
                ?? Configuration.DaemonSettings().workers,
            inputBudgetMiB: integer(Configuration.DaemonKey.inputBudgetMiB.rawValue, in: section, range: 1...65_536)
                ?? Configuration.DaemonSettings().inputBudgetMiB
        )
    }

    /// Sharing a folder would be destructive: certificates in the inbox are taken as
    /// requests and moved to failed/, and a ledger in the inbox would be "rejected" away.
    mutating func checkFoldersDiffer(spool: Configuration.SpoolSettings, state: Configuration.State, crl: Configuration.CRLSettings) {
        var folders: [(section: Configuration.Section, key: String, path: String)] = [
            (.spool, Configuration.SpoolKey.inbox.rawValue, spool.inbox),
            (.spool, Configuration.SpoolKey.outbox.rawValue, spool.outbox),
            (.spool, Configuration.SpoolKey.failed.rawValue, spool.failed),
            (.state, Configuration.StateKey.directory.rawValue, state.directory),
        ]
        // The CRL folder is served to the world: never the state directory (the ledger and
        // the lock) nor a spool folder.
        if let directory = crl.directory {
            folders.append((.crl, Configuration.CRLKey.directory.rawValue, directory))
        }
        for (index, later) in folders.enumerated() {
            guard let earlier = folders[..<index].first(where: { ConfigurationPath.sameFolder($0.path, later.path) }) else {
                continue
            }
            let laterPath = [later.section.rawValue, later.key]
            let earlierName = "\(earlier.section.rawValue).\(earlier.key)"
            report(
                .invalidValue, at: laterPath, line: locator.line(of: laterPath) ?? locator.line(of: [earlier.section.rawValue, earlier.key]),
                "must be a different folder from \(earlierName) (both are \(later.path))"
            )
        }
    }
}
