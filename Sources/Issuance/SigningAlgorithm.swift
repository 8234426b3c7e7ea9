internal import COpenSSL

/// How this CA signs: the digest fetched once (OpenSSL 3 fetches are costly per call) and
/// the padding for RSA keys. The one owner of its `EVP_MD`.
final class SigningAlgorithm {
    /// nil for EdDSA, which signs the message itself.
    let digest: OpaquePointer?
    let pss: Bool

    init(key kind: PublicKeyKind, rsaScheme: RSASignatureScheme) throws(IssuerSetupError) {
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
        if let digestName {
            OpenSSLError.clear()
            guard let digest = EVP_MD_fetch(nil, digestName, nil) else {
                throw IssuerSetupError(OpenSSLError.drain("fetching \(digestName)").description)
            }
            self.digest = digest
        } else {
            self.digest = nil
        }
    }

    deinit {
        if let digest { EVP_MD_free(digest) }
    }

    /// Signs `certificate` with `key`, filling in both signature algorithm fields.
    func sign(_ certificate: OpaquePointer, with key: OpaquePointer) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestSignInit(context, &keyContext, digest, nil, key) == 1 else { return false }
        if pss {
            guard EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1,
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, RSA_PSS_SALTLEN_DIGEST) == 1,
                  EVP_PKEY_CTX_set_rsa_mgf1_md(keyContext, digest) == 1 else { return false }
        }
        return X509_sign_ctx(certificate, context) > 0
    }
}
