import Foundation
import Issuance
import TestSupport
import Testing

/// Three CAs made by `openssl` for the chain outputs: a root, an intermediate it signs,
/// and the issuing CA the intermediate signs. `ca.chain` for the issuing CA is the
/// intermediate, or the intermediate and the root.
final class TestCAChain: Sendable {
    let directory: TemporaryDirectory
    var rootPath: String { directory.path("root.pem") }
    var intermediatePath: String { directory.path("intermediate.pem") }
    var issuingPath: String { directory.path("issuing.pem") }
    var issuingKeyPath: String { directory.path("issuing.key") }
    /// Root, intermediate and issuing CA in one file: a CAfile that reaches the root.
    var everyCAPath: String { directory.path("every-ca.pem") }

    init() throws {
        directory = try TemporaryDirectory(prefix: "dropca-chain")
        let extensions = directory.path("ca.cnf")
        try """
            [req]
            distinguished_name = dn
            x509_extensions = ca
            [dn]
            [ca]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid:always
            """.write(toFile: extensions, atomically: true, encoding: .utf8)
        func run(_ arguments: [String]) throws {
            let result = try ExternalTool.run("openssl", arguments)
            guard result.succeeded else { throw ComparisonError("openssl \(arguments.joined(separator: " ")): \(result.output)") }
        }
        for name in ["root", "intermediate", "issuing"] {
            try run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", directory.path("\(name).key")])
        }
        try run(["req", "-x509", "-new", "-key", directory.path("root.key"), "-subj", "/O=dropca tests/CN=chain test root", "-days", "3650",
                 "-config", extensions, "-out", rootPath])
        for (name, issuer) in [("intermediate", "root"), ("issuing", "intermediate")] {
            try run(["req", "-new", "-key", directory.path("\(name).key"), "-subj", "/O=dropca tests/CN=chain test \(name)", "-config", extensions,
                     "-out", directory.path("\(name).csr")])
            try run(["x509", "-req", "-in", directory.path("\(name).csr"), "-CA", directory.path("\(issuer).pem"), "-CAkey", directory.path("\(issuer).key"),
                     "-set_serial", name == "issuing" ? "2" : "1", "-days", "3000", "-extfile", extensions, "-extensions", "ca", "-out", directory.path("\(name).pem")])
        }
        let every = try [rootPath, intermediatePath, issuingPath].map { try String(contentsOfFile: $0, encoding: .utf8) }.joined()
        try every.write(toFile: everyCAPath, atomically: true, encoding: .utf8)
    }

    func authority() throws -> CertificateAuthority {
        try CertificateAuthority(certificate: bytes(issuingPath), privateKey: bytes(issuingKeyPath))
    }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
}

/// `der`, `pem`, `pem-chain` and `p7b`, each read back by the tools that take them.
@Suite struct OutputEncodingTests {
    static let chain: Result<TestCAChain, any Error> = Result { try TestCAChain() }

    /// A certificate from the issuing CA, with an encoder over `chainFiles` (`ca.chain`).
    static func issued(chainFiles: [String]) throws -> (certificate: IssuedCertificate, encoder: OutputEncoder, cas: TestCAChain) {
        let cas = try chain.get()
        let authority = try cas.authority()
        let chainPEM = try chainFiles.flatMap { try cas.bytes($0) }
        let loaded = chainFiles.isEmpty ? nil : try CertificateChain(pem: chainPEM, above: authority)
        let issuer = try Issuer(authority: authority, policy: IssuancePolicy(), profile: CertificateProfile())
        let certificate = try issuer.issue(Fixtures.bytes("requests/accept-p256.csr")).get()
        #expect(try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: cas.everyCAPath) == [])
        return (certificate, try OutputEncoder(authority: authority, chain: loaded), cas)
    }

    static func write(_ bytes: [UInt8], in directory: TemporaryDirectory, as name: String) throws -> String {
        let path = directory.path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func everyFormatHasItsOwnSuffix() {
        #expect(OutputFormat.allCases.map(\.fileSuffix) == [".cer", ".pem", ".chain.pem", ".p7b"])
        #expect(OutputFormat.allCases.map(\.rawValue) == ["der", "pem", "pem-chain", "p7b"])
        #expect(OutputFormat.defaults == [.der])
    }

    @Test func derIsTheCertificateItself() throws {
        let (certificate, encoder, _) = try Self.issued(chainFiles: [])
        let der = try encoder.encode(certificate.der, as: .der)
        #expect(der == certificate.der)
        let directory = try TemporaryDirectory()
        let read = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-in", try Self.write(der, in: directory, as: "c.cer"), "-noout", "-serial"])
        #expect(read.succeeded && read.stdout.lowercased().contains(certificate.serialHex), "\(read.output)")
    }

    @Test func pemIsTheSameCertificateArmoured() throws {
        let (certificate, encoder, _) = try Self.issued(chainFiles: [])
        let pem = try encoder.encode(certificate.der, as: .pem)
        #expect(String(decoding: pem, as: UTF8.self).hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        let directory = try TemporaryDirectory()
        let path = try Self.write(pem, in: directory, as: "c.pem")
        let back = try ExternalTool.run("openssl", ["x509", "-inform", "PEM", "-in", path, "-outform", "DER", "-out", directory.path("back.der")])
        #expect(back.succeeded, "\(back.output)")
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: directory.path("back.der")))) == certificate.der)
        let gnutls = try ExternalTool.run("certtool", ["--certificate-info", "--infile", path])
        #expect(gnutls.succeeded && gnutls.stdout.contains("Subject: "), "\(gnutls.output)")
    }

    @Test(arguments: [false, true])
    func pemChainHoldsTheLeafTheIssuingCAAndTheChainAndVerifies(withRoot: Bool) throws {
        let cas = try Self.chain.get()
        let chainFiles = withRoot ? [cas.intermediatePath, cas.rootPath] : [cas.intermediatePath]
        let (certificate, encoder, _) = try Self.issued(chainFiles: chainFiles)
        let pem = try encoder.encode(certificate.der, as: .pemChain)
        let directory = try TemporaryDirectory()
        let path = try Self.write(pem, in: directory, as: "c.chain.pem")

        // The file alone, with only the root trusted, makes the whole path.
        let openssl = try ExternalTool.run("openssl", ["verify", "-x509_strict", "-CAfile", cas.rootPath, "-untrusted", path, path])
        #expect(openssl.succeeded && openssl.stdout.contains(": OK"), "\(openssl.output)")
        let gnutls = try ExternalTool.run("certtool", ["--verify", "--load-ca-certificate", cas.rootPath, "--infile", path])
        #expect(gnutls.succeeded && gnutls.stdout.contains("Verified."), "\(gnutls.output)")

        let subjects = try Self.subjects(inPEM: path)
        let expected = ["CN=p256.example.com,", "CN=chain test issuing,", "CN=chain test intermediate,"] + (withRoot ? ["CN=chain test root,"] : [])
        #expect(subjects.count == expected.count, "\(subjects)")
        for (subject, start) in zip(subjects, expected) {
            #expect(subject.hasPrefix("subject=" + start), "\(subjects)")
        }
        // Without the chain, the intermediate is missing and the root alone does not reach the leaf.
        let (bare, bareEncoder, _) = try Self.issued(chainFiles: [])
        let barePath = try Self.write(try bareEncoder.encode(bare.der, as: .pemChain), in: directory, as: "bare.chain.pem")
        #expect(try Self.subjects(inPEM: barePath).count == 2)
        let unverified = try ExternalTool.run("openssl", ["verify", "-CAfile", cas.rootPath, "-untrusted", barePath, barePath])
        #expect(!unverified.succeeded, "\(unverified.output)")
    }

    @Test func p7bIsACertificatesOnlyBundleInOrder() throws {
        let cas = try Self.chain.get()
        let (certificate, encoder, _) = try Self.issued(chainFiles: [cas.intermediatePath])
        let p7b = try encoder.encode(certificate.der, as: .p7b)
        let directory = try TemporaryDirectory()
        let path = try Self.write(p7b, in: directory, as: "c.p7b")

        let printed = try ExternalTool.run("openssl", ["pkcs7", "-inform", "DER", "-in", path, "-print_certs", "-out", directory.path("certs.pem")])
        #expect(printed.succeeded, "\(printed.output)")
        let subjects = try Self.subjects(inPEM: directory.path("certs.pem"))
        #expect(subjects.count == 3, "\(subjects)")
        for (subject, start) in zip(subjects, ["CN=p256.example.com,", "CN=chain test issuing,", "CN=chain test intermediate,"]) {
            #expect(subject.hasPrefix("subject=" + start), "\(subjects)")
        }
        // The certificates come out byte for byte.
        let leafBack = try ExternalTool.run("openssl", ["x509", "-in", directory.path("certs.pem"), "-outform", "DER", "-out", directory.path("leaf.der")])
        #expect(leafBack.succeeded)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: directory.path("leaf.der")))) == certificate.der)
        // Certificates only: no signer, no content.
        let structure = try ExternalTool.run("openssl", ["pkcs7", "-inform", "DER", "-in", path, "-print", "-noout"])
        #expect(structure.succeeded && structure.stdout.contains("d.data: <ABSENT>") && structure.stdout.contains("signer_info:\n      <EMPTY>"), "\(structure.stdout)")
        let gnutls = try ExternalTool.run("certtool", ["--p7-info", "--inder", "--infile", path])
        #expect(gnutls.succeeded && gnutls.stdout.contains("Number of certificates: 3"), "\(gnutls.output)")
        // And the bundle's certificates verify: the leaf with the rest as its chain.
        let verify = try ExternalTool.run("openssl", ["verify", "-x509_strict", "-CAfile", cas.rootPath, "-untrusted", directory.path("certs.pem"), directory.path("certs.pem")])
        #expect(verify.succeeded && verify.stdout.contains(": OK"), "\(verify.output)")
    }

    @Test func formatsAreEncodedInTheOrderAsked() throws {
        let (certificate, encoder, _) = try Self.issued(chainFiles: [])
        let outputs = try encoder.encode(certificate.der, as: [.p7b, .der, .pem])
        #expect(outputs.map(\.format) == [.p7b, .der, .pem])
        #expect(outputs[1].bytes == certificate.der)
    }

    /// The subjects of every certificate in a PEM file, in order, as `openssl` prints them.
    static func subjects(inPEM path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var subjects: [String] = []
        for block in text.components(separatedBy: "-----END CERTIFICATE-----") where block.contains("-----BEGIN CERTIFICATE-----") {
            let single = block + "-----END CERTIFICATE-----\n"
            let result = try ExternalTool.run("openssl", ["x509", "-noout", "-subject", "-nameopt", "RFC2253"], stdin: Array(single.utf8))
            subjects.append(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return subjects
    }
}

/// `ca.chain` is refused, naming the block, when it would make the chain outputs wrong.
@Suite struct CertificateChainTests {
    static func load(_ pem: String) throws -> CertificateChainError? {
        let authority = try OutputEncodingTests.chain.get().authority()
        do {
            _ = try CertificateChain(pem: Array(pem.utf8), above: authority)
            return nil
        } catch {
            return error
        }
    }

    static func file(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func theIntermediateAloneAndWithTheRootLoad() throws {
        let cas = try OutputEncodingTests.chain.get()
        let chain = try CertificateChain(pem: try cas.bytes(cas.intermediatePath) + cas.bytes(cas.rootPath), above: try cas.authority())
        #expect(chain.subjects == ["CN=chain test intermediate,O=dropca tests", "CN=chain test root,O=dropca tests"])
        #expect(try Self.load("comment before\n" + Self.file(cas.intermediatePath) + "and after\n") == nil)
    }

    @Test func aPrivateKeyIsRefusedByItsLabel() throws {
        let cas = try OutputEncodingTests.chain.get()
        let error = try Self.load(Self.file(cas.intermediatePath) + Self.file(cas.directory.path("root.key")))
        #expect(error?.message == "block 2 is a PRIVATE KEY, not a CERTIFICATE")
    }

    @Test func aRequestIsRefusedByItsLabel() throws {
        let cas = try OutputEncodingTests.chain.get()
        let error = try Self.load(Self.file(cas.directory.path("intermediate.csr")))
        #expect(error?.message == "block 1 is a CERTIFICATE REQUEST, not a CERTIFICATE")
    }

    @Test func aCertificateBlockThatIsNoCertificateIsRefused() throws {
        let error = try Self.load("-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n")
        #expect(error?.message == "block 1 is not an X.509 certificate")
    }

    @Test func brokenBase64IsRefused() throws {
        let error = try Self.load("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
        #expect(error?.message == "block 1 is not a well-formed PEM block")
    }

    @Test func aFileWithoutCertificatesIsRefused() throws {
        #expect(try Self.load("")?.message == "holds no PEM CERTIFICATE block")
        #expect(try Self.load("just text\n")?.message == "holds no PEM CERTIFICATE block")
    }

    @Test func theIssuingCAItselfIsRefused() throws {
        let cas = try OutputEncodingTests.chain.get()
        let error = try Self.load(Self.file(cas.issuingPath))
        #expect(error?.message == "certificate 1 (CN=chain test issuing,O=dropca tests) is the issuing CA certificate itself; ca.chain holds only the certificates above it")
    }

    @Test func aChainInTheWrongOrderIsRefused() throws {
        let cas = try OutputEncodingTests.chain.get()
        let error = try Self.load(Self.file(cas.rootPath) + Self.file(cas.intermediatePath))
        #expect(error?.message.hasPrefix("certificate 1 (CN=chain test root,O=dropca tests) did not issue the CA certificate, whose issuer is CN=chain test intermediate,O=dropca tests") == true, "\(error?.message ?? "")")
    }

    @Test func aCertificateThatIsNotACAIsRefused() throws {
        let leaf = String(decoding: try Fixtures.bytes("ca/not-a-ca.pem"), as: UTF8.self)
        let error = try Self.load(leaf)
        #expect(error?.message.hasPrefix("certificate 1 (") == true && error?.message.hasSuffix(") is not a CA certificate") == true, "\(error?.message ?? "")")
    }

    @Test func tooManyBlocksAreRefused() throws {
        let cas = try OutputEncodingTests.chain.get()
        let many = String(repeating: try Self.file(cas.intermediatePath), count: CertificateChain.maximumCertificates + 1)
        #expect(try Self.load(many)?.message == "holds 17 PEM blocks; a chain has at most 16 certificates")
    }
}
