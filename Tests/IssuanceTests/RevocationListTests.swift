import Foundation
import Issuance
import TestSupport
import Testing

/// CRLs signed by the issuance engine, judged by OpenSSL, GnuTLS and pkilint for every kind
/// of CA key, and used by `openssl verify -crl_check` to refuse a revoked certificate.
@Suite struct RevocationListTests {
    struct CAKind: Sendable, CustomTestStringConvertible {
        let name: String
        let scheme: RSASignatureScheme
        var testDescription: String { scheme == .sha256 ? name : "\(name) \(scheme.rawValue)" }
    }

    static let kinds = [
        CAKind(name: "p256", scheme: .sha256), CAKind(name: "p384", scheme: .sha256),
        CAKind(name: "rsa2048", scheme: .sha256), CAKind(name: "rsa2048", scheme: .pssSHA256),
        CAKind(name: "ed25519", scheme: .sha256),
    ]

    static let now = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21

    @Test(arguments: kinds)
    func aCRLPassesEveryCheckerAndRefusesTheRevokedCertificate(kind: CAKind) throws {
        let issuer = try Fixtures.issuer(ca: kind.name, profile: CertificateProfile(rsaSignature: kind.scheme))
        let request = try Fixtures.bytes("requests/accept-der-p256.der")
        let revoked = try issuer.issue(request).get()
        let kept = try issuer.issue(request).get()
        let entries = [
            RevokedEntry(serialHex: revoked.serialHex, revocationDate: Self.now, reason: .keyCompromise),
            RevokedEntry(serialHex: "00ff01", revocationDate: Self.now.addingTimeInterval(-60), reason: .unspecified),
        ]
        let crl = try issuer.revocationList(number: 7, thisUpdate: Date(), nextUpdate: Date().addingTimeInterval(3600), entries: entries)
        let caPath = Fixtures.path("ca/\(kind.name).pem")
        #expect(try CRLCheckers.problems(crlDER: crl, caCertificatePath: caPath) == [])

        let refused = try CRLCheckers.verify(certificateDER: revoked.der, caCertificatePath: caPath, crlDER: crl)
        #expect(!refused.succeeded && refused.output.contains("certificate revoked"), "\(refused.output)")
        let accepted = try CRLCheckers.verify(certificateDER: kept.der, caCertificatePath: caPath, crlDER: crl)
        #expect(accepted.succeeded, "\(accepted.output)")

        let text = try CRLCheckers.text(crl)
        #expect(text.contains("Version 2"), "\(text)")
        #expect(text.contains("X509v3 CRL Number: \n                7") || text.contains("CRL Number:\n                7") || text.range(of: #"CRL Number: ?\n\s+7\n"#, options: .regularExpression) != nil, "\(text)")
        #expect(text.contains("Key Compromise"), "\(text)")
        #expect(text.contains("X509v3 Authority Key Identifier"), "\(text)")
        // `unspecified` carries no reasonCode (RFC 5280 5.3.1): one reason line, for the other entry.
        #expect(text.components(separatedBy: "CRL Reason Code").count == 2, "\(text)")
    }

    /// RFC 5280 5.1.2.6: with nothing revoked, the revokedCertificates field is absent, not empty.
    @Test(arguments: kinds)
    func anEmptyCRLHasNoRevokedCertificatesField(kind: CAKind) throws {
        let issuer = try Fixtures.issuer(ca: kind.name, profile: CertificateProfile(rsaSignature: kind.scheme))
        let crl = try issuer.revocationList(number: 1, thisUpdate: Date(), nextUpdate: Date().addingTimeInterval(86_400), entries: [])
        #expect(try CRLCheckers.problems(crlDER: crl, caCertificatePath: Fixtures.path("ca/\(kind.name).pem")) == [])
        #expect(try CRLCheckers.text(crl).contains("No Revoked Certificates"))
        // TBSCertList: version, signature, issuer, thisUpdate, nextUpdate, [0] extensions — no SEQUENCE OF entries.
        let tbs = try TBSFields(crl)
        #expect(tbs.tags == [0x02, 0x30, 0x30, 0x17, 0x17, 0xA0], "\(tbs.tags)")
    }

    @Test func theIssuerIsTheCASubjectByteForByte() throws {
        let issuer = try Fixtures.issuer(ca: "p256")
        let crl = try issuer.revocationList(number: 1, thisUpdate: Date(), nextUpdate: Date().addingTimeInterval(60), entries: [])
        let fromCRL = try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-noout", "-issuer", "-nameopt", "RFC2253"], stdin: crl).stdout
        let fromCA = try ExternalTool.run("openssl", ["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", Fixtures.path("ca/p256.pem")]).stdout
        #expect(fromCRL.replacingOccurrences(of: "issuer=", with: "") == fromCA.replacingOccurrences(of: "subject=", with: ""))
        let tbs = try TBSFields(crl)
        #expect(tbs.fields[2] == issuer.authority.subjectDER)
    }

    @Test func timesFrom2050OnAreGeneralizedTime() throws {
        let issuer = try Fixtures.issuer(ca: "p256")
        let thisUpdate = Date(timeIntervalSince1970: 2_524_608_000 - 10)  // 2049-12-31T23:59:50Z
        let crl = try issuer.revocationList(number: 1, thisUpdate: thisUpdate, nextUpdate: thisUpdate.addingTimeInterval(20), entries: [])
        let tbs = try TBSFields(crl)
        #expect(tbs.tags[3] == 0x17 && tbs.tags[4] == 0x18, "\(tbs.tags)")
    }

    @Test func aNextUpdateBeforeThisUpdateIsRefused() throws {
        let issuer = try Fixtures.issuer(ca: "p256")
        #expect(throws: RevocationListError.self) {
            _ = try issuer.revocationList(number: 1, thisUpdate: Date(), nextUpdate: Date().addingTimeInterval(-1), entries: [])
        }
    }
}

/// The top-level fields of a CRL's TBSCertList, read with a minimal DER walker (independent
/// of the code under test).
struct TBSFields {
    let tags: [UInt8]
    let fields: [[UInt8]]

    init(_ crl: [UInt8]) throws {
        let outer = try Self.elements(crl)
        guard let certList = outer.first else { throw CRLFieldError("no CertificateList") }
        let certListElements = try Self.elements(Array(certList[Self.contentStart(certList)...]))
        guard let tbs = certListElements.first else { throw CRLFieldError("no TBSCertList") }
        let parts = try Self.elements(Array(tbs[Self.contentStart(tbs)...]))
        tags = parts.map { $0[0] }
        fields = parts
    }

    static func contentStart(_ element: [UInt8]) -> Int {
        element[1] < 0x80 ? 2 : 2 + Int(element[1] & 0x7F)
    }

    static func elements(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            guard index + 1 < bytes.count else { throw CRLFieldError("truncated") }
            var length = Int(bytes[index + 1])
            var header = 2
            if length >= 0x80 {
                let count = length & 0x7F
                length = 0
                for offset in 0..<count { length = length << 8 | Int(bytes[index + 2 + offset]) }
                header += count
            }
            guard index + header + length <= bytes.count else { throw CRLFieldError("truncated") }
            out.append(Array(bytes[index..<(index + header + length)]))
            index += header + length
        }
        return out
    }
}

struct CRLFieldError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
