internal import COpenSSL

extension IssuancePolicy {
    /// Classifies the request's key and applies the key rules of the policy.
    ///
    /// Runs before the self-signature is verified: a 60,000-bit RSA key should cost
    /// nothing to refuse, and an unknown algorithm cannot be verified anyway.
    func checkKey(of request: SigningRequest) throws(Rejection) -> (kind: PublicKeyKind, key: SubjectPublicKey) {
        guard let info = request.publicKeyInfo else {
            throw Rejection(.unparseable, "the request has no subject public key")
        }
        var algorithmObject: OpaquePointer? = nil
        var keyBits: UnsafePointer<UInt8>? = nil
        var keyLength: Int32 = 0
        var algorithm: UnsafeMutablePointer<X509_ALGOR>? = nil
        guard X509_PUBKEY_get0_param(&algorithmObject, &keyBits, &keyLength, &algorithm, info) == 1 else {
            throw Rejection(.unparseable, "the request's subject public key does not parse")
        }
        let nid = OBJ_obj2nid(algorithmObject)
        // The key is decoded only for the key types dropca accepts (the request was parsed
        // without decoding it, see StructureOnlyContext); a key that does not decode leaves
        // nil and OpenSSL's reasons are dropped, as the reason below says what is wrong.
        func decoded(_ make: () -> SubjectPublicKey?) -> SubjectPublicKey? {
            OpenSSLError.clear()
            defer { OpenSSLError.clear() }
            return make()
        }

        switch nid {
        case NID_rsaEncryption, NID_rsassaPss:
            try requireAllowedType(nid == NID_rsassaPss ? PublicKeyKind.rsaPSSPolicyName : PublicKeyKind.rsaPolicyName)
            if nid == NID_rsaEncryption {
                try requireNullParameters(of: algorithm)
            }
            // RSA-PSS keys carry parameters that restrict their use; OpenSSL's decoder checks them.
            let key = decoded {
                nid == NID_rsassaPss ? SubjectPublicKey.decoded(from: info)
                    : keyBits.flatMap { SubjectPublicKey.rsa(publicKey: $0, length: Int(keyLength)) }
            }
            guard let key else {
                throw Rejection(.unparseable, "the request's RSA public key does not parse")
            }
            let bits = Int(EVP_PKEY_get_bits(key.pointer))
            try checkRSA(key: key.pointer, bits: bits)
            return (nid == NID_rsassaPss ? .rsaPSS(bits: bits) : .rsa(bits: bits), key)

        case NID_X9_62_id_ecPublicKey:
            let curve = try allowedCurve(of: algorithm)
            try requireAllowedType(curve.name)
            let key = decoded {
                keyBits.flatMap { SubjectPublicKey.ec(curve: curve, point: $0, length: Int(keyLength)) }
            }
            guard let key else {
                throw Rejection(.unparseable, "the request's EC public key is not a valid point on \(curve.name)")
            }
            return (.ec(curve), key)

        case NID_ED25519, NID_ED448:
            let name = nid == NID_ED25519 ? PublicKeyKind.ed25519PolicyName : PublicKeyKind.ed448PolicyName
            try requireAllowedType(name)
            var parameterType: Int32 = V_ASN1_UNDEF
            X509_ALGOR_get0(nil, &parameterType, nil, algorithm)
            // RFC 8410 3: the parameters MUST be absent.
            let key = parameterType != V_ASN1_UNDEF ? nil : decoded {
                keyBits.flatMap { SubjectPublicKey.edwards(ed448: nid == NID_ED448, publicKey: $0, length: Int(keyLength)) }
            }
            guard let key else {
                throw Rejection(.unparseable, "the request's \(name) public key does not parse")
            }
            return (nid == NID_ED25519 ? .ed25519 : .ed448, key)

        case NID_dsa:
            throw Rejection(.keyTypeNotAllowed, "DSA keys are not accepted; use RSA, EC (\(curveList)), Ed25519 or Ed448")

        default:
            let name = OpenSSLBytes.describe(algorithmObject)
            throw Rejection(.keyTypeNotAllowed, "key algorithm \(name) is not accepted; use RSA, EC (\(curveList)), Ed25519 or Ed448")
        }
    }

    /// Refuses a key type outside `policy.allowed_key_types` before the key is decoded: a
    /// type the policy refuses should cost nothing.
    private func requireAllowedType(_ name: String) throws(Rejection) {
        guard let allowedKeyTypes, !allowedKeyTypes.contains(name) else { return }
        let list = allowedKeyTypes.isEmpty ? "none allowed" : allowedKeyTypes.joined(separator: ", ")
        throw Rejection(.keyTypeNotAllowed, "key type \(name) is not in policy.allowed_key_types (\(list))")
    }

    private var curveList: String {
        allowedCurves.isEmpty ? "none allowed" : allowedCurves.map(\.name).joined(separator: ", ")
    }

    private func checkRSA(key: OpaquePointer, bits: Int) throws(Rejection) {
        if bits < minRSABits {
            throw Rejection(.rsaKeyTooSmall, "RSA key of \(bits) bits is below policy.min_rsa_bits = \(minRSABits)")
        }
        if bits > Self.maxRSABits {
            throw Rejection(.rsaKeyTooLarge, "RSA key of \(bits) bits is above the limit of \(Self.maxRSABits) bits")
        }
        var exponent: OpaquePointer? = nil
        guard EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &exponent) == 1, let exponent else {
            throw Rejection(.unparseable, "the request's RSA public exponent does not parse")
        }
        defer { BN_free(exponent) }
        let three = BN_new()
        defer { BN_free(three) }
        BN_set_word(three, 3)
        if BN_is_odd(exponent) == 0 || BN_cmp(exponent, three) < 0 {
            let hex = BN_bn2hex(exponent).map { pointer -> String in
                defer { COpenSSL_OPENSSL_free(pointer) }
                return String(cString: pointer)
            } ?? "?"
            throw Rejection(.rsaBadExponent, "RSA public exponent 0x\(hex) is not allowed: it must be odd and at least 3")
        }
    }

    /// rsaEncryption keys carry NULL parameters (RFC 3279 2.3.1); absent ones are tolerated,
    /// as some encoders leave them out. OpenSSL decodes the key whatever the parameters
    /// are, but the certificate copies them as they are, so anything else is refused here
    /// instead of failing later as an issuer failure, or reaching the certificate.
    /// (RSA-PSS parameters are checked by OpenSSL when it decodes the key.)
    private func requireNullParameters(of algorithm: UnsafeMutablePointer<X509_ALGOR>?) throws(Rejection) {
        var parameterType: Int32 = V_ASN1_UNDEF
        var parameter: UnsafeRawPointer? = nil
        X509_ALGOR_get0(nil, &parameterType, &parameter, algorithm)
        guard parameterType == V_ASN1_NULL || parameterType == V_ASN1_UNDEF else {
            throw Rejection(.unparseable, "the request's RSA key has algorithm parameters other than NULL; rsaEncryption keys carry NULL parameters (RFC 3279)")
        }
    }

    /// The named curve of an EC key; explicit parameters are refused because a crafted
    /// curve can look like a standard one while being weak.
    private func allowedCurve(of algorithm: UnsafeMutablePointer<X509_ALGOR>?) throws(Rejection) -> NamedCurve {
        var parameterType: Int32 = V_ASN1_UNDEF
        var parameter: UnsafeRawPointer? = nil
        X509_ALGOR_get0(nil, &parameterType, &parameter, algorithm)
        guard parameterType == V_ASN1_OBJECT, let parameter else {
            throw Rejection(.explicitCurveParameters, "EC key with explicit or inherited curve parameters; only named curves are accepted (policy.allowed_curves = \(curveList))")
        }
        let curveNID = OBJ_obj2nid(OpaquePointer(parameter))
        guard let curve = allowedCurves.first(where: { $0.nid == curveNID }) else {
            throw Rejection(.curveNotAllowed, "EC curve \(NamedCurve.name(ofNID: curveNID)) is not in policy.allowed_curves (\(curveList))")
        }
        return curve
    }
}
