import SwiftASN1

/// The fields of certificates and requests that the tests compare byte for byte, read with
/// swift-asn1 rather than OpenSSL so that our output is not judged by the library that
/// produced it.
public struct CertificateFields: Sendable {
    public let version: Int
    public let serial: [UInt8]
    public let issuer: [UInt8]
    public let subject: [UInt8]
    public let subjectPublicKeyInfo: [UInt8]
    public let notBeforeTag: ASN1Identifier
    public let notAfterTag: ASN1Identifier
    public let extensions: [ExtensionFields]
    public let tbsSignatureAlgorithm: [UInt8]
    public let outerSignatureAlgorithm: [UInt8]

    public func `extension`(_ oid: String) -> ExtensionFields? { extensions.first { $0.oid == oid } }

    public init(der: [UInt8]) throws {
        let root = try DER.parse(der)
        let top = try children(root)
        guard top.count == 3 else { throw FieldError("certificate has \(top.count) top-level fields") }
        var tbs = try children(top[0])
        var version = 1
        if tbs.first?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            let inner = try children(tbs.removeFirst())
            version = try Int(derEncoded: inner[0].encodedBytes) + 1
        }
        guard tbs.count >= 6 else { throw FieldError("TBSCertificate too short") }
        serial = Array(tbs[0].encodedBytes)
        tbsSignatureAlgorithm = Array(tbs[1].encodedBytes)
        issuer = Array(tbs[2].encodedBytes)
        let validity = try children(tbs[3])
        notBeforeTag = validity[0].identifier
        notAfterTag = validity[1].identifier
        subject = Array(tbs[4].encodedBytes)
        subjectPublicKeyInfo = Array(tbs[5].encodedBytes)
        var extensions: [ExtensionFields] = []
        for node in tbs.dropFirst(6) where node.identifier == ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific) {
            let list = try children(node)
            for ext in try children(list[0]) {
                extensions.append(try ExtensionFields(node: ext))
            }
        }
        self.extensions = extensions
        self.version = version
        outerSignatureAlgorithm = Array(top[1].encodedBytes)
    }
}

public struct RequestFields: Sendable {
    public let subject: [UInt8]
    public let subjectPublicKeyInfo: [UInt8]
    /// Extensions from the PKCS#9 extensionRequest attribute, in order.
    public let extensions: [ExtensionFields]

    public func `extension`(_ oid: String) -> ExtensionFields? { extensions.first { $0.oid == oid } }

    public init(der: [UInt8]) throws {
        let top = try children(try DER.parse(der))
        let info = try children(top[0])
        guard info.count >= 4 else { throw FieldError("CertificationRequestInfo too short") }
        subject = Array(info[1].encodedBytes)
        subjectPublicKeyInfo = Array(info[2].encodedBytes)
        var extensions: [ExtensionFields] = []
        for attribute in try children(info[3]) {
            let parts = try children(attribute)
            let oid = try ASN1ObjectIdentifier(derEncoded: parts[0])
            guard oid.description == "1.2.840.113549.1.9.14" else { continue }
            for value in try children(parts[1]) {
                for ext in try children(value) {
                    extensions.append(try ExtensionFields(node: ext))
                }
            }
        }
        self.extensions = extensions
    }
}

public struct ExtensionFields: Sendable, Equatable {
    public let oid: String
    public let critical: Bool
    /// The contents of the extnValue OCTET STRING.
    public let value: [UInt8]

    init(node: ASN1Node) throws {
        var parts = try children(node)
        oid = try ASN1ObjectIdentifier(derEncoded: parts.removeFirst()).description
        if parts.count == 2 {
            critical = try Bool(derEncoded: parts.removeFirst())
        } else {
            critical = false
        }
        value = try ASN1OctetString(derEncoded: parts[0]).bytes.map { $0 }
    }
}

/// The bits set in a DER Key Usage value, by RFC 5280 bit number.
public func keyUsageBits(_ value: [UInt8]) throws -> Set<Int> {
    let bits = try ASN1BitString(derEncoded: value)
    var set: Set<Int> = []
    for (index, byte) in bits.bytes.enumerated() {
        for bit in 0..<8 where byte & (0x80 >> bit) != 0 { set.insert(index * 8 + bit) }
    }
    return set
}

public struct FieldError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

private func children(_ node: ASN1Node) throws -> [ASN1Node] {
    guard case .constructed(let nodes) = node.content else { throw FieldError("expected a constructed node") }
    return Array(nodes)
}
