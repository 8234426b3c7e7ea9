import Foundation

/// Judges an issued certificate with three verifiers dropca does not share code with:
/// `openssl verify -x509_strict`, GnuTLS `certtool --verify` and pkilint's
/// `lint_pkix_cert` at severity ERROR. Returns one line per complaint; empty means all
/// three accept the certificate.
public enum IndependentCheckers {
    /// `strict: false` drops `-x509_strict`, for the one test CA that lacks a Subject Key
    /// Identifier on purpose (strict mode refuses the CA itself, not what it issued).
    public static func problems(certificateDER: [UInt8], caCertificatePath: String, strict: Bool = true) throws -> [String] {
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
        let findings = pkilint.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if !pkilint.succeeded || !findings.isEmpty {
            let missing = pkilint.status == 127 ? " (not in \(ExternalTool.checkersBin.path) nor on PATH: run scripts/setup)" : ""
            problems.append("pkilint lint_pkix_cert (ERROR and above): \(findings.isEmpty ? pkilint.stderr : findings)\(missing)")
        }
        return problems
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
