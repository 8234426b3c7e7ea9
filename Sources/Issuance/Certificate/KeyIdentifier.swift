internal import COpenSSL

/// Key identifiers by RFC 5280 4.2.1.2 method (1): the SHA-1 of the subjectPublicKey
/// BIT STRING's value, excluding tag, length and unused-bits octet.
enum KeyIdentifier {
    static func of(_ publicKeyInfo: OpaquePointer?) -> [UInt8] {
        guard let publicKeyInfo else { return [] }
        var bits: UnsafePointer<UInt8>? = nil
        var length: Int32 = 0
        guard X509_PUBKEY_get0_param(nil, &bits, &length, nil, publicKeyInfo) == 1, let bits else { return [] }
        return MessageDigests.sha1(bits, count: Int(length))
    }
}
