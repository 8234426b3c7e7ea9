import Foundation
import Issuance

/// `dropca check-config`: everything `dropca run` would refuse at start, found before
/// the service is restarted: the file itself, the CA pair, the folders, and the ledger
/// (opened read-only and judged as `run` judges it, ``LedgerAdmission``, integrity check
/// included, so a running daemon is not held up).
public enum ConfigurationCheck {
    public struct Report: Sendable {
        public var errors: [String] = []
        public var warnings: [String] = []
        public var notes: [String] = []
        public var passed: Bool { errors.isEmpty }
    }

    /// The configuration is loaded through ``Invocation/loadConfiguration()`` and the CA
    /// through the same loader the daemon uses, separately, so that a broken CA is reported
    /// alongside folder problems rather than hiding them.
    static func run(_ invocation: Invocation, now: Date = Date()) -> Report {
        var report = Report()
        let configuration: Configuration
        do {
            configuration = try invocation.loadConfiguration()
        } catch {
            report.errors.append(contentsOf: error.lines)
            return report
        }
        report.notes.append("\(invocation.configPath): syntax and values are valid")

        do {
            let authority = try AuthorityLoader.authority(for: configuration, environment: invocation.environment, now: now)
            report.notes.append("CA: \(authority.summary); key matches certificate")
            // Every profile's issuer is set up as `run` would, so a profile that cannot be
            // (a default usage its policy refuses) is found here.
            for profile in configuration.profiles {
                do {
                    _ = try AuthorityLoader.issuer(for: profile, authority: authority)
                } catch {
                    report.errors.append(contentsOf: error.lines)
                }
                let wanted = now.addingTimeInterval(TimeInterval(profile.certificate.validityDays) * 86_400)
                if authority.notAfter < wanted {
                    let key = profile.name == Configuration.Profile.defaultName ? "certificate.validity_days" : "profiles.\(profile.name).certificate.validity_days"
                    report.warnings.append("the CA certificate expires on \(ISO8601DateFormatter().string(from: authority.notAfter)), before \(key) = \(profile.certificate.validityDays) would end; certificates will be cut to the CA's notAfter")
                }
            }
            if let chain = try AuthorityLoader.chain(for: configuration, authority: authority) {
                report.notes.append("ca.chain: \(chain.subjects.joined(separator: ", then "))")
            }
        } catch {
            report.errors.append(contentsOf: error.lines)
        }

        for profile in configuration.profiles {
            let prefix = profile.name == Configuration.Profile.defaultName ? "" : "profiles.\(profile.name)."
            let spool = profile.spool
            for (key, path) in [("spool.inbox", spool.inbox), ("spool.outbox", spool.outbox), ("spool.failed", spool.failed)] {
                if let problem = folderProblem(path, needsWrite: true) {
                    report.errors.append("\(prefix)\(key) = \(path): \(problem)")
                }
            }
        }
        report.errors += ProfileIsolation.sharedFolders(in: configuration)
        report.warnings += ProfileIsolation.warnings(for: configuration)
        if let problem = stateDirectoryProblem(configuration.state.directory) {
            report.errors.append("state.directory = \(configuration.state.directory): \(problem)")
        }
        let admission = LedgerAdmission.judge(configuration, checkIntegrity: true)
        switch admission.verdict {
        case .refuse(let reason):
            report.errors.append(reason)
        case .create:
            report.notes.append("no ledger yet at \(admission.ledgerPath): dropca run makes one")
        case .open(let summary, let adopt):
            let identity = summary.identity.map { "ledger \($0)" } ?? "a ledger from before ids"
            var note = "\(admission.ledgerPath): \(identity), \(summary.certificates) certificates, \(summary.rejections) rejections, no damage found"
            if adopt { note += "; dropca run will write \(admission.markerPath) for it" }
            report.notes.append(note)
        }
        switch (configuration.crl.directory, configuration.certificate.crlURL) {
        case (let directory?, nil):
            if let problem = stateDirectoryProblem(directory) {
                report.errors.append("crl.directory = \(directory): \(problem)")
            }
            report.warnings.append("a CRL is published in crl.directory = \(directory) but certificate.crl_url is empty: certificates will not point to it, so relying parties will not find it")
        case (nil, let url?):
            report.warnings.append("certificate.crl_url = \(url) is set but crl.directory is empty: dropca publishes no CRL for that URL to serve")
        case (let directory?, _?):
            if let problem = stateDirectoryProblem(directory) {
                report.errors.append("crl.directory = \(directory): \(problem)")
            }
        case (nil, nil):
            break
        }
        if configuration.certificate.caIssuersURL == nil && configuration.certificate.ocspURL == nil {
            report.warnings.append("neither certificate.ca_issuers_url nor certificate.ocsp_url is set: certificates will carry no Authority Information Access, so relying parties cannot fetch the CA certificate")
        }
        return report
    }

    private static func folderProblem(_ path: String, needsWrite: Bool) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "does not exist" }
        guard isDirectory.boolValue else { return "is not a folder" }
        let mode = R_OK | X_OK | (needsWrite ? W_OK : 0)
        guard access(path, mode) == 0 else { return "is not \(needsWrite ? "readable and writable" : "readable") by this user" }
        return nil
    }

    private static func stateDirectoryProblem(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            return folderProblem(path, needsWrite: true)
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return access(parent, W_OK | X_OK) == 0 ? nil : "does not exist and cannot be created in \(parent)"
    }
}
