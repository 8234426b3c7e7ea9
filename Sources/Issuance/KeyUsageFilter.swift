internal import COpenSSL

/// Key Usage bits, numbered as in RFC 5280 4.2.1.3.
enum KeyUsageBit: Int, CaseIterable {
    case digitalSignature = 0
    case nonRepudiation = 1
    case keyEncipherment = 2
    case dataEncipherment = 3
    case keyAgreement = 4
    case keyCertSign = 5
    case cRLSign = 6
    case encipherOnly = 7
    case decipherOnly = 8

    var name: String { String(describing: self) }
}

/// Removes from a requested Key Usage what a leaf certificate, or its key, cannot do.
///
/// A leaf may never sign certificates or CRLs (RFC 5280 4.2.1.9). RSA keys cannot agree
/// keys; EC keys cannot encipher (they agree keys instead); Ed25519/Ed448 keys only sign
/// (RFC 8410 section 5). RSASSA-PSS keys are restricted to signing by their algorithm
/// identifier (RFC 4055 section 1.2), so they lose the encipherment bits as well.
/// encipherOnly and decipherOnly mean nothing without keyAgreement (RFC 5280 4.2.1.3).
enum KeyUsageFilter {
    static func allowed(for kind: PublicKeyKind) -> Set<KeyUsageBit> {
        let leaf: Set<KeyUsageBit> = Set(KeyUsageBit.allCases).subtracting([.keyCertSign, .cRLSign])
        switch kind {
        case .rsa:
            return leaf.subtracting([.keyAgreement, .encipherOnly, .decipherOnly])
        case .rsaPSS:
            return leaf.subtracting([.keyAgreement, .encipherOnly, .decipherOnly, .keyEncipherment, .dataEncipherment])
        case .ec:
            return leaf.subtracting([.keyEncipherment, .dataEncipherment])
        case .ed25519, .ed448:
            return [.digitalSignature, .nonRepudiation]
        }
    }

    /// The bits set in a DER Key Usage value.
    static func bits(inValue value: [UInt8]) -> Set<KeyUsageBit> {
        value.withUnsafeBufferPointer { buffer -> Set<KeyUsageBit> in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let bitString = d2i_ASN1_BIT_STRING(nil, &cursor, buffer.count) else { return [] }
            defer { ASN1_BIT_STRING_free(bitString) }
            return Set(KeyUsageBit.allCases.filter { ASN1_BIT_STRING_get_bit(bitString, Int32($0.rawValue)) == 1 })
        }
    }

    /// What remains of `requested` for a key of `kind`, and what was taken away.
    static func filter(_ requested: Set<KeyUsageBit>, for kind: PublicKeyKind) -> (kept: Set<KeyUsageBit>, removed: Set<KeyUsageBit>) {
        var kept = requested.intersection(allowed(for: kind))
        if !kept.contains(.keyAgreement) {
            kept.subtract([.encipherOnly, .decipherOnly])
        }
        return (kept, requested.subtracting(kept))
    }

    /// The DER of a Key Usage value with exactly `bits` set (minimal, as DER requires).
    static func encode(_ bits: Set<KeyUsageBit>) -> [UInt8]? {
        guard let bitString = ASN1_BIT_STRING_new() else { return nil }
        defer { ASN1_BIT_STRING_free(bitString) }
        for bit in bits {
            guard ASN1_BIT_STRING_set_bit(bitString, Int32(bit.rawValue), 1) == 1 else { return nil }
        }
        return OpenSSLBytes.der(bitString, i2d_ASN1_BIT_STRING)
    }
}
