import Foundation
import Issuance
import SwiftASN1
import TestSupport
import Testing

/// The certificate rules of the README's issuance policy that do not depend on the request: signature
/// algorithms per CA key, serials, validity, the extensions dropca adds.
@Suite struct CertificateRulesTests {
    static let signatureOIDs: [String: String] = [
        "rsa2048": "1.2.840.113549.1.1.11", "rsa3072": "1.2.840.113549.1.1.11",
        "p256": "1.2.840.10045.4.3.2", "p384": "1.2.840.10045.4.3.3", "p521": "1.2.840.10045.4.3.4",
        "ed25519": "1.3.101.112", "ed448": "1.3.101.113",
    ]

    static func signatureOID(_ certificate: CertificateFields) throws -> String {
        guard case .constructed(let parts) = try DER.parse(certificate.outerSignatureAlgorithm).content,
              let first = parts.first(where: { _ in true }) else { return "" }
        return try ASN1ObjectIdentifier(derEncoded: first).description
    }

    @Test(arguments: ["rsa2048", "rsa3072", "p256", "p384", "p521", "ed25519", "ed448"])
    func everyCAKeyTypeIssuesVerifiableCertificates(_ ca: String) throws {
        let issuer = try Fixtures.issuer(ca: ca)
        for request in ["requests/accept-p256.csr", "requests/accept-rsa2048.csr", "requests/accept-ed25519.csr"] {
            let certificate = try issuer.issue(Fixtures.bytes(request)).get()
            #expect(try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: Fixtures.path("ca/\(ca).pem")) == [], "\(ca) issuing \(request)")
            let fields = try CertificateFields(der: certificate.der)
            #expect(try Self.signatureOID(fields) == Self.signatureOIDs[ca])
            #expect(fields.issuer == (try CertificateFields(der: issuer.authority.certificateDER)).subject, "issuer is the CA subject, byte for byte")
        }
    }

    @Test(arguments: [(RSASignatureScheme.sha384, "1.2.840.113549.1.1.12"), (.sha512, "1.2.840.113549.1.1.13"), (.pssSHA256, "1.2.840.113549.1.1.10")])
    func rsaSignatureSettingChoosesTheAlgorithm(_ scheme: RSASignatureScheme, _ oid: String) throws {
        let issuer = try Fixtures.issuer(ca: "rsa2048", profile: CertificateProfile(rsaSignature: scheme))
        let certificate = try issuer.issue(Fixtures.bytes("requests/accept-p256.csr")).get()
        #expect(try Self.signatureOID(CertificateFields(der: certificate.der)) == oid)
        #expect(try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: Fixtures.path("ca/rsa2048.pem")) == [])
    }

    @Test func serialsArePositiveRandomAndAtMostTwentyOctets() throws {
        let issuer = try Fixtures.issuer()
        let request = try Fixtures.bytes("requests/accept-p256.csr")
        var serials: Set<[UInt8]> = []
        for _ in 0..<200 {
            let certificate = try issuer.issue(request).get()
            let serial = try CertificateFields(der: certificate.der).serial
            // serial is the whole INTEGER TLV: tag 0x02, short length, content.
            #expect(serial[0] == 0x02)
            let content = Array(serial.dropFirst(2))
            #expect(content.count <= 20 && content.count >= 9, "16 random bytes, top bit clear: \(content.count) octets")
            #expect(content[0] & 0x80 == 0, "positive")
            #expect(content.contains { $0 != 0 })
            #expect(certificate.serialHex == content.drop { $0 == 0 }.map { String(format: "%02x", $0) }.joined())
            serials.insert(content)
        }
        #expect(serials.count == 200)
    }

    @Test func validityIsBackdatedAndLastsTheConfiguredDays() throws {
        let issuer = try Fixtures.issuer(profile: CertificateProfile(validityDays: 90, backdateSeconds: 600))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let certificate = try issuer.issue(Fixtures.bytes("requests/accept-p256.csr"), now: now).get()
        let dates = try OpenSSLDates(der: certificate.der)
        #expect(dates.notBefore == now.addingTimeInterval(-600))
        #expect(dates.notAfter == now.addingTimeInterval(90 * 86_400))
        let fields = try CertificateFields(der: certificate.der)
        #expect(fields.notBeforeTag == .utcTime && fields.notAfterTag == .utcTime)
        #expect(!certificate.validityCutToCA)
    }

    @Test func validityIsCutToTheCAsNotAfter() throws {
        let authority = try Fixtures.authority("short-lived")
        let issuer = try Issuer(authority: authority, policy: IssuancePolicy(), profile: CertificateProfile(validityDays: 3650))
        let certificate = try issuer.issue(Fixtures.bytes("requests/accept-p256.csr")).get()
        #expect(certificate.validityCutToCA)
        #expect(try OpenSSLDates(der: certificate.der).notAfter == authority.notAfter)
        #expect(try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: Fixtures.path("ca/short-lived.pem")) == [])
    }

    /// The encoded validity is reused within one second; issuing at other times, and back
    /// again, must give each certificate its own dates (read by openssl, not by dropca).
    @Test func eachCertificateGetsTheValidityOfItsOwnIssuingTime() throws {
        let issuer = try Fixtures.issuer()
        let request = try Fixtures.bytes("requests/accept-p256.csr")
        let first = Date(timeIntervalSince1970: 1_800_000_000)
        for now in [first, first.addingTimeInterval(86_400), first.addingTimeInterval(86_400), first] {
            let certificate = try issuer.issue(request, now: now).get()
            let dates = try OpenSSLDates(der: certificate.der)
            #expect(dates.notBefore == now.addingTimeInterval(-3600))
            #expect(dates.notAfter == now.addingTimeInterval(365 * 86_400))
        }
    }

    @Test func datesFrom2050AreGeneralizedTime() throws {
        let directory = try TemporaryDirectory()
        let material = try DevelopmentCA.generate(commonName: "long-lived test CA", validityDays: 50 * 365)
        try material.certificatePEM.write(toFile: directory.path("ca.pem"), atomically: true, encoding: .utf8)
        let authority = try CertificateAuthority(certificate: Array(material.certificatePEM.utf8), privateKey: Array(material.privateKeyPEM.utf8))
        let issuer = try Issuer(authority: authority, policy: IssuancePolicy(), profile: CertificateProfile(validityDays: 40 * 365))
        let certificate = try issuer.issue(Fixtures.bytes("requests/accept-p256.csr")).get()
        let fields = try CertificateFields(der: certificate.der)
        #expect(fields.notBeforeTag == .utcTime)
        #expect(fields.notAfterTag == .generalizedTime)
        #expect(try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: directory.path("ca.pem")) == [])
    }

    @Test func keyIdentifiersFollowRFC5280MethodOne() throws {
        for ca in ["p256", "no-ski"] {
            let issuer = try Fixtures.issuer(ca: ca)
            let certificate = try issuer.issue(Fixtures.bytes("requests/accept-rsa2048.csr")).get()
            let fields = try CertificateFields(der: certificate.der)
            let caFields = try CertificateFields(der: issuer.authority.certificateDER)
            let ski = try #require(fields.extension(RequestComparison.subjectKeyIdentifier))
            #expect(ski.value == [0x04, 20] + (try sha1OfKeyBits(fields.subjectPublicKeyInfo)))
            let aki = try #require(fields.extension(RequestComparison.authorityKeyIdentifier))
            let computedKeyID = try sha1OfKeyBits(caFields.subjectPublicKeyInfo)
            let expectedKeyID = caFields.extension(RequestComparison.subjectKeyIdentifier).map { Array($0.value.dropFirst(2)) } ?? computedKeyID
            #expect(aki.value == [0x30, 22, 0x80, 20] + expectedKeyID, "AKI keyIdentifier for CA \(ca)")
            #expect(try IndependentCheckers.problems(certificateDER: certificate.der, caCertificatePath: Fixtures.path("ca/\(ca).pem"), strict: ca != "no-ski") == [])
        }
        #expect(try CertificateFields(der: Fixtures.authority("no-ski").certificateDER).extension(RequestComparison.subjectKeyIdentifier) == nil)
    }

    @Test func informationAccessAndCRLURLsAppearOnlyWhenConfigured() throws {
        let request = try Fixtures.bytes("requests/accept-p256.csr")
        let bare = try Fixtures.issuer().issue(request).get()
        let bareFields = try CertificateFields(der: bare.der)
        #expect(bareFields.extension(RequestComparison.authorityInfoAccess) == nil)
        #expect(bareFields.extension(RequestComparison.crlDistributionPoints) == nil)

        let profile = CertificateProfile(caIssuersURL: "http://pki.test/ca.cer", ocspURL: "http://ocsp.pki.test", crlURL: "http://pki.test/ca.crl")
        let full = try Fixtures.issuer(profile: profile).issue(request).get()
        let text = try OpenSSLText(der: full.der).text
        #expect(text.contains("CA Issuers - URI:http://pki.test/ca.cer"))
        #expect(text.contains("OCSP - URI:http://ocsp.pki.test"))
        #expect(text.contains("URI:http://pki.test/ca.crl"))
        #expect(try IndependentCheckers.problems(certificateDER: full.der, caCertificatePath: Fixtures.path("ca/p256.pem")) == [])

        let issuersOnly = try Fixtures.issuer(profile: CertificateProfile(caIssuersURL: "http://pki.test/ca.cer")).issue(request).get()
        let issuersText = try OpenSSLText(der: issuersOnly.der).text
        #expect(issuersText.contains("CA Issuers - URI:http://pki.test/ca.cer") && !issuersText.contains("OCSP - URI"))
    }

    @Test func defaultExtendedKeyUsageAppliesOnlyWhenNoneIsRequested() throws {
        let issuer = try Fixtures.issuer(profile: CertificateProfile(defaultExtendedKeyUsage: ["clientAuth", "1.3.6.1.5.5.7.3.17"]))
        let plain = try issuer.issue(Fixtures.bytes("requests/accept-no-eku.csr")).get()
        #expect(plain.defaultExtendedKeyUsageApplied)
        let text = try OpenSSLText(der: plain.der).text
        #expect(text.contains("TLS Web Client Authentication") && text.contains("ipsec Internet Key Exchange"))

        let asked = try issuer.issue(Fixtures.bytes("requests/accept-eku-server-client.csr")).get()
        #expect(!asked.defaultExtendedKeyUsageApplied)
        let requested = try RequestFields(der: RequestComparison.requestDER(fromFile: Fixtures.bytes("requests/accept-eku-server-client.csr")))
        #expect(try CertificateFields(der: asked.der).extension(RequestComparison.extendedKeyUsage) == requested.extension(RequestComparison.extendedKeyUsage))
    }

    @Test func subjectEmailAddressIsAddedToTheSAN() throws {
        let certificate = try Fixtures.issuer().issue(Fixtures.bytes("corpus/openssl-default-config.csr")).get()
        #expect(certificate.subjectEmailAddedToSAN)
        #expect(certificate.subjectAlternativeNames.contains { $0.hasPrefix("email:") })
        #expect(try OpenSSLText(der: certificate.der).text.contains("email:"))
    }

    @Test func discardedExtensionsAndRemovedKeyUsagesAreReported() throws {
        let issuer = try Fixtures.issuer()
        let discarded = try issuer.issue(Fixtures.bytes("requests/accept-discarded-extensions.csr")).get()
        #expect(discarded.discardedExtensions.contains { $0.contains("2.5.29.19") }, "\(discarded.discardedExtensions)")
        #expect(discarded.discardedExtensions.contains { $0.contains("2.5.29.30") }, "\(discarded.discardedExtensions)")
        let reduced = try issuer.issue(Fixtures.bytes("requests/accept-ku-ca-bits.csr")).get()
        #expect(Set(reduced.removedKeyUsages).isSuperset(of: Set(["keyCertSign", "cRLSign"])))
    }
}

/// notBefore/notAfter as `openssl x509` reads them.
struct OpenSSLDates {
    let notBefore: Date
    let notAfter: Date

    init(der: [UInt8]) throws {
        let text = try OpenSSLText(der: der, arguments: ["-noout", "-dates", "-dateopt", "iso_8601"]).text
        func value(_ key: String) throws -> Date {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + "=") }) else { throw ComparisonError("no \(key)") }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime, .withTimeZone]
            guard let date = formatter.date(from: String(line.dropFirst(key.count + 1))) else { throw ComparisonError("cannot read \(line)") }
            return date
        }
        notBefore = try value("notBefore")
        notAfter = try value("notAfter")
    }
}

/// `openssl x509 -text` of a DER certificate.
struct OpenSSLText {
    let text: String
    init(der: [UInt8], arguments: [String] = ["-noout", "-text"]) throws {
        let directory = try TemporaryDirectory()
        try Data(der).write(to: URL(fileURLWithPath: directory.path("c.der")))
        let result = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-in", directory.path("c.der")] + arguments)
        guard result.succeeded else { throw ComparisonError(result.stderr) }
        text = result.stdout
    }
}

/// RFC 5280 method (1) key identifier, computed by `openssl dgst` over the key bits that
/// swift-asn1 extracts from the subjectPublicKeyInfo.
func sha1OfKeyBits(_ spki: [UInt8]) throws -> [UInt8] {
    guard case .constructed(let parts) = try DER.parse(spki).content else { throw ComparisonError("SPKI") }
    let nodes = Array(parts)
    let bits = try ASN1BitString(derEncoded: nodes[1])
    let result = try ExternalTool.run("openssl", ["dgst", "-sha1", "-r"], stdin: Array(bits.bytes))
    let hex = result.stdout.prefix(40)
    return stride(from: 0, to: hex.count, by: 2).compactMap { offset in
        let start = hex.index(hex.startIndex, offsetBy: offset)
        return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
    }
}
