import Foundation
import Issuance

/// The committed fixtures (see Fixtures/README.md): test CAs and requests made by real
/// tools, with the outcome each request must have in Fixtures/manifest.json.
enum Fixtures {
    static let directory: URL = {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil) ?? URL(fileURLWithPath: "Fixtures")
    }()

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(relativePath)))
    }

    static func path(_ relativePath: String) -> String {
        directory.appendingPathComponent(relativePath).path
    }

    /// A test CA by name: "p256", "rsa2048", "ed25519"…
    static func authority(_ name: String, certificateFile: String? = nil) throws -> CertificateAuthority {
        try CertificateAuthority(
            certificate: bytes("ca/\(certificateFile ?? name + ".pem")"),
            privateKey: bytes("ca/\(name).key")
        )
    }

    static func issuer(ca name: String = "p256", policy: IssuancePolicy = IssuancePolicy(), profile: CertificateProfile = CertificateProfile()) throws -> Issuer {
        try Issuer(authority: authority(name), policy: policy, profile: profile)
    }

    static let manifest: [ManifestEntry] = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
              let entries = try? JSONDecoder().decode([ManifestEntry].self, from: data) else { return [] }
        return entries
    }()
}

/// One line of manifest.json.
struct ManifestEntry: Decodable, Sendable, CustomTestStringConvertible {
    struct PolicyOverrides: Decodable, Sendable {
        var allow_sha1_csr_signature: Bool?
        var allowed_curves: [String]?
        var min_rsa_bits: Int?
        var max_csr_bytes: Int?
    }

    let file: String
    let expect: String
    let code: String?
    let policy: PolicyOverrides?
    let key_usage_after: [String]?
    let san_critical: Bool?
    let note: String?

    var expectsIssue: Bool { expect == "issued" }

    var issuancePolicy: ManifestPolicy { ManifestPolicy(entry: self) }

    var testDescription: String {
        expectsIssue ? "\(file) is issued" : "\(file) is rejected as \(code ?? "?")"
    }
}

/// The policy a manifest entry is checked under: the defaults plus its overrides.
struct ManifestPolicy {
    let policy: IssuancePolicy

    init(entry: ManifestEntry) {
        var policy = IssuancePolicy()
        if let overrides = entry.policy {
            if let sha1 = overrides.allow_sha1_csr_signature { policy.allowSHA1CSRSignature = sha1 }
            if let curves = overrides.allowed_curves { policy.allowedCurves = curves.compactMap(NamedCurve.init(configurationName:)) }
            if let bits = overrides.min_rsa_bits { policy.minRSABits = bits }
            if let bytes = overrides.max_csr_bytes { policy.maxCSRBytes = bytes }
        }
        self.policy = policy
    }
}

import Testing
