internal import COpenSSL

/// How this CA signs: the digest fetched once (OpenSSL 3 fetches are costly per call) and
/// the padding for RSA keys. The one owner of its `EVP_MD`, of its template `EVP_MD_CTX` and
/// of the `X509_ALGOR` it writes into certificates.
///
/// Setting up a signing context (`EVP_DigestSignInit`) fetches the signature
/// implementation and makes a key context on every call; the template is set up once with
/// the CA key, digest and padding, and every certificate is signed with a copy of it
/// (`EVP_MD_CTX_copy_ex`). Copying only reads the template (the copy takes its own
/// references to key, digest and provider contexts), so workers may copy it at once. The
/// `X509_ALGOR` is likewise only read (`X509_ALGOR_copy`) after `init`.
final class SigningAlgorithm {
    /// nil for EdDSA, which signs the message itself.
    let digest: OpaquePointer?
    let pss: Bool
    /// Keeps the CA, and so its private key, alive as long as this signs with it.
    private let authority: CertificateAuthority
    /// The initialised signing context that `sign` copies; nil if it could not be set up,
    /// in which case every signature sets up its own context and reports its own failure.
    private let template: OpaquePointer?
    /// The AlgorithmIdentifier this signer writes into both signature fields, as OpenSSL's
    /// signature provider reported it when signing a throwaway certificate at set-up; the
    /// one owner of this `X509_ALGOR`. nil when it could not be learnt: `signedCertificate`
    /// then signs with `X509_sign_ctx` and encodes with `i2d_X509`, the same bytes, slower.
    private let algorithmIdentifier: (algor: UnsafeMutablePointer<X509_ALGOR>, der: [UInt8])?

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
        let template = Self.initializedContext(digest: digest, pss: pss, key: authority.privateKey)
        self.template = template
        self.algorithmIdentifier = template.flatMap { Self.learnAlgorithmIdentifier(template: $0, key: authority.privateKey) }
        OpenSSLError.clear()
    }

    deinit {
        if let algorithmIdentifier { X509_ALGOR_free(algorithmIdentifier.algor) }
        if let template { EVP_MD_CTX_free(template) }
        if let digest { EVP_MD_free(digest) }
    }

    /// Signs `certificate` with the CA key, filling in both signature algorithm fields
    /// (`X509_sign_ctx`); the path `signedCertificate` falls back to.
    private func sign(_ certificate: OpaquePointer) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        if let template {
            guard EVP_MD_CTX_copy_ex(context, template) == 1 else { return false }
        } else {
            guard Self.initialize(context, digest: digest, pss: pss, key: authority.privateKey) else { return false }
        }
        return X509_sign_ctx(certificate, context) > 0
    }

    enum SignedCertificate {
        case signed([UInt8])
        case signingFailed
        case encodingFailed
    }

    /// Signs `certificate` and returns its DER.
    ///
    /// `X509_sign_ctx` encodes the TBSCertificate to sign it and `i2d_X509` then encodes it
    /// all over again; here the TBSCertificate is encoded once (`i2d_re_X509_tbs`, after
    /// setting its signature AlgorithmIdentifier exactly as `X509_sign_ctx` would), signed,
    /// and the Certificate SEQUENCE is written around those bytes. The `X509` object's own
    /// outer signature fields stay empty: it is freed right after.
    func signedCertificate(_ certificate: OpaquePointer) -> SignedCertificate {
        guard let algorithmIdentifier, let template else {
            guard sign(certificate) else { return .signingFailed }
            guard let der = OpenSSLBytes.der(certificate, { i2d_X509($0, $1) }) else { return .encodingFailed }
            return .signed(der)
        }
        guard let tbsAlgorithm = X509_get0_tbs_sigalg(certificate),
              X509_ALGOR_copy(UnsafeMutablePointer(mutating: tbsAlgorithm), algorithmIdentifier.algor) == 1 else {
            return .signingFailed
        }
        guard let tbs = OpenSSLBytes.der(certificate, { i2d_re_X509_tbs($0, $1) }) else { return .encodingFailed }
        guard let context = EVP_MD_CTX_new() else { return .signingFailed }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_MD_CTX_copy_ex(context, template) == 1 else { return .signingFailed }
        let capacity = Int(EVP_PKEY_get_size(authority.privateKey))
        guard capacity > 0 else { return .signingFailed }
        var signature = [UInt8](repeating: 0, count: capacity)
        var length = capacity
        guard EVP_DigestSign(context, &signature, &length, tbs, tbs.count) == 1, length <= capacity else { return .signingFailed }
        // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, BIT STRING (0 unused bits) }
        let bitString = DER.header(tag: 0x03, length: length + 1) + [0x00] + signature[..<length]
        let body = tbs + algorithmIdentifier.der + bitString
        return .signed(DER.header(tag: 0x30, length: body.count) + body)
    }

    /// The AlgorithmIdentifier `X509_sign_ctx` writes with a copy of `template`, learnt by
    /// signing an empty certificate; nil if that fails.
    private static func learnAlgorithmIdentifier(template: OpaquePointer, key: OpaquePointer) -> (algor: UnsafeMutablePointer<X509_ALGOR>, der: [UInt8])? {
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
              let der = OpenSSLBytes.der(algorithm, { i2d_X509_ALGOR($0, $1) }),
              let copy = X509_ALGOR_dup(algorithm) else { return nil }
        return (copy, der)
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

/// DER tag and length octets.
enum DER {
    static func header(tag: UInt8, length: Int) -> [UInt8] {
        if length < 0x80 { return [tag, UInt8(length)] }
        var octets: [UInt8] = []
        var rest = length
        while rest > 0 {
            octets.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [tag, 0x80 | UInt8(octets.count)] + octets
    }
}
