import Foundation
import Issuance
import Testing

/// Rejections speak an operator's language: one line, naming the setting that decides.
@Suite struct RejectionReasonTests {
    @Test(arguments: [
        ("requests/reject-rsa1024.csr", "policy.min_rsa_bits = 2048"),
        ("requests/reject-secp256k1.csr", "policy.allowed_curves"),
        ("requests/reject-sha1.csr", "policy.allow_sha1_csr_signature"),
        ("requests/reject-too-large.csr", "policy.max_csr_bytes = 65536"),
        ("requests/reject-md5.csr", "MD5"),
        ("requests/reject-pem-two-requests.csr", "exactly one"),
        ("requests/reject-dsa2048.csr", "DSA"),
    ])
    func reasonNamesWhatDecides(_ file: String, _ phrase: String) throws {
        let result = try Fixtures.issuer().issue(Fixtures.bytes(file))
        guard case .failure(let rejection) = result else {
            Issue.record("\(file) was issued")
            return
        }
        #expect(rejection.reason.localizedCaseInsensitiveContains(phrase), "\(rejection.reason)")
        #expect(!rejection.reason.contains("\n"))
    }

    @Test func maximumSizeIsTheConfiguredOne() throws {
        let issuer = try Fixtures.issuer(policy: IssuancePolicy(maxCSRBytes: 1000))
        let result = issuer.issue(try Fixtures.bytes("requests/accept-rsa4096.csr"))
        #expect(throws: Rejection(.tooLarge, "")) { try result.get() }
    }

    @Test func minimumRSASizeIsTheConfiguredOne() throws {
        let strict = try Fixtures.issuer(policy: IssuancePolicy(minRSABits: 3072))
        #expect(throws: Rejection(.rsaKeyTooSmall, "")) { try strict.issue(Fixtures.bytes("requests/accept-rsa2048.csr")).get() }
        _ = try strict.issue(Fixtures.bytes("requests/accept-rsa3072.csr")).get()
    }

    @Test func allowedCurvesAreTheConfiguredOnes() throws {
        let onlyP384 = try Fixtures.issuer(policy: IssuancePolicy(allowedCurves: [.p384]))
        #expect(throws: Rejection(.curveNotAllowed, "")) { try onlyP384.issue(Fixtures.bytes("requests/accept-p256.csr")).get() }
        _ = try onlyP384.issue(Fixtures.bytes("requests/accept-p384.csr")).get()
    }
}
