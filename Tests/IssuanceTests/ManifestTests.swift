import Foundation
import Issuance
import TestSupport
import Testing

/// Every fixture request gets the outcome its manifest entry states. Each certificate is
/// judged by OpenSSL, GnuTLS and pkilint, and compared byte for byte with its request.
@Suite struct ManifestTests {
    @Test func manifestCoversEveryFixtureRequest() throws {
        let listed = Set(Fixtures.manifest.map(\.file))
        #expect(Fixtures.manifest.count > 50)
        for folder in ["requests", "corpus"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: Fixtures.path(folder))
            for name in names {
                #expect(listed.contains("\(folder)/\(name)"), "\(folder)/\(name) has no manifest entry")
            }
        }
    }

    @Test(arguments: Fixtures.manifest)
    func requestHasItsExpectedOutcome(_ entry: ManifestEntry) throws {
        let issuer = try Fixtures.issuer(policy: entry.issuancePolicy.policy)
        let bytes = try Fixtures.bytes(entry.file)
        let result = issuer.issue(bytes)

        guard entry.expectsIssue else {
            guard case .failure(let rejection) = result else {
                Issue.record("\(entry.file) was issued but must be rejected as \(entry.code ?? "?")")
                return
            }
            #expect(rejection.code.rawValue == entry.code, "\(entry.file): \(rejection.reason)")
            #expect(!rejection.reason.isEmpty && !rejection.reason.contains("\n"))
            return
        }
        let certificate: IssuedCertificate
        switch result {
        case .failure(let rejection):
            Issue.record("\(entry.file) was rejected (\(rejection.code): \(rejection.reason)) but must be issued")
            return
        case .success(let issued):
            certificate = issued
        }

        #expect(try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: Fixtures.path("ca/p256.pem")) == [])
        try RequestComparison.expectCarriedOver(requestFile: bytes, certificate: certificate.der,
                                                 keyUsageAfter: entry.key_usage_after, sanCritical: entry.san_critical)
    }
}
