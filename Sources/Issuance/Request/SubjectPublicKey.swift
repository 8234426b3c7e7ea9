internal import COpenSSL

/// The request's public key as an `EVP_PKEY` in OpenSSL's default library context; the one
/// owner of that key, or its borrower from `ECKeyPool`, to which it goes back.
///
/// Requests are parsed without decoding their key (`StructureOnlyContext`), so the key is
/// built here from the parsed subjectPublicKeyInfo, without OpenSSL's per-key decoder
/// chain for every type but RSA-PSS. It accepts and refuses what OpenSSL's own parse
/// would have, except two RSA encodings it refuses on purpose (see `rsa`).
/// Lives only for the duration of one issuance, on one thread; it is not Sendable.
final class SubjectPublicKey {
    let pointer: OpaquePointer
    /// The curve whose `ECKeyPool` the key goes back to; nil for keys this object frees.
    private let pooledCurve: NamedCurve?

    private init(_ pointer: OpaquePointer, pooledCurve: NamedCurve? = nil) {
        self.pointer = pointer
        self.pooledCurve = pooledCurve
    }

    deinit {
        if let pooledCurve {
            ECKeyPool.shared.giveBack(pointer, curve: pooledCurve)
        } else {
            EVP_PKEY_free(pointer)
        }
    }

    /// An EC key on a named `curve` from the subjectPublicKey BIT STRING contents (an
    /// X9.62 point: uncompressed, compressed or hybrid); nil if the point is not on the
    /// curve or does not parse.
    ///
    /// The point goes through `EC_KEY_oct2key`, the very check OpenSSL's SubjectPublicKeyInfo
    /// decoder applies (`o2i_ECPublicKey`), but without a decoder context, and on a copy of
    /// a key of the curve kept for reuse (`ECKeyPool`) instead of a group built from its
    /// name each time.
    static func ec(curve: NamedCurve, point: UnsafePointer<UInt8>, length: Int) -> SubjectPublicKey? {
        if let key = ECKeyPool.shared.take(curve) {
            guard EVP_PKEY_set1_encoded_public_key(key, point, length) == 1 else {
                EVP_PKEY_free(key)
                return nil
            }
            return SubjectPublicKey(key, pooledCurve: curve)
        }
        var key: OpaquePointer? = nil
        guard ECDomainParameters.fromdata(curve: curve, point: point, length: length, into: &key) == 1, let key else {
            if let key { EVP_PKEY_free(key) }
            return nil
        }
        return SubjectPublicKey(key)
    }

    /// An RSA key (rsaEncryption) from the subjectPublicKey BIT STRING contents, the DER of
    /// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1);
    /// nil if it does not parse or a number is negative.
    ///
    /// OpenSSL 3.0's SubjectPublicKeyInfo decoder sets up a whole decoder chain for every
    /// key, which costs more than verifying an RSA signature; the two INTEGERs are parsed
    /// here by OpenSSL's DER functions and the key is made with `EVP_PKEY_fromdata`, the same
    /// key its decoder would have made. Unlike that decoder this refuses an indefinite
    /// length (BER), whose bytes the certificate would then have carried.
    static func rsa(publicKey bits: UnsafePointer<UInt8>, length: Int) -> SubjectPublicKey? {
        var cursor: UnsafePointer<UInt8>? = bits
        var contentLength = 0
        var tag: Int32 = 0
        var tagClass: Int32 = 0
        guard ASN1_get_object(&cursor, &contentLength, &tag, &tagClass, length) == V_ASN1_CONSTRUCTED,
              tag == V_ASN1_SEQUENCE, tagClass == V_ASN1_UNIVERSAL, let start = cursor else { return nil }
        let end = start + contentLength
        guard let modulus = d2i_ASN1_INTEGER(nil, &cursor, end - start) else { return nil }
        defer { ASN1_INTEGER_free(modulus) }
        guard let afterModulus = cursor, let exponent = d2i_ASN1_INTEGER(nil, &cursor, end - afterModulus) else { return nil }
        defer { ASN1_INTEGER_free(exponent) }
        guard cursor == end,
              let n = ASN1_INTEGER_to_BN(modulus, nil) else { return nil }
        defer { BN_free(n) }
        guard let e = ASN1_INTEGER_to_BN(exponent, nil) else { return nil }
        defer { BN_free(e) }
        guard BN_is_negative(n) == 0, BN_is_negative(e) == 0,
              let context = EVP_PKEY_CTX_new_from_name(nil, rsaName, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_fromdata_init(context) == 1,
              COpenSSL_EVP_PKEY_fromdata_RSA(context, &key, n, e) == 1, let key else {
            if let key { EVP_PKEY_free(key) }
            return nil
        }
        return SubjectPublicKey(key)
    }

    /// An Ed25519 or Ed448 key (RFC 8410) from the subjectPublicKey BIT STRING contents,
    /// which are the raw key; nil if the length is wrong. The caller checks that the
    /// AlgorithmIdentifier has no parameters, as OpenSSL's decoder would have.
    static func edwards(ed448: Bool, publicKey bits: UnsafePointer<UInt8>, length: Int) -> SubjectPublicKey? {
        let name: StaticString = ed448 ? "ED448" : "ED25519"
        let algorithm = UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
        return EVP_PKEY_new_raw_public_key_ex(nil, algorithm, nil, bits, length).map { SubjectPublicKey($0) }
    }

    /// Any other key type, decoded from the DER of `info` by OpenSSL's SubjectPublicKeyInfo
    /// decoder in the default context, as `d2i_X509_REQ` would have; nil if it does not decode.
    static func decoded(from info: OpaquePointer) -> SubjectPublicKey? {
        guard let der = OpenSSLBytes.der(info, { i2d_X509_PUBKEY($0, $1) }) else { return nil }
        let key: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        return key.map { SubjectPublicKey($0) }
    }

    /// "RSA" as a C string that outlives the context (see `ECDomainParameters.ecName`).
    private static var rsaName: UnsafePointer<CChar> {
        let name: StaticString = "RSA"
        return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// The domain parameters of every curve dropca knows, each as a parameters-only EC
/// `EVP_PKEY` in the default library context, made once per process.
///
/// Building a group from its name costs more than the rest of decoding a key (the
/// Montgomery constants are computed anew every time); copying a prepared one does not.
/// `SubjectPublicKey.ec` duplicates the curve's key (`EVP_PKEY_dup`) and sets the point on
/// the copy, so these keys are only ever read.
///
/// Ownership: one instance per process, created lazily by the `static let` (Swift runs the
/// initializer once, thread-safely) and never released before exit; it is the one owner of
/// its keys. After `init` nothing writes to them and `EVP_PKEY_dup` only reads its source
/// (taking references where it shares), which is why it is `@unchecked Sendable`.
final class ECDomainParameters: @unchecked Sendable {
    static let shared = ECDomainParameters()

    private let keys: [(nid: Int32, key: OpaquePointer)]

    private init() {
        var keys: [(nid: Int32, key: OpaquePointer)] = []
        for curve in NamedCurve.known {
            var key: OpaquePointer? = nil
            // A curve this OpenSSL cannot set up is left out: its keys then take the slower
            // path of `fromdata`, which fails or succeeds exactly as before.
            if Self.fromdata(curve: curve, point: nil, length: 0, into: &key) == 1, let key {
                keys.append((curve.nid, key))
            } else if let key {
                EVP_PKEY_free(key)
            }
        }
        OpenSSLError.clear()
        self.keys = keys
    }

    deinit {
        for (_, key) in keys { EVP_PKEY_free(key) }
    }

    /// The parameters-only key of `curve`, borrowed from this object; nil if it could not be made.
    func key(for curve: NamedCurve) -> OpaquePointer? {
        keys.first { $0.nid == curve.nid }?.key
    }

    /// `EVP_PKEY_fromdata` for an EC key on `curve`: parameters only when `point` is nil,
    /// else the public key at that point. Returns OpenSSL's status; `key` receives the result.
    static func fromdata(curve: NamedCurve, point: UnsafePointer<UInt8>?, length: Int, into key: inout OpaquePointer?) -> Int32 {
        guard let groupName = OBJ_nid2sn(curve.nid),
              let context = EVP_PKEY_CTX_new_from_name(nil, ecName, nil) else { return 0 }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_fromdata_init(context) == 1 else { return 0 }
        return COpenSSL_EVP_PKEY_fromdata_EC(context, &key, groupName, point, length)
    }

    /// "EC" as a C string that outlives the context: `EVP_PKEY_CTX_new_from_name` keeps the
    /// pointer it is given, so a Swift String's temporary C string will not do.
    private static var ecName: UnsafePointer<CChar> {
        let name: StaticString = "EC"
        return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
