import Foundation
import Issuance

/// Reads the CA files a configuration names and sets up the issuers, one per profile, and
/// the output encoder. Only ``Invocation/loadAuthority(now:)`` and `check-config` (which
/// reports configuration and CA problems separately) call it.
enum AuthorityLoader {
    /// A CA certificate or key file is a few kilobytes (an RSA-16384 key in PEM is about
    /// 13 KB); anything this large is the wrong file.
    static let maximumFileBytes = 1 << 20

    /// The issuer of the default profile (the top-level sections), with its CA loaded and
    /// checked. The other profiles' issuers share that CA: ``issuer(for:authority:)``.
    static func issuer(for configuration: Configuration, environment: [String: String], now: Date = Date()) throws(StartupError) -> Issuer {
        try issuer(for: configuration.defaultProfile, authority: authority(for: configuration, environment: environment, now: now))
    }

    /// The CA a configuration names: its certificate and key read, checked to belong
    /// together, to be allowed to sign, and to be in their validity at `now`.
    static func authority(for configuration: Configuration, environment: [String: String], now: Date = Date()) throws(StartupError) -> CertificateAuthority {
        let certificatePath = configuration.ca.certificate
        let certificateBytes = try read(certificatePath, what: "CA certificate (ca.certificate)")
        let authority: CertificateAuthority
        if case .pkcs11(let text) = configuration.ca.key {
            authority = try tokenAuthority(configuration, uri: text, certificate: certificateBytes, environment: environment)
        } else {
            let keyPath: String
            do {
                keyPath = try configuration.ca.resolvedKeyPath(environment: environment)
            } catch {
                throw StartupError("ca.key: \(error)")
            }
            let keyBytes = try read(keyPath, what: "CA private key (ca.key)")
            do {
                authority = try CertificateAuthority(certificate: certificateBytes, privateKey: keyBytes)
            } catch {
                throw StartupError("\(certificatePath), \(keyPath): \(error)")
            }
        }
        if authority.notAfter <= now {
            throw StartupError("\(certificatePath): the CA certificate expired on \(ISO8601DateFormatter().string(from: authority.notAfter))")
        }
        // A CA that is not valid yet would sign certificates valid before their issuer; a
        // clock that is wrong is the usual reason, so say both dates.
        if authority.notBefore > now {
            throw StartupError("\(certificatePath): the CA certificate is not valid before \(ISO8601DateFormatter().string(from: authority.notBefore)) (this machine's clock says \(ISO8601DateFormatter().string(from: now)))")
        }
        return authority
    }

    /// The CA whose key is on a token: the module loaded, the token found and logged in to
    /// with the PIN of `ca.pin`. Every failure is one line naming what to fix; none holds
    /// the PIN.
    private static func tokenAuthority(_ configuration: Configuration, uri text: String, certificate: [UInt8],
                                       environment: [String: String]) throws(StartupError) -> CertificateAuthority {
        guard let module = configuration.ca.pkcs11Module else {
            throw StartupError("ca.key is a PKCS#11 URI: set ca.pkcs11_module")
        }
        var pin: [UInt8]? = nil
        if let source = configuration.ca.pin {
            let path: String
            do {
                path = try source.resolvedKeyPath(environment: environment)
            } catch {
                throw StartupError("ca.pin: \(error)")
            }
            // The first line: a file written with echo ends in a newline that is no part of the PIN.
            let bytes = try read(path, what: "token PIN (ca.pin)", limit: 4096)
            let line = Array(bytes.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") })
            // An empty PIN would make some tokens wait for one on their own PIN pad.
            guard !line.isEmpty else { throw StartupError("ca.pin: \(path) is empty; write the token's user PIN on its first line") }
            pin = line
        }
        do {
            let token = try TokenKey(uri: try PKCS11URI(text), modulePath: module, pin: pin)
            return try CertificateAuthority(certificate: certificate, token: token)
        } catch let error as TokenError {
            // No token (yet), or one that does not answer: plugged in or reachable later, it
            // is used without anyone editing anything.
            let mayPass = error.code == .noToken || error.code == .tokenFailure
            throw StartupError("ca.key \(text): \(error)", mayPass: mayPass)
        } catch {
            throw StartupError("\(configuration.ca.certificate), ca.key \(text): \(error)")
        }
    }

    /// The issuer of one profile: its `[certificate]`, `[policy]` and `[names]` over `authority`.
    static func issuer(for profile: Configuration.Profile, authority: CertificateAuthority) throws(StartupError) -> Issuer {
        do {
            return try Issuer(authority: authority, policy: profile.policy, profile: profile.certificate, names: profile.names)
        } catch {
            let which = profile.name == Configuration.Profile.defaultName ? "" : " for profile \(profile.name)"
            throw StartupError("setting up issuance\(which): \(error)")
        }
    }

    /// `ca.chain`, read (bounded, like the CA files) and checked to sit above `authority`;
    /// nil when the configuration names none.
    static func chain(for configuration: Configuration, authority: CertificateAuthority) throws(StartupError) -> CertificateChain? {
        guard let path = configuration.ca.chain else { return nil }
        let bytes = try read(path, what: "CA chain (ca.chain)")
        do {
            return try CertificateChain(pem: bytes, above: authority)
        } catch {
            throw StartupError("\(path): ca.chain \(error)")
        }
    }

    /// What makes every profile's `outputs` from an issued certificate: the CA and
    /// `ca.chain` (read here), prepared once and shared by all profiles.
    static func outputEncoder(for configuration: Configuration, authority: CertificateAuthority) throws(StartupError) -> OutputEncoder {
        let chain = try chain(for: configuration, authority: authority)
        do {
            return try OutputEncoder(authority: authority, chain: chain)
        } catch {
            throw StartupError("preparing the outputs: \(error)")
        }
    }

    private static func read(_ path: String, what: String, limit: Int = maximumFileBytes) throws(StartupError) -> [UInt8] {
        do {
            return try BoundedFile.read(path, limit: limit, what: what)
        } catch {
            throw StartupError(error.description)
        }
    }
}
