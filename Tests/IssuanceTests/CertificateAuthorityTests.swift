import Foundation
import Issuance
import TestSupport
import Testing

/// CA loading: every supported key type and file form loads; a mismatched key and a
/// certificate that may not sign certificates are refused with a reason that says so.
@Suite struct CertificateAuthorityTests {
    @Test(arguments: ["rsa2048", "rsa3072", "p256", "p384", "p521", "ed25519", "ed448"])
    func supportedCALoads(_ name: String) throws {
        let authority = try Fixtures.authority(name)
        #expect(authority.subject.contains("CN="))
        #expect(authority.notAfter > Date())
    }

    @Test func derCertificateLoads() throws {
        let authority = try Fixtures.authority("p256", certificateFile: "p256.der")
        #expect(authority.certificateDER == (try Fixtures.bytes("ca/p256.der")))
    }

    @Test func traditionalAndPKCS8KeysLoad() throws {
        // rsa3072.key and p256.key are traditional PEM ("BEGIN RSA/EC PRIVATE KEY"),
        // rsa2048.key and p384.key PKCS#8 ("BEGIN PRIVATE KEY").
        #expect(String(decoding: try Fixtures.bytes("ca/rsa3072.key"), as: UTF8.self).contains("BEGIN RSA PRIVATE KEY"))
        #expect(String(decoding: try Fixtures.bytes("ca/p256.key"), as: UTF8.self).contains("BEGIN EC PRIVATE KEY"))
        #expect(String(decoding: try Fixtures.bytes("ca/rsa2048.key"), as: UTF8.self).contains("BEGIN PRIVATE KEY"))
        _ = try Fixtures.authority("rsa3072")
        _ = try Fixtures.authority("p256")
        _ = try Fixtures.authority("rsa2048")
    }

    @Test func keyOfAnotherCertificateIsRefused() throws {
        #expect(throws: CertificateAuthorityError.self) {
            _ = try CertificateAuthority(certificate: Fixtures.bytes("ca/p256.pem"), privateKey: Fixtures.bytes("ca/mismatched.key"))
        }
        do {
            _ = try CertificateAuthority(certificate: Fixtures.bytes("ca/p256.pem"), privateKey: Fixtures.bytes("ca/mismatched.key"))
        } catch let error as CertificateAuthorityError {
            #expect(error.code == .keyMismatch)
            #expect(error.message.contains("does not belong"))
        }
    }

    @Test(arguments: [("not-a-ca", "cA=TRUE"), ("no-keycertsign", "keyCertSign")])
    func certificateThatMayNotSignIsRefused(_ name: String, _ mentioned: String) throws {
        do {
            _ = try Fixtures.authority(name)
            Issue.record("\(name) loaded as a CA")
        } catch let error as CertificateAuthorityError {
            #expect(error.code == .notACA)
            #expect(error.message.contains(mentioned))
        }
    }

    @Test func garbageIsRefusedWithAReason() throws {
        do {
            _ = try CertificateAuthority(certificate: Array("not a certificate".utf8), privateKey: Fixtures.bytes("ca/p256.key"))
            Issue.record("garbage loaded as a CA certificate")
        } catch let error as CertificateAuthorityError {
            #expect(error.code == .certificateUnreadable)
        }
        do {
            _ = try CertificateAuthority(certificate: Fixtures.bytes("ca/p256.pem"), privateKey: Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8))
            Issue.record("garbage loaded as a CA key")
        } catch let error as CertificateAuthorityError {
            #expect(error.code == .keyUnreadable)
        }
    }
}
