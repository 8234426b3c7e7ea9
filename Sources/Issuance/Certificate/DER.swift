internal import COpenSSL

/// Joining DER values that OpenSSL encoded into the structures that hold them.
///
/// Every field of a certificate is encoded by OpenSSL (`i2d_*`); what is written here is
/// only the tag and length octets of the SEQUENCEs, OCTET STRINGs and context tags around
/// them, and the three octets of BOOLEAN TRUE, so a certificate can be assembled from its
/// fields without building an `X509` object first and having OpenSSL copy, re-encode and
/// free it all again for each certificate.
enum DER {
    static let sequence: UInt8 = 0x30
    static let bitString: UInt8 = 0x03
    static let octetString: UInt8 = 0x04
    /// BOOLEAN TRUE, as DER writes it.
    static let booleanTrue: [UInt8] = [0x01, 0x01, 0xFF]
    /// `[3] EXPLICIT`, the TBSCertificate's extensions field.
    static let extensionsTag: UInt8 = 0xA3
    /// `[0] EXPLICIT INTEGER 2`: the TBSCertificate version field for version 3.
    static let version3: [UInt8] = [0xA0, 0x03, 0x02, 0x01, 0x02]

    /// Tag and definite-length octets for `length` content octets.
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

    /// `contents` with a header of `tag` in front.
    static func wrap(tag: UInt8, _ contents: [UInt8]) -> [UInt8] {
        var out = header(tag: tag, length: contents.count)
        out.reserveCapacity(out.count + contents.count)
        out += contents
        return out
    }

    /// Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
    /// extnValue OCTET STRING }, the OID encoded by OpenSSL; `extnValue` is the whole DER
    /// of the OCTET STRING. Nil when OpenSSL cannot encode the OID.
    static func `extension`(_ oid: OpaquePointer?, critical: Bool, extnValue: [UInt8]) -> [UInt8]? {
        var body: [UInt8] = []
        guard let oid, append(to: &body, { i2d_ASN1_OBJECT(oid, $0) }) else { return nil }
        if critical { body += booleanTrue }
        body += extnValue
        return wrap(tag: sequence, body)
    }

    /// Appends the DER that `encode` (an `i2d_*` call) writes to `buffer`; false when
    /// OpenSSL cannot encode the object.
    static func append(to buffer: inout [UInt8], _ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>) -> Int32) -> Bool {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = encode(&out)
        guard length > 0, let bytes = out else { return false }
        defer { COpenSSL_OPENSSL_free(bytes) }
        buffer.append(contentsOf: UnsafeBufferPointer(start: bytes, count: Int(length)))
        return true
    }
}
