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

/// A set of Key Usage bits, kept as a mask (bit n is `KeyUsageBit(rawValue: n)`): the
/// filter runs for every certificate, and a `Set` costs hashing for nine flags.
struct KeyUsageBits: OptionSet, Equatable {
    let rawValue: UInt16

    init(rawValue: UInt16) { self.rawValue = rawValue }

    init(_ bits: [KeyUsageBit]) {
        self.rawValue = bits.reduce(0) { $0 | 1 << UInt16($1.rawValue) }
    }

    static let all = KeyUsageBits(KeyUsageBit.allCases)

    func contains(_ bit: KeyUsageBit) -> Bool { rawValue & 1 << UInt16(bit.rawValue) != 0 }

    /// The bits in RFC 5280 order.
    var members: [KeyUsageBit] { KeyUsageBit.allCases.filter(contains) }
}

/// Removes from a requested Key Usage what a leaf certificate, or its key, cannot do.
///
/// A leaf may never sign certificates or CRLs (RFC 5280 4.2.1.9). RSA keys cannot agree
/// keys; EC keys cannot encipher (they agree keys instead); Ed25519/Ed448 keys only sign
/// (RFC 8410 section 5). RSASSA-PSS keys are restricted to signing by their algorithm
/// identifier (RFC 4055 section 1.2), so they lose the encipherment bits as well.
/// encipherOnly and decipherOnly mean nothing without keyAgreement (RFC 5280 4.2.1.3).
enum KeyUsageFilter {
    static func allowed(for kind: PublicKeyKind) -> KeyUsageBits {
        let leaf = KeyUsageBits.all.subtracting(KeyUsageBits([.keyCertSign, .cRLSign]))
        switch kind {
        case .rsa:
            return leaf.subtracting(KeyUsageBits([.keyAgreement, .encipherOnly, .decipherOnly]))
        case .rsaPSS:
            return leaf.subtracting(KeyUsageBits([.keyAgreement, .encipherOnly, .decipherOnly, .keyEncipherment, .dataEncipherment]))
        case .ec:
            return leaf.subtracting(KeyUsageBits([.keyEncipherment, .dataEncipherment]))
        case .ed25519, .ed448:
            return KeyUsageBits([.digitalSignature, .nonRepudiation])
        }
    }

    /// The bits set in a DER Key Usage value.
    static func bits(inValue value: [UInt8]) -> KeyUsageBits {
        value.withUnsafeBufferPointer { buffer -> KeyUsageBits in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let bitString = d2i_ASN1_BIT_STRING(nil, &cursor, buffer.count) else { return [] }
            defer { ASN1_BIT_STRING_free(bitString) }
            var bits: KeyUsageBits = []
            for bit in KeyUsageBit.allCases where ASN1_BIT_STRING_get_bit(bitString, Int32(bit.rawValue)) == 1 {
                bits.insert(KeyUsageBits([bit]))
            }
            return bits
        }
    }

    /// What remains of `requested` for a key of `kind`, and what was taken away.
    static func filter(_ requested: KeyUsageBits, for kind: PublicKeyKind) -> (kept: KeyUsageBits, removed: KeyUsageBits) {
        var kept = requested.intersection(allowed(for: kind))
        if !kept.contains(.keyAgreement) {
            kept.subtract(KeyUsageBits([.encipherOnly, .decipherOnly]))
        }
        return (kept, requested.subtracting(kept))
    }

    /// The DER of a Key Usage value with exactly `bits` set (minimal, as DER requires).
    static func encode(_ bits: KeyUsageBits) -> [UInt8]? {
        guard let bitString = ASN1_BIT_STRING_new() else { return nil }
        defer { ASN1_BIT_STRING_free(bitString) }
        for bit in bits.members {
            guard ASN1_BIT_STRING_set_bit(bitString, Int32(bit.rawValue), 1) == 1 else { return nil }
        }
        return OpenSSLBytes.der(bitString, i2d_ASN1_BIT_STRING)
    }
}
