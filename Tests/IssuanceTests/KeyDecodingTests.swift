import Dispatch
import Foundation
import Issuance
import TestSupport
import Testing

/// The subject key is parsed without being decoded and then decoded by dropca itself (EC
/// keys from their point, other keys by OpenSSL's decoder); these requests pin down that
/// every key is accepted or refused exactly as when OpenSSL decoded it while parsing.
@Suite struct KeyDecodingTests {
    /// The certificate must carry the request's subjectPublicKeyInfo byte for byte, also for
    /// point encodings OpenSSL would not choose itself.
    @Test(arguments: [
        ("key-decoding/p256-compressed.der", "EC P-256"),
        ("key-decoding/p384-compressed.der", "EC P-384"),
        ("key-decoding/p256-hybrid.der", "EC P-256"),
        ("requests/accept-p256.csr", "EC P-256"),
        ("requests/accept-p521.csr", "EC P-521"),
        ("requests/accept-ed25519.csr", "Ed25519"),
        ("requests/accept-ed448.csr", "Ed448"),
        ("requests/accept-rsa-pss-key.csr", "RSA-PSS 2048"),
        ("requests/accept-rsa-pss-key-with-params.csr", "RSA-PSS 2048"),
        ("requests/accept-rsa2048.csr", "RSA 2048"),
    ])
    func keyIsIssuedAndCarriedUnchanged(_ file: String, _ description: String) throws {
        let bytes = try Fixtures.bytes(file)
        let issued = try Fixtures.issuer().issue(bytes).get()
        #expect(issued.keyDescription == description)
        let request = try RequestFields(der: RequestComparison.requestDER(fromFile: bytes))
        let certificate = try CertificateFields(der: issued.der)
        #expect(certificate.subjectPublicKeyInfo == request.subjectPublicKeyInfo, "public key must be the request's, byte for byte")
        let problems = try IndependentCheckers.problems(certificateDER: issued.der, caCertificatePath: Fixtures.path("ca/p256.pem"))
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func compressedPointKeepsItsEncoding() throws {
        let issued = try Fixtures.issuer().issue(Fixtures.bytes("key-decoding/p256-compressed.der")).get()
        let spki = try CertificateFields(der: issued.der).subjectPublicKeyInfo
        // SEQUENCE { AlgorithmIdentifier, BIT STRING { 00, 02|03, x } }: a 33-byte point.
        #expect(Array(spki.suffix(36).prefix(3)) == [0x03, 0x22, 0x00])
        #expect([0x02, 0x03].contains(spki[spki.count - 33]))
    }

    @Test(arguments: [
        ("key-decoding/p256-off-curve.der", Rejection.Code.unparseable, "the request's EC public key is not a valid point on P-256"),
        ("key-decoding/p256-compressed-not-on-curve.der", .unparseable, "the request's EC public key is not a valid point on P-256"),
        ("key-decoding/p256-compressed-other-y.der", .badSignature, "the request's self-signature does not verify with its own public key (no proof of possession)"),
        ("key-decoding/ed25519-altered-key.der", .badSignature, "the request's self-signature does not verify with its own public key (no proof of possession)"),
        ("key-decoding/rsa2048-altered-modulus.der", .badSignature, "the request's self-signature does not verify with its own public key (no proof of possession)"),
        ("requests/reject-explicit-curve.csr", .explicitCurveParameters, "EC key with explicit or inherited curve parameters; only named curves are accepted (policy.allowed_curves = P-256, P-384, P-521)"),
        ("requests/reject-secp256k1.csr", .curveNotAllowed, "EC curve secp256k1 is not in policy.allowed_curves (P-256, P-384, P-521)"),
        ("requests/reject-dsa2048.csr", .keyTypeNotAllowed, "DSA keys are not accepted; use RSA, EC (P-256, P-384, P-521), Ed25519 or Ed448"),
        ("requests/reject-x25519-key.der", .keyTypeNotAllowed, "key algorithm X25519 (1.3.101.110) is not accepted; use RSA, EC (P-256, P-384, P-521), Ed25519 or Ed448"),
        ("requests/reject-der-trailing-garbage.der", .trailingData, "9 bytes of trailing data follow the request's DER"),
        ("requests/reject-bad-signature-ed25519.der", .badSignature, "the request's self-signature does not verify with its own public key (no proof of possession)"),
        ("key-decoding/rsa-public-key-extra-integer.der", .unparseable, "the request's RSA public key does not parse"),
        ("key-decoding/ed25519-key-with-parameters.der", .unparseable, "the request's Ed25519 public key does not parse"),
        ("key-decoding/ed25519-short-key.der", .unparseable, "the request's Ed25519 public key does not parse"),
    ])
    func keyIsRefusedAsBefore(_ file: String, _ code: Rejection.Code, _ reason: String) throws {
        let result = try Fixtures.issuer().issue(Fixtures.bytes(file))
        guard case .failure(let rejection) = result else {
            Issue.record("\(file) was issued")
            return
        }
        #expect(rejection.code == code)
        #expect(rejection.reason == reason)
    }

    /// RSA keys that OpenSSL's own decoder takes (the request verifies with `openssl req`)
    /// but whose bytes a certificate must not carry: a negative modulus, a BER length.
    @Test(arguments: ["key-decoding/rsa-negative-modulus.der", "key-decoding/rsa-public-key-indefinite-length.der"])
    func nonDERKeyOpenSSLWouldTakeIsRefused(_ file: String) throws {
        let openssl = try ExternalTool.run("openssl", ["req", "-inform", "DER", "-in", Fixtures.path(file), "-noout", "-verify"])
        #expect(openssl.status == 0, "openssl itself accepts \(file): \(openssl.stderr)")
        let result = try Fixtures.issuer().issue(Fixtures.bytes(file))
        guard case .failure(let rejection) = result else {
            Issue.record("\(file) was issued")
            return
        }
        #expect(rejection.code == .unparseable)
        #expect(rejection.reason == "the request's RSA public key does not parse")
    }

    /// A refused key says nothing from OpenSSL's decoder: the reason alone explains it.
    @Test func undecodableECKeyHasNoOpenSSLDetails() throws {
        let result = try Fixtures.issuer().issue(Fixtures.bytes("key-decoding/p256-off-curve.der"))
        guard case .failure(let rejection) = result else {
            Issue.record("issued")
            return
        }
        #expect(rejection.details.isEmpty, "\(rejection.details)")
    }

    /// A curve that the policy allows gets its key decoded for every allowed curve, also
    /// brainpool and secp256k1 (their domain parameters are prepared once per process).
    @Test(arguments: ["requests/reject-secp256k1.csr", "requests/reject-brainpoolp256r1.csr"])
    func everyKnownCurveDecodesWhenAllowed(_ file: String) throws {
        let issuer = try Fixtures.issuer(policy: IssuancePolicy(allowedCurves: NamedCurve.known))
        _ = try issuer.issue(Fixtures.bytes(file)).get()
    }

    /// The shared per-process state of the decoding path (the parsing context, the prepared
    /// curves, the pooled EC keys, the digests) is used by many workers at once. EC keys are
    /// reused with a new point for each request, so a P-256 request whose point is valid but
    /// not the signer's (`p256-compressed-other-y`) and one whose point is off the curve run
    /// between requests that verify: a key that kept an earlier point would let the first
    /// one through or fail the ones after the second.
    @Test func concurrentIssuanceDecodesEveryKey() throws {
        let issuer = try Fixtures.issuer()
        let files = ["key-decoding/p256-compressed.der", "key-decoding/p384-compressed.der", "requests/accept-p256.csr",
                     "key-decoding/p256-compressed-other-y.der", "requests/accept-rsa2048.csr", "requests/accept-ed25519.csr",
                     "key-decoding/p256-off-curve.der", "key-decoding/p256-hybrid.der"]
        let inputs = try files.map { try Fixtures.bytes($0) }
        let expected = inputs.map { (try? issuer.issue($0).get()) != nil }
        #expect(expected == [true, true, true, false, true, true, false, true])
        let rounds = 512
        let outcomes = Outcomes(count: rounds)
        DispatchQueue.concurrentPerform(iterations: rounds) { round in
            let index = round % inputs.count
            outcomes.set(round, (try? issuer.issue(inputs[index]).get()) != nil)
        }
        for round in 0..<rounds {
            #expect(outcomes.get(round) == expected[round % inputs.count], "round \(round): \(files[round % inputs.count])")
        }
    }
}

private final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Bool?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Bool) { lock.withLock { values[index] = value } }
    func get(_ index: Int) -> Bool? { lock.withLock { values[index] } }
}
