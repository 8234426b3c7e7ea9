internal import COpenSSL

/// How this CA signs: the digest fetched once (OpenSSL 3 fetches are costly per call) and
/// the padding for RSA keys. The one owner of its `EVP_MD` and of its template `EVP_MD_CTX`.
///
/// Setting up a signing context (`EVP_DigestSignInit`) fetches the signature
/// implementation and makes a key context on every call; the template is set up once with
/// the CA key, digest and padding, and every certificate is signed with a copy of it
/// (`EVP_MD_CTX_copy_ex`). Copying only reads the template (the copy takes its own
/// references to key, digest and provider contexts), so workers may copy it at once.
final class SigningAlgorithm {
    /// nil for EdDSA, which signs the message itself.
    let digest: OpaquePointer?
    let pss: Bool
    /// Keeps the CA, and so its private key, alive as long as this signs with it.
    private let authority: CertificateAuthority
    /// The initialised signing context that `sign` copies; nil if it could not be set up,
    /// in which case every signature sets up its own context and reports its own failure.
    private let template: OpaquePointer?

    init(authority: CertificateAuthority, rsaScheme: RSASignatureScheme) throws(IssuerSetupError) {
        let kind = authority.keyKind
        let digestName: String?
        switch kind {
        case .rsa, .rsaPSS:
            switch rsaScheme {
            case .sha256, .pssSHA256: digestName = "SHA256"
            case .sha384: digestName = "SHA384"
            case .sha512: digestName = "SHA512"
            }
            pss = rsaScheme == .pssSHA256 || { if case .rsaPSS = kind { return true } else { return false } }()
        case .ec(let curve):
            digestName = curve == .p256 ? "SHA256" : curve == .p384 ? "SHA384" : "SHA512"
            pss = false
        case .ed25519, .ed448:
            digestName = nil
            pss = false
        }
        var digest: OpaquePointer? = nil
        if let digestName {
            OpenSSLError.clear()
            guard let fetched = EVP_MD_fetch(nil, digestName, nil) else {
                throw IssuerSetupError(OpenSSLError.drain("fetching \(digestName)").description)
            }
            digest = fetched
        }
        self.digest = digest
        self.authority = authority
        // A CA key that cannot be set up here fails the same way on every signature, where
        // it is reported per certificate as before.
        self.template = Self.initializedContext(digest: digest, pss: pss, key: authority.privateKey)
        OpenSSLError.clear()
    }

    deinit {
        if let template { EVP_MD_CTX_free(template) }
        if let digest { EVP_MD_free(digest) }
    }

    /// Signs `certificate` with the CA key, filling in both signature algorithm fields.
    func sign(_ certificate: OpaquePointer) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        if let template {
            guard EVP_MD_CTX_copy_ex(context, template) == 1 else { return false }
        } else {
            guard Self.initialize(context, digest: digest, pss: pss, key: authority.privateKey) else { return false }
        }
        return X509_sign_ctx(certificate, context) > 0
    }

    /// A new context set up for signing with `key`, or nil (the caller owns it).
    private static func initializedContext(digest: OpaquePointer?, pss: Bool, key: OpaquePointer) -> OpaquePointer? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        guard initialize(context, digest: digest, pss: pss, key: key) else {
            EVP_MD_CTX_free(context)
            return nil
        }
        return context
    }

    private static func initialize(_ context: OpaquePointer, digest: OpaquePointer?, pss: Bool, key: OpaquePointer) -> Bool {
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestSignInit(context, &keyContext, digest, nil, key) == 1 else { return false }
        if pss {
            guard EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1,
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, RSA_PSS_SALTLEN_DIGEST) == 1,
                  EVP_PKEY_CTX_set_rsa_mgf1_md(keyContext, digest) == 1 else { return false }
        }
        return true
    }
}
