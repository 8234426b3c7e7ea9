import Foundation

/// Judges a CRL with tools dropca shares no code with: `openssl crl` (signature against
/// the CA), GnuTLS `certtool --verify-crl`, and pkilint's `lint_crl` (PKIX profile, severity
/// ERROR). Returns one line per complaint; empty means all three accept it.
public enum CRLCheckers {
    public static func problems(crlDER: [UInt8], caCertificatePath: String) throws -> [String] {
        let directory = try TemporaryDirectory(prefix: "dropca-crl")
        let derPath = directory.path("ca.crl")
        let pemPath = directory.path("ca.crl.pem")
        try Data(crlDER).write(to: URL(fileURLWithPath: derPath))
        var problems: [String] = []
        let convert = try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-in", derPath, "-out", pemPath])
        guard convert.succeeded else { return ["openssl crl cannot read the CRL: \(convert.output)"] }

        let openssl = try ExternalTool.run("openssl", ["crl", "-in", pemPath, "-CAfile", caCertificatePath, "-noout"])
        if !openssl.succeeded || !openssl.output.contains("verify OK") {
            problems.append("openssl crl -CAfile: \(openssl.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let gnutls = try ExternalTool.run("certtool", ["--verify-crl", "--load-ca-certificate", caCertificatePath, "--infile", pemPath])
        if !gnutls.succeeded || !gnutls.output.contains("Verified") {
            problems.append("certtool --verify-crl: \(gnutls.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let pkilint = try ExternalTool.run("lint_crl", ["lint", "-t", "CRL", "-p", "PKIX", "-s", "ERROR", "--document-format", "DER", derPath])
        let findings = pkilint.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if !pkilint.succeeded || !findings.isEmpty {
            problems.append("pkilint lint_crl (ERROR and above): \(findings.isEmpty ? pkilint.stderr : findings)")
        }
        return problems
    }

    /// `openssl verify -crl_check` of one certificate (DER) against the CA and the CRL.
    public static func verify(certificateDER: [UInt8], caCertificatePath: String, crlDER: [UInt8]) throws -> ToolResult {
        let directory = try TemporaryDirectory(prefix: "dropca-crl-verify")
        let certificate = directory.path("leaf.pem")
        let crl = directory.path("ca.crl.pem")
        try Data(certificateDER).write(to: URL(fileURLWithPath: directory.path("leaf.der")))
        try Data(crlDER).write(to: URL(fileURLWithPath: directory.path("ca.crl")))
        _ = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-in", directory.path("leaf.der"), "-out", certificate])
        _ = try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-in", directory.path("ca.crl"), "-out", crl])
        return try ExternalTool.run("openssl", ["verify", "-crl_check", "-CAfile", caCertificatePath, "-CRLfile", crl, certificate])
    }

    /// `openssl crl -text` of a CRL.
    public static func text(_ crlDER: [UInt8]) throws -> String {
        try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-noout", "-text"], stdin: crlDER).stdout
    }
}
