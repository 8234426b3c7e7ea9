import Foundation
import Issuance
import TestSupport
import Testing

/// `policy.allowed_key_types` and `policy.allowed_extended_key_usage`: requests outside
/// them are refused with a reason; without them, everything is as before.
@Suite struct PolicyKeyTests {
    static func issuer(_ policy: IssuancePolicy, profile: CertificateProfile = CertificateProfile()) throws -> Issuer {
        try Issuer(authority: Fixtures.authority("p256"), policy: policy, profile: profile)
    }

    static func expectIssued(_ issuer: Issuer, _ file: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bytes = try Fixtures.bytes(file)
        switch issuer.issue(bytes) {
        case .failure(let rejection):
            Issue.record("\(file) rejected: \(rejection.reason)", sourceLocation: sourceLocation)
        case .success(let certificate):
            #expect(try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: Fixtures.path("ca/p256.pem")) == [], sourceLocation: sourceLocation)
            try RequestComparison.expectCarriedOver(requestFile: bytes, certificate: certificate.der, keyUsageAfter: nil, sanCritical: nil, sourceLocation: sourceLocation)
        }
    }

    static func rejection(_ issuer: Issuer, _ request: [UInt8]) -> Rejection? {
        if case .failure(let rejection) = issuer.issue(request) { return rejection }
        return nil
    }

    // MARK: Key types

    @Test(arguments: ["requests/accept-p256.csr", "requests/accept-ed25519.csr"])
    func keyTypesInTheListAreIssued(_ file: String) throws {
        try Self.expectIssued(Self.issuer(IssuancePolicy(allowedKeyTypes: ["P-256", "Ed25519"])), file)
    }

    @Test(arguments: [
        ("requests/accept-rsa2048.csr", "key type RSA is not in policy.allowed_key_types (P-256, Ed25519)"),
        ("requests/accept-rsa-pss-key.csr", "key type RSA-PSS is not in policy.allowed_key_types (P-256, Ed25519)"),
        ("requests/accept-p384.csr", "key type P-384 is not in policy.allowed_key_types (P-256, Ed25519)"),
        ("requests/accept-ed448.csr", "key type Ed448 is not in policy.allowed_key_types (P-256, Ed25519)"),
    ])
    func keyTypesOutsideTheListAreRefused(_ file: String, _ reason: String) throws {
        let rejection = Self.rejection(try Self.issuer(IssuancePolicy(allowedKeyTypes: ["P-256", "Ed25519"])), try Fixtures.bytes(file))
        #expect(rejection?.code == .keyTypeNotAllowed)
        #expect(rejection?.reason == reason)
    }

    /// "RSA" is rsaEncryption keys; an RSA-PSS key (restricted to PSS signatures) is its own type.
    @Test func rsaAndRSAPSSAreSeparateTypes() throws {
        let rsaOnly = try Self.issuer(IssuancePolicy(allowedKeyTypes: ["RSA"]))
        try Self.expectIssued(rsaOnly, "requests/accept-rsa2048.csr")
        #expect(Self.rejection(rsaOnly, try Fixtures.bytes("requests/accept-rsa-pss-key.csr"))?.code == .keyTypeNotAllowed)
        try Self.expectIssued(try Self.issuer(IssuancePolicy(allowedKeyTypes: ["RSA-PSS"])), "requests/accept-rsa-pss-key.csr")
    }

    /// A curve in allowed_key_types that allowed_curves lacks is still refused: the list
    /// narrows the curves, it never widens them.
    @Test func allowedCurvesStillApply() throws {
        let issuer = try Self.issuer(IssuancePolicy(allowedCurves: [.p384], allowedKeyTypes: ["P-256", "P-384"]))
        #expect(Self.rejection(issuer, try Fixtures.bytes("requests/accept-p256.csr"))?.code == .curveNotAllowed)
        try Self.expectIssued(issuer, "requests/accept-p384.csr")
    }

    @Test func everyKeyTypeNameIsKnown() {
        #expect(IssuancePolicy.keyTypeNames == ["RSA", "RSA-PSS", "P-256", "P-384", "P-521", "secp256k1", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", "Ed25519", "Ed448"])
    }

    // MARK: Extended Key Usage

    static func request(eku: String) throws -> [UInt8] {
        try TestRequests.openssl(subject: "/CN=device.example.com", san: "DNS:device.example.com", extensions: ["extendedKeyUsage=" + eku])
    }

    @Test func requestedUsagesInsideTheListAreIssued() throws {
        let issuer = try Self.issuer(IssuancePolicy(allowedExtendedKeyUsage: ["serverAuth", "clientAuth"]))
        try Self.expectIssued(issuer, "requests/accept-eku-server-client.csr")
        try Self.expectIssued(issuer, "requests/accept-no-eku.csr")
        let byOID = try Self.issuer(IssuancePolicy(allowedExtendedKeyUsage: ["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1"]))
        let request = try Self.request(eku: "clientAuth")
        guard case .success(let certificate) = byOID.issue(request) else {
            Issue.record("clientAuth refused while its OID is allowed")
            return
        }
        #expect(try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: Fixtures.path("ca/p256.pem")) == [])
    }

    @Test(arguments: [
        ("serverAuth,codeSigning", "the request asks for Extended Key Usage codeSigning (1.3.6.1.5.5.7.3.3), which is not in policy.allowed_extended_key_usage (serverAuth, clientAuth)"),
        ("1.3.6.1.4.1.55555.7", "the request asks for Extended Key Usage 1.3.6.1.4.1.55555.7, which is not in policy.allowed_extended_key_usage (serverAuth, clientAuth)"),
    ])
    func requestedUsagesOutsideTheListAreRefusedNotDropped(_ eku: String, _ reason: String) throws {
        let issuer = try Self.issuer(IssuancePolicy(allowedExtendedKeyUsage: ["serverAuth", "clientAuth"]))
        let rejection = Self.rejection(issuer, try Self.request(eku: eku))
        #expect(rejection?.code == .extendedKeyUsageNotAllowed)
        #expect(rejection?.reason == reason)
    }

    @Test func withoutTheListEveryUsageIsCarriedAsBefore() throws {
        let request = try Self.request(eku: "serverAuth,codeSigning")
        guard case .success(let certificate) = try Fixtures.issuer().issue(request) else {
            Issue.record("refused without allowed_extended_key_usage")
            return
        }
        #expect(try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: Fixtures.path("ca/p256.pem")) == [])
        try RequestComparison.expectCarriedOver(requestFile: request, certificate: certificate.der, keyUsageAfter: nil, sanCritical: nil)
    }

    @Test func aDefaultUsageOutsideTheListCannotMakeAnIssuer() throws {
        #expect(throws: IssuerSetupError.self) {
            try Self.issuer(IssuancePolicy(allowedExtendedKeyUsage: ["serverAuth"]), profile: CertificateProfile(defaultExtendedKeyUsage: ["clientAuth"]))
        }
        _ = try Self.issuer(IssuancePolicy(allowedExtendedKeyUsage: ["serverAuth", "1.3.6.1.5.5.7.3.2"]), profile: CertificateProfile(defaultExtendedKeyUsage: ["clientAuth"]))
    }
}
