import Foundation
internal import COpenSSL

/// The signing CA: its certificate and private key, loaded once and checked to belong
/// together and to be allowed to sign certificates.
///
/// The one owner of its `X509` and of a file key's `EVP_PKEY`. Both are only read after
/// `init` (subject, key identifier and signing key); OpenSSL 3 allows one key to sign on
/// many threads at once, each with its own `EVP_MD_CTX`, and a ``TokenKey`` signs on a
/// session per signature, which is why this is `@unchecked Sendable`.
public final class CertificateAuthority: @unchecked Sendable {
    /// Where the signing key is: in memory (read from a file or credential, an `EVP_PKEY`
    /// this CA owns) or on a PKCS#11 token (only a handle; see ``TokenKey``).
    enum SigningKey {
        case file(OpaquePointer)
        case token(TokenKey)
    }

    let certificate: OpaquePointer
    let signingKey: SigningKey
    /// The key kind decides the signature algorithm of every certificate.
    let keyKind: PublicKeyKind
    /// keyIdentifier for the Authority Key Identifier of every certificate.
    let subjectKeyIdentifier: [UInt8]
    public let notAfter: Date
    public let notBefore: Date
    /// The CA subject as an RFC 2253 string.
    public let subject: String

    /// Loads a CA from the bytes of its certificate (PEM or DER) and of its private key
    /// (PEM, PKCS#8 or the traditional RSA/EC forms; or DER).
    public convenience init(certificate certificateBytes: [UInt8], privateKey keyBytes: [UInt8]) throws(CertificateAuthorityError) {
        let certificate = try Self.readCertificate(certificateBytes)
        OpenSSLError.clear()
        guard let privateKey = Self.parsePrivateKey(keyBytes) else {
            X509_free(certificate)
            let error = OpenSSLError.drain("reading the CA private key")
            let encrypted = String(decoding: keyBytes.prefix(4096), as: UTF8.self).contains("ENCRYPTED")
            let hint = encrypted ? " (it is encrypted; give dropca the decrypted key through systemd's LoadCredentialEncrypted= instead)" : ""
            throw CertificateAuthorityError(.keyUnreadable, "the CA private key is not a PEM or DER private key\(hint)", details: error.reasons)
        }
        guard X509_check_private_key(certificate, privateKey) == 1 else {
            OpenSSLError.clear()
            let subject = DistinguishedName.text(X509_get_subject_name(certificate))
            X509_free(certificate)
            EVP_PKEY_free(privateKey)
            throw CertificateAuthorityError(.keyMismatch, "the CA private key does not belong to the CA certificate (\(subject))")
        }
        try self.init(certificate: certificate, signingKey: .file(privateKey))
    }

    /// A CA whose key is on a token. The public key is the certificate's; that the token's
    /// key is its private half is checked by signing with it when the issuer is set up
    /// (``SigningAlgorithm``), at start, reload and `check-config`.
    public convenience init(certificate certificateBytes: [UInt8], token: TokenKey) throws(CertificateAuthorityError) {
        let certificate = try Self.readCertificate(certificateBytes)
        try self.init(certificate: certificate, signingKey: .token(token))
    }

    /// Takes ownership of `certificate` and of a file key, also when it throws (then it
    /// frees them: a refused CA at start or reload leaks nothing).
    private init(certificate: OpaquePointer, signingKey: SigningKey) throws(CertificateAuthorityError) {
        let subject = DistinguishedName.text(X509_get_subject_name(certificate))
        let kind: PublicKeyKind
        do {
            kind = try Self.check(certificate, subject: subject, signingKey: signingKey)
        } catch {
            X509_free(certificate)
            if case .file(let key) = signingKey { EVP_PKEY_free(key) }
            throw error
        }
        self.certificate = certificate
        self.signingKey = signingKey
        self.subject = subject
        self.keyKind = kind
        self.notBefore = ASN1Time.date(X509_get0_notBefore(certificate)) ?? .distantPast
        self.notAfter = ASN1Time.date(X509_get0_notAfter(certificate)) ?? .distantPast
        if let identifier = X509_get0_subject_key_id(certificate) {
            self.subjectKeyIdentifier = OpenSSLBytes.contents(of: identifier)
        } else {
            self.subjectKeyIdentifier = KeyIdentifier.of(X509_get_X509_PUBKEY(certificate))
        }
    }

    /// That the certificate may sign certificates, and the kind of its key (which a token's
    /// key must match); throws why not.
    private static func check(_ certificate: OpaquePointer, subject: String, signingKey: SigningKey) throws(CertificateAuthorityError) -> PublicKeyKind {
        let flags = X509_get_extension_flags(certificate)
        guard flags & UInt32(EXFLAG_CA) != 0 else {
            throw CertificateAuthorityError(.notACA, "the CA certificate (\(subject)) is not a CA: its Basic Constraints do not say cA=TRUE")
        }
        guard flags & UInt32(EXFLAG_KUSAGE) != 0, X509_get_key_usage(certificate) & UInt32(KU_KEY_CERT_SIGN) != 0 else {
            throw CertificateAuthorityError(.notACA, "the CA certificate (\(subject)) may not sign certificates: its Key Usage lacks keyCertSign")
        }
        switch signingKey {
        case .file(let key):
            return try signingKeyKind(key)
        case .token(let token):
            guard let publicKey = X509_get0_pubkey(certificate) else {
                throw CertificateAuthorityError(.certificateUnreadable, "the CA certificate (\(subject)) has no readable public key")
            }
            let kind = try signingKeyKind(publicKey)
            let matches = switch (kind, token.keyType) {
            case (.rsa, .rsa), (.rsaPSS, .rsa), (.ec, .ec), (.ed25519, .edwards), (.ed448, .edwards): true
            default: false
            }
            guard matches else {
                throw CertificateAuthorityError(.keyMismatch, "the key \(token.uri) on the token is not of the CA certificate's type (\(kind.description))")
            }
            return kind
        }
    }

    private static func readCertificate(_ bytes: [UInt8]) throws(CertificateAuthorityError) -> OpaquePointer {
        OpenSSLError.clear()
        guard let certificate = parseCertificate(bytes) else {
            let error = OpenSSLError.drain("reading the CA certificate")
            throw CertificateAuthorityError(.certificateUnreadable, "the CA certificate is neither PEM nor DER X.509", details: error.reasons)
        }
        return certificate
    }

    /// The CA certificate's public key (owned by the certificate).
    var publicKey: OpaquePointer? { X509_get0_pubkey(certificate) }

    /// Why the token cannot sign now, nil for a key file or a token that can.
    var tokenProblem: SigningProblem? {
        if case .token(let token) = signingKey { return token.problem }
        return nil
    }

    deinit {
        X509_free(certificate)
        if case .file(let key) = signingKey { EVP_PKEY_free(key) }
    }

    /// The CA certificate in DER, e.g. to publish it next to issued certificates.
    public var certificateDER: [UInt8] {
        OpenSSLBytes.der(certificate, { i2d_X509($0, $1) }) ?? []
    }

    /// Why this CA cannot sign at `now` (its certificate expired, or is not valid yet, or its
    /// token does not sign), or nil when it can.
    public func signingProblem(at now: Date) -> SigningProblem? {
        // Two comparisons on the common path: the daemon asks before every file.
        if notAfter <= now {
            return SigningProblem("the CA certificate expired on \(ISO8601DateFormatter().string(from: notAfter))", remedy: .validCA)
        }
        if notBefore > now {
            return SigningProblem("the CA certificate is not valid before \(ISO8601DateFormatter().string(from: notBefore))", remedy: .validCA)
        }
        return tokenProblem
    }

    /// The DER of the certificate's subject, as encoded in it: the issuer name of every
    /// certificate and CRL this CA signs.
    public var subjectDER: [UInt8] {
        var name: [UInt8] = []
        return DER.append(to: &name, { i2d_X509_NAME(X509_get_subject_name(certificate), $0) }) ? name : []
    }

    /// A short description for logs and `check-config`: "EC P-256 CA CN=…, valid until …".
    public var summary: String {
        var where_ = ""
        if case .token(let token) = signingKey {
            where_ = " on the token \(token.tokenLabel)" + (token.extractable ? " (warning: the key is extractable)" : "")
                + (token.pinUntried ? " (logged in already, so ca.pin was not tried: dropca check-config tries it)" : "")
        }
        return "\(keyKind.description) CA \(subject)\(where_), valid until \(ISO8601DateFormatter().string(from: notAfter))"
    }

    private static func parseCertificate(_ bytes: [UInt8]) -> OpaquePointer? {
        if String(decoding: bytes.prefix(65536), as: UTF8.self).contains("-----BEGIN") {
            return withBIO(bytes) { PEM_read_bio_X509($0, nil, nil, nil) }
        }
        return bytes.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
    }

    private static func parsePrivateKey(_ bytes: [UInt8]) -> OpaquePointer? {
        if String(decoding: bytes.prefix(65536), as: UTF8.self).contains("-----BEGIN") {
            return withBIO(bytes) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
        }
        return bytes.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_AutoPrivateKey(nil, &cursor, buffer.count)
        }
    }

    private static func withBIO(_ bytes: [UInt8], _ body: (OpaquePointer) -> OpaquePointer?) -> OpaquePointer? {
        bytes.withUnsafeBytes { raw -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    private static func signingKeyKind(_ key: OpaquePointer) throws(CertificateAuthorityError) -> PublicKeyKind {
        let bits = Int(EVP_PKEY_get_bits(key))
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA:
            return .rsa(bits: bits)
        case EVP_PKEY_ED25519:
            return .ed25519
        case EVP_PKEY_ED448:
            return .ed448
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            guard EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, &name, name.count, nil) == 1 else {
                throw CertificateAuthorityError(.unsupportedKey, "the CA's EC key has no named curve")
            }
            let group = OpenSSLBytes.string(nulTerminated: name)
            switch group {
            case "prime256v1", "P-256": return .ec(.p256)
            case "secp384r1", "P-384": return .ec(.p384)
            case "secp521r1", "P-521": return .ec(.p521)
            default:
                throw CertificateAuthorityError(.unsupportedKey, "the CA's EC key is on \(group); dropca signs with P-256, P-384 or P-521 CA keys")
            }
        default:
            throw CertificateAuthorityError(.unsupportedKey, "the CA key type is not supported; use RSA, EC P-256/384/521, Ed25519 or Ed448")
        }
    }
}

/// Why a CA could not be loaded; `check-config` and `run` print the message and stop.
public struct CertificateAuthorityError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case certificateUnreadable, keyUnreadable, keyMismatch, notACA, unsupportedKey, expired
    }
    public let code: Code
    public let message: String
    public let details: [String]

    init(_ code: Code, _ message: String, details: [String] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String {
        details.isEmpty ? message : "\(message) (\(details.joined(separator: "; ")))"
    }
}
