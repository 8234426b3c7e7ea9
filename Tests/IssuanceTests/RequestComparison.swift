import Foundation
import SwiftASN1
import TestSupport
import Testing

/// Byte-for-byte checks of a certificate against the request it was issued for, read with
/// swift-asn1 (not OpenSSL, which wrote the certificate).
enum RequestComparison {
    static let subjectAltName = "2.5.29.17"
    static let keyUsage = "2.5.29.15"
    static let extendedKeyUsage = "2.5.29.37"
    static let basicConstraints = "2.5.29.19"
    static let subjectKeyIdentifier = "2.5.29.14"
    static let authorityKeyIdentifier = "2.5.29.35"
    static let authorityInfoAccess = "1.3.6.1.5.5.7.1.1"
    static let crlDistributionPoints = "2.5.29.31"
    static let allowed: Set<String> = [subjectAltName, keyUsage, extendedKeyUsage, basicConstraints,
                                       subjectKeyIdentifier, authorityKeyIdentifier, authorityInfoAccess, crlDistributionPoints]
    static let keyUsageNames = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
                                "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"]

    /// The request's DER from a file in any of the accepted encodings, decoded by OpenSSL's
    /// command-line tool or Foundation, independently of dropca's own intake.
    static func requestDER(fromFile bytes: [UInt8]) throws -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        if text.contains("-----BEGIN") {
            return try derThroughOpenSSL(pem: bytes)
        }
        if bytes.first == 0x30 { return bytes }
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else { throw ComparisonError("not base64") }
        return [UInt8](data)
    }

    private static func derThroughOpenSSL(pem: [UInt8]) throws -> [UInt8] {
        let directory = try TemporaryDirectory()
        let input = directory.path("in.pem"), output = directory.path("out.der")
        try Data(pem).write(to: URL(fileURLWithPath: input))
        let result = try ExternalTool.run("openssl", ["req", "-in", input, "-outform", "DER", "-out", output])
        guard result.succeeded else { throw ComparisonError(result.stderr) }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
    }

    static func expectCarriedOver(requestFile: [UInt8], certificate der: [UInt8], keyUsageAfter: [String]?, sanCritical: Bool?,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let request = try RequestFields(der: requestDER(fromFile: requestFile))
        let certificate = try CertificateFields(der: der)

        #expect(certificate.version == 3, sourceLocation: sourceLocation)
        #expect(certificate.subject == request.subject, "subject must be the request's, byte for byte", sourceLocation: sourceLocation)
        #expect(certificate.subjectPublicKeyInfo == request.subjectPublicKeyInfo, "public key must be the request's, byte for byte", sourceLocation: sourceLocation)
        #expect(certificate.tbsSignatureAlgorithm == certificate.outerSignatureAlgorithm, sourceLocation: sourceLocation)

        let unexpected = certificate.extensions.map(\.oid).filter { !allowed.contains($0) }
        #expect(unexpected.isEmpty, "extensions the policy does not add or carry: \(unexpected)", sourceLocation: sourceLocation)
        #expect(Set(certificate.extensions.map(\.oid)).count == certificate.extensions.count, "an extension appears twice", sourceLocation: sourceLocation)

        let constraints = certificate.extension(basicConstraints)
        #expect(constraints?.critical == true && constraints?.value == [0x30, 0x00], "Basic Constraints critical, cA FALSE", sourceLocation: sourceLocation)
        #expect(certificate.extension(subjectKeyIdentifier)?.critical == false, sourceLocation: sourceLocation)
        #expect(certificate.extension(authorityKeyIdentifier)?.critical == false, sourceLocation: sourceLocation)

        let subjectIsEmpty = certificate.subject == [0x30, 0x00]
        let issuedSAN = certificate.extension(subjectAltName)
        let requestedSAN = request.extension(subjectAltName)
        let subjectEmails = try emailAddresses(inName: certificate.subject)
        if subjectEmails.isEmpty {
            #expect(issuedSAN?.value == requestedSAN?.value, "SAN value byte for byte", sourceLocation: sourceLocation)
        } else {
            // RFC 5280 4.1.2.6: the subject's e-mail addresses must also be rfc822Names;
            // dropca appends the missing ones after the requested names, unchanged.
            let issuedNames = try generalNames(issuedSAN?.value ?? [])
            let requestedNames = try generalNames(requestedSAN?.value ?? [])
            #expect(Array(issuedNames.prefix(requestedNames.count)) == requestedNames, "requested SAN entries kept, in order, byte for byte", sourceLocation: sourceLocation)
            for email in subjectEmails {
                #expect(issuedNames.contains([0x81, UInt8(email.count)] + email), "subject e-mail address as rfc822Name", sourceLocation: sourceLocation)
            }
        }
        if let issuedSAN {
            #expect(issuedSAN.critical == subjectIsEmpty, "SAN critical if and only if the subject is empty", sourceLocation: sourceLocation)
            if let sanCritical { #expect(issuedSAN.critical == sanCritical, sourceLocation: sourceLocation) }
        }

        if let requested = request.extension(extendedKeyUsage) {
            #expect(certificate.extension(extendedKeyUsage) == requested, "EKU value and criticality as requested", sourceLocation: sourceLocation)
        }

        let issuedKeyUsage = certificate.extension(keyUsage)
        if let keyUsageAfter {
            if keyUsageAfter.isEmpty {
                #expect(issuedKeyUsage == nil, "Key Usage must be left out", sourceLocation: sourceLocation)
            } else {
                let bits = try issuedKeyUsage.map { try keyUsageBits($0.value) } ?? []
                #expect(Set(bits.map { keyUsageNames[$0] }) == Set(keyUsageAfter), sourceLocation: sourceLocation)
            }
        }
        if let requested = request.extension(keyUsage), let issuedKeyUsage {
            #expect(issuedKeyUsage.critical == requested.critical, "Key Usage criticality as requested", sourceLocation: sourceLocation)
            let requestedBits = try keyUsageBits(requested.value)
            let issuedBits = try keyUsageBits(issuedKeyUsage.value)
            #expect(issuedBits.isSubset(of: requestedBits), "Key Usage may only lose bits", sourceLocation: sourceLocation)
            #expect(!issuedBits.contains(5) && !issuedBits.contains(6), "a leaf never gets keyCertSign or cRLSign", sourceLocation: sourceLocation)
            if issuedBits == requestedBits {
                #expect(issuedKeyUsage.value == requested.value, "an unchanged Key Usage keeps its bytes", sourceLocation: sourceLocation)
            }
        }
    }
}

/// The encoded GeneralName entries of a SAN value.
private func generalNames(_ value: [UInt8]) throws -> [[UInt8]] {
    guard !value.isEmpty else { return [] }
    guard case .constructed(let nodes) = try DER.parse(value).content else { return [] }
    return nodes.map { Array($0.encodedBytes) }
}

/// The emailAddress (1.2.840.113549.1.9.1) values of an encoded Name.
private func emailAddresses(inName name: [UInt8]) throws -> [[UInt8]] {
    guard case .constructed(let rdns) = try DER.parse(name).content else { return [] }
    var values: [[UInt8]] = []
    for rdn in rdns {
        guard case .constructed(let attributes) = rdn.content else { continue }
        for attribute in attributes {
            guard case .constructed(let parts) = attribute.content else { continue }
            let pieces = Array(parts)
            guard pieces.count == 2, try ASN1ObjectIdentifier(derEncoded: pieces[0]).description == "1.2.840.113549.1.9.1",
                  case .primitive(let bytes) = pieces[1].content else { continue }
            values.append(Array(bytes))
        }
    }
    return values
}

struct ComparisonError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
