import Foundation
import Issuance

/// Reads the CA files a configuration names and sets up the issuer every command shares.
public enum AuthorityLoader {
    public static func issuer(for configuration: Configuration, environment: [String: String], now: Date = Date()) throws(StartupError) -> Issuer {
        let certificatePath = configuration.ca.certificate
        let keyPath: String
        do {
            keyPath = try configuration.ca.resolvedKeyPath(environment: environment)
        } catch {
            throw StartupError("ca.key: \(error)")
        }
        let certificateBytes = try read(certificatePath, what: "CA certificate (ca.certificate)")
        let keyBytes = try read(keyPath, what: "CA private key (ca.key)")
        let authority: CertificateAuthority
        do {
            authority = try CertificateAuthority(certificate: certificateBytes, privateKey: keyBytes)
        } catch {
            throw StartupError("\(certificatePath), \(keyPath): \(error)")
        }
        if authority.notAfter <= now {
            throw StartupError("\(certificatePath): the CA certificate expired on \(ISO8601DateFormatter().string(from: authority.notAfter))")
        }
        do {
            return try Issuer(authority: authority, policy: configuration.issuancePolicy, profile: configuration.certificateProfile)
        } catch {
            throw StartupError("setting up issuance: \(error)")
        }
    }

    private static func read(_ path: String, what: String) throws(StartupError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "does not exist"
            throw StartupError("\(path): the \(what) \(reason)")
        }
        return [UInt8](data)
    }
}

extension Configuration {
    /// The `[policy]` section as the issuance engine takes it.
    public var issuancePolicy: IssuancePolicy {
        IssuancePolicy(
            minRSABits: policy.minRSABits,
            allowedCurves: policy.allowedCurves.compactMap(NamedCurve.init(configurationName:)),
            allowSHA1CSRSignature: policy.allowSHA1CSRSignature,
            maxCSRBytes: policy.maxCSRBytes
        )
    }

    /// The `[certificate]` section as the issuance engine takes it; empty URLs mean "leave out".
    public var certificateProfile: CertificateProfile {
        CertificateProfile(
            validityDays: certificate.validityDays,
            backdateSeconds: certificate.backdateSeconds,
            caIssuersURL: certificate.caIssuersURL.isEmpty ? nil : certificate.caIssuersURL,
            ocspURL: certificate.ocspURL.isEmpty ? nil : certificate.ocspURL,
            crlURL: certificate.crlURL.isEmpty ? nil : certificate.crlURL,
            defaultExtendedKeyUsage: certificate.defaultExtendedKeyUsage,
            rsaSignature: certificate.rsaSignature
        )
    }
}
