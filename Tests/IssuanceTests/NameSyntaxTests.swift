import Foundation
import Issuance
import Testing

/// Name syntax, for every request, with no name policy at all: a name the certificate
/// would carry that is malformed refuses the request (the README's "Names"), and a name
/// just inside each rule is issued, byte for byte.
@Suite struct NameSyntaxTests {
    static let sixtyThree = String(repeating: "a", count: 63)
    /// 253 octets in all: four labels of 63 and the dots between them, minus one.
    static let longestName = [String(repeating: "a", count: 63), String(repeating: "b", count: 63),
                              String(repeating: "c", count: 63), String(repeating: "d", count: 61)].joined(separator: ".")

    @Test(arguments: [
        ("DNS:printers.example.com.", "DNS name \"printers.example.com.\" in the requested Subject Alternative Name is malformed: it ends in a dot"),
        ("DNS:printers..example.com", "it has an empty label"),
        ("DNS:.printers.example.com", "it has an empty label"),
        ("DNS:drücker.example.com", "it is not ASCII; write an internationalised name as its A-label (xn--…)"),
        ("DNS:\(sixtyThree)a.example.com", "is 64 octets long; a label has at most 63"),
        ("DNS:\(longestName)d", "it is 254 octets long; a DNS name has at most 253"),
        ("DNS:-printer.example.com", "starts or ends with a hyphen"),
        ("DNS:printer-.example.com", "starts or ends with a hyphen"),
        ("DNS:printer_01.example.com", "which is not a letter, digit or hyphen"),
        ("DNS:print er.example.com", "which is not a letter, digit or hyphen"),
        ("DNS:p*.example.com", "a wildcard is allowed only as the whole first label"),
        ("DNS:*.*.example.com", "a wildcard is allowed only as the whole first label"),
        ("DNS:printers.*.example.com", "a wildcard is allowed only as the whole first label"),
        ("DNS:*", "a wildcard needs a name below it"),
        ("email:ops@@example.com", "it has more than one @"),
        ("email:ops.example.com", "it has no @"),
        ("email:@example.com", "its local part (before the @) is empty"),
        ("email:ops..x@example.com", "two dots in a row"),
        ("email:ops@example.com.", "its domain \"example.com.\" is not a DNS name: it ends in a dot"),
        ("email:ops@[192.0.2.1]", "an address literal"),
        ("email:öps@example.com", "it is not ASCII"),
        ("URI:www.example.com/printers", "it has no scheme"),
        ("URI:https://", "it names no host"),
        ("URI:https://printers.example.com/a b", "a space or a control character"),
        ("URI:https://printers.example.com/%zz", "not followed by two hex digits"),
        ("URI:https://printers..example.com/", "is neither an IP address nor a DNS name"),
        ("URI:https://printers.example.com:80a/", "its port \"80a\" is not a number"),
    ])
    func aMalformedSANEntryRefusesTheRequest(_ san: String, _ reason: String) throws {
        let request = try TestRequests.openssl(subject: "/CN=device", san: san)
        let rejection = NameExpectation.rejected(try Fixtures.issuer(), request, .malformedName)
        #expect(rejection?.reason.contains(reason) == true, "\(rejection?.reason ?? "")")
    }

    /// What OpenSSL's `req` cannot write: an iPAddress of 5 octets, and of 0.
    @Test(arguments: [[0x0A, 0x14, 0x00, 0x01, 0x05], []] as [[UInt8]])
    func anIPAddressOfOtherThanFourOrSixteenOctetsRefusesTheRequest(_ octets: [UInt8]) throws {
        let value: [UInt8] = [0x30, UInt8(octets.count + 2), 0x87, UInt8(octets.count)] + octets
        let request = try TestRequests.cryptography(commonName: "device", sanValue: value)
        let rejection = NameExpectation.rejected(try Fixtures.issuer(), request, .malformedName)
        #expect(rejection?.reason.contains("it has \(octets.count) octets; an iPAddress has 4 (IPv4) or 16 (IPv6)") == true, "\(rejection?.reason ?? "")")
    }

    @Test(arguments: [
        "DNS:\(sixtyThree).example.com",
        "DNS:\(longestName)",
        "DNS:xn--drcker-3ya.example.com",
        "DNS:printer-01.example.com",
        "DNS:PRINTERS.Example.com",
        "email:ops+printers@example.com",
        "email:o.p.s@mail.example.com",
        "IP:192.0.2.7",
        "IP:2001:db8::7",
        "IP:::ffff:192.0.2.7",
        "URI:https://printers.example.com:8443/device?id=7#x",
        "URI:https://[2001:db8::7]/",
        "URI:https://user@printers.example.com/%41",
    ])
    func aSANEntryJustInsideTheSyntaxIsIssuedAsRequested(_ san: String) throws {
        let request = try TestRequests.openssl(subject: "/CN=device", san: san)
        try NameExpectation.issued(try Fixtures.issuer(), request)
    }

    /// Well-formed, but refused by pkilint's stricter validators (a single label; a URI
    /// without an authority), so no certificate is issued for them here: a name policy that
    /// does not list them shows that the syntax let them through (the policy refuses, the
    /// syntax would have said "malformed").
    @Test(arguments: [("DNS:printer01", "DNS name \"printer01\" is outside profile t's names.dns"),
                      ("URI:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "URI \"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6\" is outside profile t's names.uri")])
    func aSingleLabelAndAURNAreWellFormed(_ san: String, _ reason: String) throws {
        let policy = try NamePolicy(profile: "t", lists: [.dns: ["printer02"], .uri: ["urn:uuid:0"]])
        let issuer = try Issuer(authority: Fixtures.authority("p256"), policy: IssuancePolicy(), profile: CertificateProfile(), names: policy)
        let rejection = NameExpectation.rejected(issuer, try TestRequests.openssl(san: san), .nameNotAllowed)
        #expect(rejection?.reason == reason)
    }

    @Test func aWildcardAsTheWholeFirstLabelIsWellFormed() throws {
        let request = try TestRequests.openssl(subject: "/CN=device", san: "DNS:*.printers.example.com")
        try NameExpectation.issued(try Fixtures.issuer(), request, wildcard: true)
    }

    /// The subject's emailAddress is copied into the SAN (RFC 5280 4.1.2.6), so a malformed
    /// one would make a malformed SAN: the request is refused instead.
    @Test(arguments: [
        ("ops@@example.com", "has more than one @"),
        ("ops", "it has no @"),
        ("ops@example.com.", "ends in a dot"),
        ("öps@example.com", "it is not ASCII"),
    ])
    func aMalformedSubjectEmailAddressRefusesTheRequest(_ address: String, _ reason: String) throws {
        // openssl writes emailAddress as an IA5String and so refuses non-ASCII.
        let request = address.utf8.allSatisfy({ $0 < 0x80 })
            ? try TestRequests.openssl(subject: "/CN=device/emailAddress=\(address)")
            : try TestRequests.cryptography(commonName: "device", emailAddress: address)
        let rejection = NameExpectation.rejected(try Fixtures.issuer(), request, .malformedName)
        #expect(rejection?.reason.hasPrefix("subject emailAddress \"\(address)\" is not a plain mailbox") == true, "\(rejection?.reason ?? "")")
        #expect(rejection?.reason.contains(reason) == true, "\(rejection?.reason ?? "")")
    }

    @Test func aWellFormedSubjectEmailAddressIsCopiedIntoTheSAN() throws {
        let request = try TestRequests.openssl(subject: "/CN=device/emailAddress=ops@example.com", san: "DNS:device.example.com")
        let certificate = try NameExpectation.issued(try Fixtures.issuer(), request)
        #expect(certificate?.subjectAlternativeNames == ["DNS:device.example.com", "email:ops@example.com"])
    }

    /// A reason quotes the name as the request wrote it, escaped so that it stays one line.
    @Test func aNameWithAControlCharacterIsQuotedOnOneLine() throws {
        let value: [UInt8] = [0x30, 0x0A, 0x82, 0x08] + Array("a\nb.test".utf8)
        let request = try TestRequests.cryptography(commonName: "device", sanValue: value)
        let rejection = NameExpectation.rejected(try Fixtures.issuer(), request, .malformedName)
        #expect(rejection?.reason.hasPrefix("DNS name \"a\\u{A}b.test\"") == true, "\(rejection?.reason ?? "")")
    }
}
