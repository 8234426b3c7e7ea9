import Foundation
import Issuance

/// Reads the CA files a configuration names and sets up the issuer. Only
/// ``Invocation/loadAuthority(now:)`` and `check-config` (which reports configuration and
/// CA problems separately) call it.
enum AuthorityLoader {
    /// A CA certificate or key file is a few kilobytes (an RSA-16384 key in PEM is about
    /// 13 KB); anything this large is the wrong file.
    static let maximumFileBytes = 1 << 20

    static func issuer(for configuration: Configuration, environment: [String: String], now: Date = Date()) throws(StartupError) -> Issuer {
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
        // A CA that is not valid yet would sign certificates valid before their issuer; a
        // clock that is wrong is the usual reason, so say both dates.
        if authority.notBefore > now {
            throw StartupError("\(certificatePath): the CA certificate is not valid before \(ISO8601DateFormatter().string(from: authority.notBefore)) (this machine's clock says \(ISO8601DateFormatter().string(from: now)))")
        }
        do {
            return try Issuer(authority: authority, policy: configuration.policy, profile: configuration.certificate)
        } catch {
            throw StartupError("setting up issuance: \(error)")
        }
    }

    private static func read(_ path: String, what: String) throws(StartupError) -> [UInt8] {
        do {
            return try BoundedFile.read(path, limit: maximumFileBytes, what: what)
        } catch {
            throw StartupError(error.description)
        }
    }
}
