internal import COpenSSL

/// How this CA signs: the digest fetched once (OpenSSL 3 fetches are costly per call) and
/// the padding for RSA keys, with a key file or a key on a token (``TokenSignature``). The
/// one owner of its `EVP_MD` and of its template `EVP_MD_CTX`.
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
    /// What signs: for a key file the initialised signing context that every signature
    /// copies; for a token its key and how to sign with it.
    private let backend: Backend

    private enum Backend {
        case file(template: OpaquePointer, key: OpaquePointer)
        case token(TokenKey, TokenSignature)
    }

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
        switch authority.signingKey {
        case .file(let key):
            // A CA key that cannot sign is refused here, at start and by check-config, rather
            // than once for every request.
            guard let template = Self.initializedContext(digest: digest, pss: pss, key: key) else {
                if let digest { EVP_MD_free(digest) }
                throw IssuerSetupError("the CA key cannot be set up for signing: \(OpenSSLError.drain("setting up signing").description)")
            }
            guard let algorithmIdentifier = Self.learnAlgorithmIdentifier(template: template, key: key) else {
                EVP_MD_CTX_free(template)
                if let digest { EVP_MD_free(digest) }
                throw IssuerSetupError("the CA key cannot sign a certificate: \(OpenSSLError.drain("signing a test certificate").description)")
            }
            self.backend = .file(template: template, key: key)
            self.algorithmIdentifier = algorithmIdentifier
        case .token(let token):
            let signature = TokenSignature(kind: kind, digest: digest, pss: pss)
            guard let publicKey = authority.publicKey,
                  let algorithmIdentifier = Self.algorithmIdentifier(digest: digest, pss: pss, publicKey: publicKey) else {
                if let digest { EVP_MD_free(digest) }
                throw IssuerSetupError("no signature algorithm for the CA certificate's key: \(OpenSSLError.drain("choosing the signature algorithm").description)")
            }
            // The token's key must be the certificate's: a signature by it has to verify
            // with the certificate's public key, now and whenever the token comes back.
            // Kept by the token for when it comes back, so it holds no pointer of this
            // signer's (which a reload frees) and no reference to the CA (which owns the
            // token): its own reference to the certificate's public key, and its own digest.
            guard let publicKey = OwnedPublicKey(authority.publicKey) else {
                if let digest { EVP_MD_free(digest) }
                throw IssuerSetupError("the CA certificate's public key cannot be kept for checking the token")
            }
            let check: @Sendable (TokenKey) -> String? = { token in
                var fetched: OpaquePointer? = nil
                if let digestName {
                    fetched = EVP_MD_fetch(nil, digestName, nil)
                    if fetched == nil { return "cannot fetch \(digestName)" }
                }
                defer { if let fetched { EVP_MD_free(fetched) } }
                return Self.tokenCheck(token, signature: TokenSignature(kind: kind, digest: fetched, pss: pss),
                                       publicKey: publicKey.key, digest: fetched, pss: pss)
            }
            if let problem = check(token) {
                if let digest { EVP_MD_free(digest) }
                throw IssuerSetupError(problem)
            }
            token.setRecoveryCheck(check)
            self.backend = .token(token, signature)
            self.algorithmIdentifier = algorithmIdentifier
        }
        self.digest = digest
        self.pss = pss
        self.authority = authority
        OpenSSLError.clear()
    }

    deinit {
        if case .file(let template, _) = backend { EVP_MD_CTX_free(template) }
        if let digest { EVP_MD_free(digest) }
    }

    /// Signs the DER of a TBSCertificate (or TBSCertList) and returns the DER of the signed
    /// structure; nil if OpenSSL or the token fails (OpenSSL's reasons are on its error
    /// queue; a token's in ``TokenKey/problem``).
    ///
    /// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
    func signedCertificate(tbs: [UInt8]) -> [UInt8]? {
        guard let signature = signature(over: tbs) else { return nil }
        var body = tbs
        body.reserveCapacity(tbs.count + algorithmIdentifier.count + signature.count + 8)
        body += algorithmIdentifier
        // BIT STRING with 0 unused bits.
        body += DER.header(tag: DER.bitString, length: signature.count + 1)
        body.append(0)
        body += signature
        return DER.wrap(tag: DER.sequence, body)
    }

    /// Whether the key is on a token, where a failed signature is the token's, not the request's.
    var signsOnToken: Bool {
        if case .token = backend { return true }
        return false
    }

    private func signature(over tbs: [UInt8]) -> [UInt8]? {
        switch backend {
        case .file(let template, let key):
            guard let context = EVP_MD_CTX_new() else { return nil }
            defer { EVP_MD_CTX_free(context) }
            guard EVP_MD_CTX_copy_ex(context, template) == 1 else { return nil }
            let capacity = Int(EVP_PKEY_get_size(key))
            guard capacity > 0 else { return nil }
            var signature = [UInt8](repeating: 0, count: capacity)
            var length = capacity
            guard EVP_DigestSign(context, &signature, &length, tbs, tbs.count) == 1, length <= capacity else { return nil }
            return Array(signature[..<length])
        case .token(let token, let signature):
            return signature.sign(tbs, with: token)
        }
    }

    /// Signs a random challenge on the token and verifies it with the certificate's public
    /// key; nil when it verifies, else why not.
    private static func tokenCheck(_ token: TokenKey, signature: TokenSignature, publicKey: OpaquePointer?, digest: OpaquePointer?, pss: Bool) -> String? {
        var challenge = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&challenge, 32) == 1, let publicKey else { return "cannot make a challenge for the token key" }
        guard let signed = signature.sign(challenge, with: token, checking: true) else {
            return "the key \(token.uri) on the token \(token.tokenLabel) does not sign: \(token.problem?.reason ?? "the token refused")"
        }
        guard let context = EVP_MD_CTX_new() else { return "out of memory" }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(context, &keyContext, digest, nil, publicKey) == 1,
              !pss || setPSS(keyContext, digest: digest),
              EVP_DigestVerify(context, signed, signed.count, challenge, challenge.count) == 1 else {
            OpenSSLError.clear()
            return "the key \(token.uri) on the token \(token.tokenLabel) does not belong to the CA certificate: its signature does not verify with the certificate's public key"
        }
        return nil
    }

    /// The AlgorithmIdentifier OpenSSL writes for these settings, from a verify context on
    /// the public key (a token key cannot sign through OpenSSL; see
    /// ``learnAlgorithmIdentifier(template:key:)`` for a key file).
    private static func algorithmIdentifier(digest: OpaquePointer?, pss: Bool, publicKey: OpaquePointer) -> [UInt8]? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(context, &keyContext, digest, nil, publicKey) == 1, !pss || setPSS(keyContext, digest: digest) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        var length = 0
        guard COpenSSL_signature_algorithm_id(keyContext, &buffer, buffer.count, &length) == 1, length > 0 else { return nil }
        return Array(buffer.prefix(length))
    }

    private static func setPSS(_ keyContext: OpaquePointer?, digest: OpaquePointer?) -> Bool {
        EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, RSA_PSS_SALTLEN_DIGEST) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(keyContext, digest) == 1
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
        return !pss || setPSS(keyContext, digest: digest)
    }
}

/// A reference of its own to an `EVP_PKEY` (up-ref'd, freed at deinit), for a check that
/// outlives the signer and the CA that made it.
private final class OwnedPublicKey: @unchecked Sendable {
    let key: OpaquePointer

    init?(_ key: OpaquePointer?) {
        guard let key, EVP_PKEY_up_ref(key) == 1 else { return nil }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }
}
