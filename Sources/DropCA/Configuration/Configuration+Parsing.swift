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
        let document = reader.document(of: root)
        func section(_ name: Section) -> Reader.SectionTable {
            let section = Reader.SectionTable(section: name, table: document.sections[name])
            reader.rejectUnknownKeys(in: section)
            return section
        }

        let spoolSection = section(.spool)
        let spool = reader.readSpool(spoolSection)
        let state = reader.readState(section(.state))
        let ca = reader.readCA(section(.ca))
        let certificateSection = section(.certificate)
        let certificate = reader.readCertificate(certificateSection)
        let policySection = section(.policy)
        let policy = reader.readPolicy(policySection)
        let names = reader.readNames(section(.names), profile: Profile.defaultName, inheriting: nil)
        let outputs = reader.readOutputs(in: document.root) ?? OutputFormat.defaults
        let crl = reader.readCRL(section(.crl))
        let daemon = reader.readDaemon(section(.daemon))
        let metrics = reader.readMetrics(section(.metrics))
        reader.checkDefaultUsages(certificate: certificate, in: certificateSection, policy: policy, in: policySection)
        let defaultProfile = Profile(name: Profile.defaultName, spool: spool, certificate: certificate, policy: policy, names: names, outputs: outputs)
        let namedProfiles = document.profiles.compactMap { reader.readProfile(named: $0.name, table: $0.table, inheriting: defaultProfile) }
        reader.checkFoldersDiffer(
            spools: [([], spool)] + namedProfiles.map { (["profiles", $0.name], $0.spool) },
            state: state, crl: crl
        )

        if let error = ConfigurationError(collecting: reader.problems) {
            throw error
        }
        guard let ca else {
            // readCA reports a missing key whenever it returns nil; this only keeps the
            // compiler and a future refactoring honest.
            throw ConfigurationError(.init(code: .missingKey, file: file, key: "ca", message: "required section is missing"))
        }
        var configuration = Configuration(state: state, ca: ca, crl: crl, daemon: daemon, metrics: metrics, namedProfiles: namedProfiles)
        configuration.defaultProfile = defaultProfile
        return configuration
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
    /// `[spool]`, or a profile's: `inheriting` gives every key the section leaves out,
    /// except the folders when `ownFolders` (a profile's must be its own).
    mutating func readSpool(
        _ section: SectionTable, inheriting defaults: Configuration.SpoolSettings = Configuration.SpoolSettings(), ownFolders: Bool = false
    ) -> Configuration.SpoolSettings {
        if ownFolders {
            for key in Configuration.ownSpoolKeys where section.table?[key.rawValue] == nil {
                let profile = Array(section.prefix.dropLast())
                report(.missingKey, at: section.path(key.rawValue), line: locator.line(of: section.prefix) ?? locator.line(of: profile),
                       "required key is missing: every profile has its own inbox, outbox and failed folders")
            }
        }
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
        for key in Configuration.CAKey.required where section.table?[key.rawValue] == nil {
            report(.missingKey, at: section.path(key.rawValue), line: nil, "required key is missing")
            complete = false
        }
        let certificate = path(Configuration.CAKey.certificate.rawValue, in: section)
        let key = keySource(Configuration.CAKey.key.rawValue, in: section, tokens: true)
        let chain = path(Configuration.CAKey.chain.rawValue, in: section)
        let module = path(Configuration.CAKey.pkcs11Module.rawValue, in: section)
        let pin = keySource(Configuration.CAKey.pin.rawValue, in: section, tokens: false)
        if case .pkcs11 = key, module == nil {
            report(.missingKey, at: section.path(Configuration.CAKey.pkcs11Module.rawValue), line: nil,
                   "required key is missing: ca.key names a key on a token, and this names the PKCS#11 module to reach it")
            complete = false
        }
        guard complete, let certificate, let key else {
            return nil
        }
        return Configuration.CA(certificate: certificate, key: key, chain: chain, pkcs11Module: module, pin: pin)
    }

    /// `ca.key` (a file, `credential:NAME` or, with `tokens`, a `pkcs11:` URI) or `ca.pin`
    /// (a file or `credential:NAME`).
    private mutating func keySource(_ name: String, in section: SectionTable, tokens: Bool) -> Configuration.KeySource? {
        guard let text = string(name, in: section) else {
            return nil
        }
        if text.hasPrefix(PKCS11URI.scheme) {
            guard tokens else {
                report(.invalidValue, name, in: section, "must be a file or credential:NAME")
                return nil
            }
            do {
                _ = try PKCS11URI(text)
            } catch {
                report(.invalidValue, name, in: section, error.message)
                return nil
            }
            return .pkcs11(text)
        }
        let prefix = Configuration.KeySource.credentialPrefix
        guard text.hasPrefix(prefix) else {
            guard !text.isEmpty else {
                report(.invalidValue, name, in: section, tokens
                       ? "must not be empty; give a key file path, credential:NAME or a pkcs11: URI"
                       : "must not be empty; give a file path or credential:NAME")
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

    /// `[certificate]`, or a profile's, with `defaults` for every key the section leaves out.
    mutating func readCertificate(_ section: SectionTable, inheriting defaults: CertificateProfile = CertificateProfile()) -> CertificateProfile {
        CertificateProfile(
            validityDays: integer(Configuration.CertificateKey.validityDays.rawValue, in: section, range: 1...36_500, unit: "days")
                ?? defaults.validityDays,
            backdateSeconds: integer(
                Configuration.CertificateKey.backdateSeconds.rawValue, in: section, range: 0...31_536_000, unit: "seconds"
            ) ?? defaults.backdateSeconds,
            caIssuersURL: url(.caIssuersURL, in: section, schemes: ["http", "https", "ldap"]) ?? defaults.caIssuersURL,
            ocspURL: url(.ocspURL, in: section, schemes: ["http", "https"]) ?? defaults.ocspURL,
            crlURL: url(.crlURL, in: section, schemes: ["http", "https", "ldap"]) ?? defaults.crlURL,
            defaultExtendedKeyUsage: extendedKeyUsages(Configuration.CertificateKey.defaultExtendedKeyUsage.rawValue, in: section)
                ?? defaults.defaultExtendedKeyUsage,
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

    /// A list of Extended Key Usage names or dotted OIDs, each checked against the one
    /// table (`ExtendedKeyUsage`), none twice.
    private mutating func extendedKeyUsages(_ key: String, in section: SectionTable) -> [String]? {
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

    /// `[policy]`, or a profile's, with `defaults` for every key the section leaves out.
    mutating func readPolicy(_ section: SectionTable, inheriting defaults: IssuancePolicy = IssuancePolicy()) -> IssuancePolicy {
        let curves = curves(in: section)
        var policy = IssuancePolicy(
            minRSABits: integer(Configuration.PolicyKey.minRSABits.rawValue, in: section, range: 1024...16_384, unit: "bits")
                ?? defaults.minRSABits,
            allowedCurves: curves ?? defaults.allowedCurves,
            allowSHA1CSRSignature: bool(Configuration.PolicyKey.allowSHA1CSRSignature.rawValue, in: section)
                ?? defaults.allowSHA1CSRSignature,
            maxCSRBytes: integer(Configuration.PolicyKey.maxCSRBytes.rawValue, in: section, range: 256...16_777_216, unit: "bytes")
                ?? defaults.maxCSRBytes,
            allowedKeyTypes: defaults.allowedKeyTypes,
            allowedExtendedKeyUsage: defaults.allowedExtendedKeyUsage
        )
        let typesKey = Configuration.PolicyKey.allowedKeyTypes.rawValue
        if let types = keyTypes(in: section) { policy.allowedKeyTypes = types }
        let setsTypes = section.table?[typesKey] != nil
        // What this section sets is checked here; an inherited pair was checked at the top.
        if let types = policy.allowedKeyTypes, setsTypes || section.table?[Configuration.PolicyKey.allowedCurves.rawValue] != nil {
            // A curve named here but not in allowed_curves could never be accepted.
            for (position, type) in types.enumerated() where NamedCurve(configurationName: type).map({ !policy.allowedCurves.contains($0) }) ?? false {
                let message = "\(String(reflecting: type)) is not in policy.allowed_curves (\(policy.allowedCurves.map(\.name).joined(separator: ", "))), so no such key could be accepted; add it there too"
                if setsTypes {
                    report(.invalidValue, typesKey, element: position, in: section, message)
                } else {
                    report(.invalidValue, Configuration.PolicyKey.allowedCurves.rawValue, in: section, message)
                }
            }
        }
        if let usages = extendedKeyUsages(Configuration.PolicyKey.allowedExtendedKeyUsage.rawValue, in: section) {
            policy.allowedExtendedKeyUsage = usages
        }
        return policy
    }

    /// `policy.allowed_key_types`: names of `IssuancePolicy.keyTypeNames`, none twice.
    private mutating func keyTypes(in section: SectionTable) -> [String]? {
        let key = Configuration.PolicyKey.allowedKeyTypes.rawValue
        guard let entries = strings(key, in: section) else {
            return nil
        }
        let known = IssuancePolicy.keyTypeNames
        var seen: Set<String> = []
        var valid = true
        for (position, entry) in entries.enumerated() {
            let quoted = String(reflecting: entry)
            guard known.contains(entry) else {
                var message = "\(quoted) is not a key type (\(known.joined(separator: ", ")))"
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
        return valid ? entries : nil
    }

    /// The default usages must be ones the policy allows a request to ask for: otherwise
    /// every request without an EKU would get a usage the profile forbids.
    mutating func checkDefaultUsages(certificate: CertificateProfile, in certificateSection: SectionTable, policy: IssuancePolicy, in policySection: SectionTable) {
        guard let allowed = policy.allowedExtendedKeyUsage else { return }
        let allowedOIDs = Set(allowed.compactMap(ExtendedKeyUsage.oid(for:)))
        let defaultKey = Configuration.CertificateKey.defaultExtendedKeyUsage.rawValue
        let allowedKey = Configuration.PolicyKey.allowedExtendedKeyUsage.rawValue
        for (position, usage) in certificate.defaultExtendedKeyUsage.enumerated() {
            guard let oid = ExtendedKeyUsage.oid(for: usage), !allowedOIDs.contains(oid) else { continue }
            let message = "\(String(reflecting: usage)) is not in policy.allowed_extended_key_usage (\(allowed.joined(separator: ", "))), so requests without an Extended Key Usage would get one the policy refuses"
            if certificateSection.table?[defaultKey] != nil {
                report(.invalidValue, defaultKey, element: position, in: certificateSection, message)
            } else if policySection.table?[allowedKey] != nil {
                report(.invalidValue, allowedKey, in: policySection, message)
            }
        }
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
    /// Every profile's three folders count, so no two profiles share one either.
    mutating func checkFoldersDiffer(
        spools: [(prefix: [String], spool: Configuration.SpoolSettings)], state: Configuration.State, crl: Configuration.CRLSettings
    ) {
        var folders: [(key: [String], path: String)] = []
        for (prefix, spool) in spools {
            folders += [
                (prefix + ["spool", Configuration.SpoolKey.inbox.rawValue], spool.inbox),
                (prefix + ["spool", Configuration.SpoolKey.outbox.rawValue], spool.outbox),
                (prefix + ["spool", Configuration.SpoolKey.failed.rawValue], spool.failed),
            ]
            if prefix.isEmpty {
                folders.append(([Configuration.Section.state.rawValue, Configuration.StateKey.directory.rawValue], state.directory))
            }
        }
        // The CRL folder is served to the world: never the state directory (the ledger and
        // the lock) nor a spool folder.
        if let directory = crl.directory {
            folders.append(([Configuration.Section.crl.rawValue, Configuration.CRLKey.directory.rawValue], directory))
        }
        for (index, later) in folders.enumerated() {
            guard let earlier = folders[..<index].first(where: { ConfigurationPath.sameFolder($0.path, later.path) }) else {
                continue
            }
            let earlierName = earlier.key.joined(separator: ".")
            report(
                .invalidValue, at: later.key, line: locator.line(of: later.key) ?? locator.line(of: earlier.key),
                "must be a different folder from \(earlierName) (both are \(later.path))"
            )
        }
    }
}
