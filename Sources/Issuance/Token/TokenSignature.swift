internal import COpenSSL
internal import CPKCS11

/// How a CA key on a token signs what OpenSSL would sign with a key file: the same
/// algorithm (digest and padding as ``SigningAlgorithm`` chooses them), the same bytes in the
/// signature BIT STRING.
///
/// The message is hashed here and only the hash goes to the token (CKM_ECDSA, CKM_RSA_PKCS
/// over a DigestInfo, CKM_RSA_PKCS_PSS), the mechanisms every token has; EdDSA signs the
/// message itself (CKM_EDDSA). ECDSA comes back as r||s and is written as the DER
/// ECDSA-Sig-Value certificates carry.
struct TokenSignature {
    let kind: PublicKeyKind
    /// nil for EdDSA. Borrowed from the ``SigningAlgorithm`` that owns it.
    let digest: OpaquePointer?
    let pss: Bool

    /// The signature of `message` by `key`, as it goes into a certificate or CRL; nil when
    /// the token refused (``TokenKey/problem`` says why) or the digest failed.
    ///
    /// `checking`: see ``TokenKey/sign(_:mechanism:parameter:checking:)``.
    func sign(_ message: [UInt8], with key: TokenKey, checking: Bool = false) -> [UInt8]? {
        guard let digest else {
            return key.sign(message, mechanism: CK_MECHANISM_TYPE(CKM_EDDSA), checking: checking)
        }
        guard let hash = Self.hash(message, digest) else { return nil }
        switch kind {
        case .ec:
            guard let raw = key.sign(hash, mechanism: CK_MECHANISM_TYPE(CKM_ECDSA), checking: checking) else { return nil }
            return Self.derECDSASignature(raw)
        case .rsa, .rsaPSS:
            if pss {
                guard let parameter = Self.pssParameter(digest) else { return nil }
                return key.sign(hash, mechanism: CK_MECHANISM_TYPE(CKM_RSA_PKCS_PSS), parameter: parameter, checking: checking)
            }
            guard let prefix = Self.digestInfoPrefix(digest) else { return nil }
            return key.sign(prefix + hash, mechanism: CK_MECHANISM_TYPE(CKM_RSA_PKCS), checking: checking)
        case .ed25519, .ed448:
            return key.sign(message, mechanism: CK_MECHANISM_TYPE(CKM_EDDSA), checking: checking)
        }
    }

    private static func hash(_ message: [UInt8], _ digest: OpaquePointer) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_Digest(message, message.count, &out, &length, digest, nil) == 1 else { return nil }
        return Array(out.prefix(Int(length)))
    }

    /// The DER DigestInfo before the hash (RFC 8017 9.2, note 1), for the digests dropca signs with.
    private static func digestInfoPrefix(_ digest: OpaquePointer) -> [UInt8]? {
        switch EVP_MD_get_size(digest) {
        case 32: [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
        case 48: [0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30]
        case 64: [0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40]
        default: nil
        }
    }

    /// CK_RSA_PKCS_PSS_PARAMS as SigningAlgorithm's PSS is set up: MGF1 with the same
    /// digest, salt as long as the digest.
    private static func pssParameter(_ digest: OpaquePointer) -> [UInt8]? {
        let size = Int(EVP_MD_get_size(digest))
        let (hash, mgf): (Int32, Int32) = switch size {
        case 32: (Int32(CKM_SHA256), Int32(CKG_MGF1_SHA256))
        case 48: (Int32(CKM_SHA384), Int32(CKG_MGF1_SHA384))
        case 64: (Int32(CKM_SHA512), Int32(CKG_MGF1_SHA512))
        default: (0, 0)
        }
        guard hash != 0 else { return nil }
        var parameter = CK_RSA_PKCS_PSS_PARAMS(hashAlg: CK_MECHANISM_TYPE(hash), mgf: CK_RSA_PKCS_MGF_TYPE(mgf), sLen: CK_ULONG(size))
        return withUnsafeBytes(of: &parameter) { Array($0) }
    }

    /// r||s (each half the length) as DER ECDSA-Sig-Value.
    private static func derECDSASignature(_ raw: [UInt8]) -> [UInt8]? {
        guard !raw.isEmpty, raw.count % 2 == 0, let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let half = raw.count / 2
        guard let r = BN_bin2bn(raw, Int32(half), nil) else { return nil }
        guard let s = Array(raw[half...]).withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, Int32(half), nil) }) else {
            BN_free(r)
            return nil
        }
        // The signature owns r and s from here.
        guard ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        return OpenSSLBytes.der(signature, { i2d_ECDSA_SIG($0, $1) })
    }
}
