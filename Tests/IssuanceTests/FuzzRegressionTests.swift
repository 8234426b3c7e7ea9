import Foundation
import Issuance
import Testing

/// Inputs found by `scripts/fuzz-intake` (Fixtures/fuzz/, described in its README.md):
/// each must come out of `issue` as a certificate or as a clean rejection, which is what
/// the fuzz target (Sources/IssuanceFuzzer) checks for every input.
@Suite struct FuzzRegressionTests {
    static let inputs: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.path("fuzz"))) ?? []
        return names.filter { !$0.hasSuffix(".md") }.sorted()
    }()

    /// As in the fuzz target: rejections a more lenient policy would overturn are issued
    /// again under one, so the rest of the path runs for them too.
    static let relaxable: Set<Rejection.Code> = [.weakSignatureAlgorithm, .rsaKeyTooSmall, .curveNotAllowed]

    @Test func inputsArePresent() {
        #expect(!Self.inputs.isEmpty, "no inputs in Fixtures/fuzz")
    }

    @Test(arguments: inputs)
    func issuedOrCleanlyRejected(_ name: String) throws {
        let bytes = try Fixtures.bytes("fuzz/\(name)")
        let strict = try Fixtures.issuer()
        let result = strict.issue(bytes)
        try expectClean(result, name)
        if case .failure(let rejection) = result, Self.relaxable.contains(rejection.code) {
            let permissive = try Fixtures.issuer(
                policy: IssuancePolicy(minRSABits: 1024, allowedCurves: NamedCurve.known, allowSHA1CSRSignature: true)
            )
            try expectClean(permissive.issue(bytes), name)
        }
    }

    /// pem-label-line-breaks.csr: a PEM BEGIN line whose "label" runs over several lines
    /// of base64 before the next "-----", and no END line. The reason quoted the label
    /// as is, so it spanned lines (and could forge lines in the ledger and the journal).
    @Test func multiLinePEMLabelIsQuotedOnOneLine() throws {
        let result = try Fixtures.issuer().issue(Fixtures.bytes("fuzz/pem-label-line-breaks.csr"))
        #expect(throws: Rejection(.unparseable, "")) { try result.get() }
        guard case .failure(let rejection) = result else { return }
        #expect(rejection.reason.hasPrefix("the PEM block \""))
        #expect(rejection.reason.hasSuffix("\" has no matching END line"))
        #expect(Self.isOneLine(rejection.reason), "\(rejection.reason.debugDescription)")
    }

    /// The same quoting on both decoding paths (all-ASCII files and UTF-8 text), for
    /// every kind of character that would break a line or hide text in a terminal. (One
    /// test, not one per case: test names would print the raw labels.)
    @Test func pemLabelsAreEscapedInReasons() throws {
        let cases: [(label: String, quoted: String)] = [
            ("A\nB", "A\\u{A}B"),
            ("A\r\nB", "A\\u{D}\\u{A}B"),
            ("A\u{1B}[2JB", "A\\u{1B}[2JB"),
            ("ü\u{2028}B", "ü\\u{2028}B"),
            ("ü\u{85}\u{202E}B", "ü\\u{85}\\u{202E}B"),
            ("ü CERTIFICATE REQUEST", "ü CERTIFICATE REQUEST"),
        ]
        let issuer = try Fixtures.issuer()
        for (label, quoted) in cases {
            let result = issuer.issue(Array("-----BEGIN \(label)-----\nMIIB\n".utf8))
            guard case .failure(let rejection) = result else {
                Issue.record("issued for label \(label.debugDescription)")
                continue
            }
            #expect(rejection.reason == "the PEM block \"\(quoted)\" has no matching END line", "\(rejection.reason.debugDescription)")
            #expect(Self.isOneLine(rejection.reason), "\(rejection.reason.debugDescription)")
        }
    }

    @Test func longPEMLabelsAreCut() throws {
        let label = String(repeating: "X", count: 300)
        let result = try Fixtures.issuer().issue(Array("-----BEGIN \(label)-----\nMIIB\n-----END \(label)-----\n".utf8))
        guard case .failure(let rejection) = result else {
            Issue.record("issued")
            return
        }
        #expect(rejection.reason == "the PEM file holds no CERTIFICATE REQUEST block (found: \(String(repeating: "X", count: 64))…)")
    }

    /// rsa-key-parameters-not-null.der: an RSA-1024 request, validly self-signed, whose
    /// rsaEncryption AlgorithmIdentifier has parameters that are not NULL. OpenSSL decodes
    /// the key regardless; the permissive policy (RSA 1024 allowed) accepted it and the
    /// certificate builder, unable to copy such parameters, failed with an issuer failure
    /// ("the CA could not sign"). Refused as unparseable now, under every policy.
    @Test func rsaKeyParametersOtherThanNullAreRefused() throws {
        let bytes = try Fixtures.bytes("fuzz/rsa-key-parameters-not-null.der")
        for policy in [IssuancePolicy(), IssuancePolicy(minRSABits: 1024)] {
            let result = try Fixtures.issuer(policy: policy).issue(bytes)
            #expect(throws: Rejection(.unparseable, "")) { try result.get() }
            if case .failure(let rejection) = result {
                #expect(rejection.reason.contains("NULL"), "\(rejection.reason)")
            }
        }
    }

    private func expectClean(_ result: Result<IssuedCertificate, Rejection>, _ name: String) throws {
        switch result {
        case .success(let issued):
            #expect(!issued.der.isEmpty, "\(name)")
        case .failure(let rejection):
            #expect(rejection.code != .issuerFailure, "\(name): \(rejection.reason)")
            #expect(Self.isOneLine(rejection.reason), "\(name): \(rejection.reason.debugDescription)")
        }
    }

    /// Not empty, no control characters and no line or paragraph separators.
    static func isOneLine(_ reason: String) -> Bool {
        !reason.isEmpty && reason.unicodeScalars.allSatisfy { scalar in
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: return false
            default: return true
            }
        }
    }
}
