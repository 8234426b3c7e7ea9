import Foundation

/// Judges an issued certificate with three verifiers dropca does not share code with:
/// `openssl verify -x509_strict`, GnuTLS `certtool --verify` and pkilint's
/// `lint_pkix_cert` at severity ERROR. Returns one line per complaint; empty means all
/// three accept the certificate.
public enum IndependentCheckers {
    /// `strict: false` drops `-x509_strict`, for the one test CA that lacks a Subject Key
    /// Identifier on purpose (strict mode refuses the CA itself, not what it issued).
    /// `allowingWildcardFinding` lets pkilint's one finding about wildcard dNSNames pass
    /// (`pkix.invalid_domain_name_syntax` for a name starting `*.`): its PKIX linter reads
    /// RFC 5280's preferred name syntax literally, while RFC 6125 and every TLS client take
    /// `*.example.com`. Every other finding still counts.
    public static func problems(certificateDER: [UInt8], caCertificatePath: String, strict: Bool = true, allowingWildcardFinding: Bool = false) throws -> [String] {
        let directory = try TemporaryDirectory(prefix: "dropca-check")
        let derPath = directory.path("certificate.der")
        let pemPath = directory.path("certificate.pem")
        try Data(certificateDER).write(to: URL(fileURLWithPath: derPath))

        var problems: [String] = []
        let convert = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-in", derPath, "-out", pemPath])
        guard convert.succeeded else { return ["openssl x509 cannot read the certificate: \(convert.output)"] }

        let openssl = try ExternalTool.run("openssl", (strict ? ["verify", "-x509_strict"] : ["verify"]) + ["-CAfile", caCertificatePath, pemPath])
        if !openssl.succeeded || !openssl.stdout.contains(": OK") {
            problems.append("openssl verify: \(openssl.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let gnutls = try ExternalTool.run("certtool", ["--verify", "--load-ca-certificate", caCertificatePath, "--infile", pemPath])
        if !gnutls.succeeded || !gnutls.stdout.contains("Verified.") {
            problems.append("certtool --verify: \(gnutls.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let pkilint = try ExternalTool.run("lint_pkix_cert", ["lint", "-s", "ERROR", "--document-format", "PEM", pemPath])
        let allFindings = pkilintFindings(pkilint.stdout)
        let kept = allFindings.filter { !(allowingWildcardFinding && isWildcardNameFinding($0)) }
        let findings = kept.joined(separator: "\n")
        // pkilint exits with the number of findings; only allowed ones may explain a failure.
        let onlyAllowed = kept.isEmpty && !allFindings.isEmpty && pkilint.status == Int32(min(allFindings.count, 255))
        if (!pkilint.succeeded && !onlyAllowed) || !findings.isEmpty {
            let missing = pkilint.status == 127 ? " (not in \(ExternalTool.checkersBin.path) nor on PATH: run scripts/setup)" : ""
            problems.append("pkilint lint_pkix_cert (ERROR and above): \(findings.isEmpty ? pkilint.stderr : findings)\(missing)")
        }
        return problems
    }
}

/// pkilint's report split into findings: each starts with an unindented
/// "Validator @ path" line, followed by its indented "code (LEVEL): message" lines.
private func pkilintFindings(_ report: String) -> [String] {
    var findings: [String] = []
    for line in report.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
        if line.first == " " || line.first == "\t", !findings.isEmpty {
            findings[findings.count - 1] += "\n" + line
        } else {
            findings.append(String(line))
        }
    }
    return findings
}

/// A finding whose every message is pkilint's complaint about a `*.` dNSName.
private func isWildcardNameFinding(_ finding: String) -> Bool {
    let messages = finding.split(separator: "\n").dropFirst()
    return !messages.isEmpty && messages.allSatisfy {
        $0.contains("pkix.invalid_domain_name_syntax (ERROR): Invalid domain name syntax: \"*.")
    }
}

/// A private temporary folder removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL

    public convenience init(prefix: String = "dropca-test") throws {
        try self.init(in: NSTemporaryDirectory(), prefix: prefix)
    }

    /// A new folder inside `parent` (e.g. a file system root the test made) rather than
    /// the temporary folder.
    public init(in parent: String, prefix: String) throws {
        var template = Array((parent + "/\(prefix)-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw FieldError("mkdtemp failed") }
        url = URL(fileURLWithPath: String(cString: made))
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
