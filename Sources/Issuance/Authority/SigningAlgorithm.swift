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
    /// The DER of the AlgorithmIdentifier this signer writes into both signature fields of
    /// a certificate, as OpenSSL's signature provider reports it (`X509_sign_ctx`) when
    /// signing a throwaway certificate at set-up.
    let algorithmIdentifier: [UInt8]
    /// Keeps the CA, and so its private key, alive as long as this signs with it.
    private let authority: CertificateAuthority
    /// The initialised signing context that `signedCertificate` copies.
    private let template: OpaquePointer

    init(authority: CertificateAuthority, rsaScheme: RSASignatureScheme) throws(IssuerSetupError) {
        let kind = authority.keyKind
        let digestName: String?
        let pss: Bool
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
        OpenSSLError.clear()
        var digest: OpaquePointer? = nil
        if let digestName {
            guard let fetched = EVP_MD_fetch(nil, digestName, nil) else {
                throw IssuerSetupError(OpenSSLError.drain("fetching \(digestName)").description)
            }
            digest = fetched
        }
        // A CA key that cannot sign is refused here, at start and by check-config, rather
        // than once for every request.
        guard let template = Self.initializedContext(digest: digest, pss: pss, key: authority.privateKey) else {
            if let digest { EVP_MD_free(digest) }
            throw IssuerSetupError("the CA key cannot be set up for signing: \(OpenSSLError.drain("setting up signing").description)")
        }
        guard let algorithmIdentifier = Self.learnAlgorithmIdentifier(template: template, key: authority.privateKey) else {
            EVP_MD_CTX_free(template)
            if let digest { EVP_MD_free(digest) }
            throw IssuerSetupError("the CA key cannot sign a certificate: \(OpenSSLError.drain("signing a test certificate").description)")
        }
        self.digest = digest
        self.pss = pss
        self.authority = authority
        self.template = template
        self.algorithmIdentifier = algorithmIdentifier
        OpenSSLError.clear()
    }

    deinit {
        EVP_MD_CTX_free(template)
        if let digest { EVP_MD_free(digest) }
    }

    /// Signs the DER of a TBSCertificate and returns the DER of the Certificate; nil if
    /// OpenSSL fails (its reasons are on the error queue).
    ///
    /// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
    func signedCertificate(tbs: [UInt8]) -> [UInt8]? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_MD_CTX_copy_ex(context, template) == 1 else { return nil }
        let capacity = Int(EVP_PKEY_get_size(authority.privateKey))
        guard capacity > 0 else { return nil }
        var signature = [UInt8](repeating: 0, count: capacity)
        var length = capacity
        guard EVP_DigestSign(context, &signature, &length, tbs, tbs.count) == 1, length <= capacity else { return nil }
        var body = tbs
        body.reserveCapacity(tbs.count + algorithmIdentifier.count + length + 8)
        body += algorithmIdentifier
        // BIT STRING with 0 unused bits.
        body += DER.header(tag: DER.bitString, length: length + 1)
        body.append(0)
        body += signature[..<length]
        return DER.wrap(tag: DER.sequence, body)
    }

    /// The AlgorithmIdentifier `X509_sign_ctx` writes with a copy of `template`, learnt by
    /// signing an empty certificate; nil if that fails.
    private static func learnAlgorithmIdentifier(template: OpaquePointer, key: OpaquePointer) -> [UInt8]? {
        guard let probe = X509_new(), let context = EVP_MD_CTX_new() else { return nil }
        defer {
            X509_free(probe)
            EVP_MD_CTX_free(context)
        }
        var signature: UnsafePointer<ASN1_BIT_STRING>? = nil
        var algorithm: UnsafePointer<X509_ALGOR>? = nil
        // An empty certificate, but one that encodes: version 3, a serial, a validity period
        // and a public key (the CA's own).
        guard X509_set_version(probe, 2) == 1, ASN1_INTEGER_set(X509_get_serialNumber(probe), 1) == 1,
              ASN1_TIME_set(X509_getm_notBefore(probe), 0) != nil, ASN1_TIME_set(X509_getm_notAfter(probe), 0) != nil,
              X509_set_pubkey(probe, key) == 1,
              EVP_MD_CTX_copy_ex(context, template) == 1,
              X509_sign_ctx(probe, context) > 0 else { return nil }
        X509_get0_signature(&signature, &algorithm, probe)
        guard let algorithm, let tbsAlgorithm = X509_get0_tbs_sigalg(probe), X509_ALGOR_cmp(algorithm, tbsAlgorithm) == 0,
              let der = OpenSSLBytes.der(algorithm, { i2d_X509_ALGOR($0, $1) }) else { return nil }
        return der
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
