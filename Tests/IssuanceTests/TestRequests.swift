import Foundation
import Issuance
import TestSupport
import Testing

/// Requests made at test time by real tools, for the name rules: `openssl req` for
/// everything it can write (it copies SAN values byte for byte, malformed or not), Python
/// `cryptography` (the checkers' virtual environment) for a SAN value no command line can
/// express. Each test says the very name it sends, so a test reads like its rule.
///
/// One P-256 key signs every request; it is made once per run by `openssl genpkey`.
enum TestRequests {
    /// The folder holding the key and the minimal `openssl req` configuration.
    private static let material: Result<TemporaryDirectory, any Error> = Result {
        let directory = try TemporaryDirectory(prefix: "dropca-names")
        let key = try ExternalTool.run("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", directory.path("key.pem")])
        guard key.succeeded else { throw ComparisonError("openssl genpkey: \(key.output)") }
        // No distribution defaults; `dir_sect` is for directoryName SAN entries.
        try """
            [req]
            distinguished_name = dn
            string_mask = utf8only
            utf8 = yes
            [dn]
            [dir_sect]
            O = Example Corp
            CN = directory name
            """.write(toFile: directory.path("req.cnf"), atomically: true, encoding: .utf8)
        return directory
    }

    /// A DER request from `openssl req -new` with `subject` (`/CN=…`, `-subj` syntax, UTF-8
    /// allowed) and, when given, `subjectAltName=san` and further `-addext` values.
    static func openssl(subject: String = "/O=Example Corp", san: String? = nil, extensions: [String] = []) throws -> [UInt8] {
        let directory = try material.get()
        let output = directory.path("request-\(UUID().uuidString).der")
        defer { try? FileManager.default.removeItem(atPath: output) }
        var arguments = ["req", "-new", "-config", directory.path("req.cnf"), "-key", directory.path("key.pem"), "-utf8", "-subj", subject, "-outform", "DER", "-out", output]
        for value in (san.map { ["subjectAltName=" + $0] } ?? []) + extensions {
            arguments += ["-addext", value]
        }
        let result = try ExternalTool.run("openssl", arguments)
        guard result.succeeded else { throw ComparisonError("openssl req \(arguments): \(result.output)") }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
    }

    /// A DER request made by Python `cryptography` with a CN, an emailAddress as a
    /// UTF8String when given (what `openssl req` refuses to write for non-ASCII), and a
    /// Subject Alternative Name whose value is `sanValue` exactly (GeneralNames DER) when
    /// given; signed with the same key.
    static func cryptography(commonName: String, emailAddress: String? = nil, sanValue: [UInt8]? = nil) throws -> [UInt8] {
        let directory = try material.get()
        let output = directory.path("request-\(UUID().uuidString).der")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let script = """
            import sys
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.x509.name import _ASN1Type
            from cryptography.x509.oid import NameOID
            key_file, common_name, email, san_hex, output = sys.argv[1:6]
            key = serialization.load_pem_private_key(open(key_file, "rb").read(), None)
            names = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
            if email:
                names.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email, _type=_ASN1Type.UTF8String))
            builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names))
            if san_hex != "-":
                san = x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.17"), bytes.fromhex(san_hex))
                builder = builder.add_extension(san, critical=False)
            request = builder.sign(key, hashes.SHA256())
            open(output, "wb").write(request.public_bytes(serialization.Encoding.DER))
            """
        let hex = sanValue.map { $0.map { String(format: "%02x", $0) }.joined() } ?? "-"
        let python = ExternalTool.checkersBin.appendingPathComponent("python").path
        let result = try ExternalTool.run(python, ["-c", script, directory.path("key.pem"), commonName, emailAddress ?? "", hex, output])
        guard result.succeeded else { throw ComparisonError("python cryptography: \(result.output)") }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
    }
}

/// What a name test expects of one request, checked the way the manifest tests check
/// fixtures: an issued certificate passes openssl verify, certtool and pkilint and carries
/// the request's names byte for byte; a rejection has its code and a one-line reason.
enum NameExpectation {
    @discardableResult
    static func issued(_ issuer: Issuer, _ request: [UInt8], wildcard: Bool = false,
                       caCertificatePath: String = Fixtures.path("ca/p256.pem"),
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> IssuedCertificate? {
        switch issuer.issue(request) {
        case .failure(let rejection):
            Issue.record("rejected (\(rejection.code)): \(rejection.reason)", sourceLocation: sourceLocation)
            return nil
        case .success(let certificate):
            let problems = try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: caCertificatePath, allowingWildcardFinding: wildcard)
            #expect(problems == [], "\(problems)", sourceLocation: sourceLocation)
            try RequestComparison.expectCarriedOver(requestFile: request, certificate: certificate.der, keyUsageAfter: nil, sanCritical: nil,
                                                     sourceLocation: sourceLocation)
            return certificate
        }
    }

    /// The rejection, after checking its code and that its reason is one line.
    @discardableResult
    static func rejected(_ issuer: Issuer, _ request: [UInt8], _ code: Rejection.Code,
                         sourceLocation: SourceLocation = #_sourceLocation) -> Rejection? {
        switch issuer.issue(request) {
        case .success(let certificate):
            Issue.record("issued (\(certificate.subjectAlternativeNames)) but must be rejected as \(code)", sourceLocation: sourceLocation)
            return nil
        case .failure(let rejection):
            #expect(rejection.code == code, "\(rejection.reason)", sourceLocation: sourceLocation)
            #expect(!rejection.reason.isEmpty && !rejection.reason.contains("\n"), sourceLocation: sourceLocation)
            return rejection
        }
    }
}
