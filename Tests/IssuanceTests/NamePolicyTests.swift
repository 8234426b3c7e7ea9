import Foundation
import Issuance
import Testing

/// The name policy of a profile (`[names]`), rule by rule, each with a request made by
/// `openssl req` just inside and just outside the rule.
@Suite struct NamePolicyTests {
    /// The policy of the README's example, for a profile named "printers".
    static func printers(allowWildcards: Bool = false, freeTextCN: Bool = false, extra: [NamePolicy.List: [String]] = [:]) throws -> NamePolicy {
        let lists: [NamePolicy.List: [String]] = [
            .dns: ["printers.example.com", ".printers.example.com"],
            .ip: ["10.20.0.0/16", "2001:db8:20::/48"],
            .email: ["example.com", ".example.com", "ops@example.org"],
            .uri: ["https://printers.example.com/"],
            .denyDNS: ["admin.printers.example.com"],
            .denyIP: ["10.20.99.0/24"],
            .denyEmail: ["root@example.com"],
            .denyURI: ["https://printers.example.com/admin/"],
        ]
        return try NamePolicy(profile: "printers", lists: lists.merging(extra) { $1 }, allowWildcards: allowWildcards, freeTextCN: freeTextCN)
    }

    static func issuer(_ names: NamePolicy) throws -> Issuer {
        try Issuer(authority: Fixtures.authority("p256"), policy: IssuancePolicy(), profile: CertificateProfile(), names: names)
    }

    static func expectAllowed(_ san: String, subject: String = "/O=Example Corp", policy: NamePolicy? = nil, wildcard: Bool = false,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let request = try TestRequests.openssl(subject: subject, san: san)
        try NameExpectation.issued(try issuer(policy ?? printers()), request, wildcard: wildcard, sourceLocation: sourceLocation)
    }

    static func expectRefused(_ san: String?, subject: String = "/O=Example Corp", policy: NamePolicy? = nil, reason: String,
                              code: Rejection.Code = .nameNotAllowed, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let request = try TestRequests.openssl(subject: subject, san: san)
        let rejection = NameExpectation.rejected(try issuer(policy ?? printers()), request, code, sourceLocation: sourceLocation)
        #expect(rejection?.reason == reason, sourceLocation: sourceLocation)
    }

    // MARK: DNS names

    @Test(arguments: [
        "DNS:printers.example.com",          // the exact name
        "DNS:PRINTERS.Example.COM",          // in any case
        "DNS:p1.printers.example.com",       // one label below
        "DNS:a.b.printers.example.com",      // further below
        "DNS:x.admin.printers.example.com",  // below a denied exact name: the deny rule is that name only
    ])
    func dnsNamesInsideTheRulesAreIssued(_ san: String) throws {
        try Self.expectAllowed(san)
    }

    @Test(arguments: [
        ("DNS:vpn.example.com", "DNS name \"vpn.example.com\" is outside profile printers' names.dns"),
        // Suffix confusion: only whole labels are below a name.
        ("DNS:evilprinters.example.com", "DNS name \"evilprinters.example.com\" is outside profile printers' names.dns"),
        ("DNS:printers.example.com.attacker.test", "DNS name \"printers.example.com.attacker.test\" is outside profile printers' names.dns"),
        // A dot rule is for the names below, not for the name above them.
        ("DNS:example.com", "DNS name \"example.com\" is outside profile printers' names.dns"),
    ])
    func dnsNamesOutsideTheRulesAreRefused(_ san: String, _ reason: String) throws {
        try Self.expectRefused(san, reason: reason)
    }

    @Test(arguments: [
        ("DNS:admin.printers.example.com", "DNS name \"admin.printers.example.com\" is denied by profile printers' names.deny_dns"),
        ("DNS:Admin.PRINTERS.example.com", "DNS name \"Admin.PRINTERS.example.com\" is denied by profile printers' names.deny_dns"),
    ])
    func aDenyRuleWinsOverTheAllowRule(_ san: String, _ reason: String) throws {
        try Self.expectRefused(san, reason: reason)
    }

    /// The syntax holds under a policy too; a trailing dot never reaches the rules.
    @Test func aTrailingDotIsMalformedUnderAPolicyToo() throws {
        let request = try TestRequests.openssl(subject: "/O=Example Corp", san: "DNS:printers.example.com.")
        NameExpectation.rejected(try Self.issuer(Self.printers()), request, .malformedName)
    }

    // MARK: Wildcards

    static func wildcardPolicy(allowWildcards: Bool) throws -> NamePolicy {
        try NamePolicy(profile: "lab", lists: [
            .dns: [".printers.example.com", "exact.example.net"],
            .denyDNS: ["admin.lab.printers.example.com"],
        ], allowWildcards: allowWildcards)
    }

    @Test(arguments: ["DNS:*.printers.example.com", "DNS:*.floor2.printers.example.com"])
    func aWildcardBelowAnAllowedDotRuleIsIssuedWhenWildcardsAreAllowed(_ san: String) throws {
        try Self.expectAllowed(san, policy: Self.wildcardPolicy(allowWildcards: true), wildcard: true)
    }

    @Test func aWildcardIsRefusedWhenWildcardsAreNotAllowed() throws {
        try Self.expectRefused("DNS:*.printers.example.com", policy: Self.wildcardPolicy(allowWildcards: false),
                               reason: "DNS name \"*.printers.example.com\" is a wildcard, refused while profile lab's names.allow_wildcards = false")
    }

    @Test(arguments: [
        // The names below example.com are not all allowed.
        ("DNS:*.example.com", "DNS name \"*.example.com\" is outside profile lab's names.dns: a wildcard needs \".example.com\" or a rule above it there"),
        // An exact rule never allows a wildcard.
        ("DNS:*.example.net", "DNS name \"*.example.net\" is outside profile lab's names.dns: a wildcard needs \".example.net\" or a rule above it there"),
        // It would cover admin.lab.printers.example.com, which is denied.
        ("DNS:*.lab.printers.example.com", "DNS name \"*.lab.printers.example.com\" is denied by profile lab's names.deny_dns: it covers a name that list denies"),
    ])
    func aWildcardOutsideTheRulesIsRefused(_ san: String, _ reason: String) throws {
        try Self.expectRefused(san, policy: Self.wildcardPolicy(allowWildcards: true), reason: reason)
    }

    // MARK: IP addresses

    @Test(arguments: [
        "IP:10.20.0.0", "IP:10.20.255.255",                                         // first and last of 10.20.0.0/16
        "IP:2001:db8:20::", "IP:2001:db8:20:ffff:ffff:ffff:ffff:ffff",             // first and last of 2001:db8:20::/48
        "IP:::ffff:10.20.0.1",                                                       // IPv4-mapped, checked as 10.20.0.1
    ])
    func addressesInsideTheRangesAreIssued(_ san: String) throws {
        try Self.expectAllowed(san)
    }

    @Test(arguments: [
        ("IP:10.21.0.0", "IP address 10.21.0.0 is outside profile printers' names.ip"),
        ("IP:10.19.255.255", "IP address 10.19.255.255 is outside profile printers' names.ip"),
        ("IP:2001:db8:21::", "IP address 2001:db8:21:: is outside profile printers' names.ip"),
        ("IP:2001:db8:1f:ffff:ffff:ffff:ffff:ffff", "IP address 2001:db8:1f:ffff:ffff:ffff:ffff:ffff is outside profile printers' names.ip"),
        ("IP:::ffff:10.21.0.1", "IP address ::ffff:10.21.0.1 (IPv4 10.21.0.1) is outside profile printers' names.ip"),
        ("IP:10.20.99.1", "IP address 10.20.99.1 is denied by profile printers' names.deny_ip"),
        ("IP:::ffff:10.20.99.1", "IP address ::ffff:10.20.99.1 (IPv4 10.20.99.1) is denied by profile printers' names.deny_ip"),
    ])
    func addressesOutsideTheRangesAreRefused(_ san: String, _ reason: String) throws {
        try Self.expectRefused(san, reason: reason)
    }

    // MARK: E-mail addresses

    @Test(arguments: [
        "email:ops@example.com",        // the domain itself
        "email:OPS@Example.COM",        // in any case
        "email:ops@mail.example.com",   // a domain below (".example.com")
        "email:ops@example.org",        // the one address
        "email:Ops@EXAMPLE.org",        // the one address, in any case
    ])
    func mailboxesInsideTheRulesAreIssued(_ san: String) throws {
        try Self.expectAllowed(san)
    }

    @Test(arguments: [
        ("email:ops@evilexample.com", "e-mail address \"ops@evilexample.com\" is outside profile printers' names.email"),
        ("email:other@example.org", "e-mail address \"other@example.org\" is outside profile printers' names.email"),
        ("email:ops@mail.example.org", "e-mail address \"ops@mail.example.org\" is outside profile printers' names.email"),
        ("email:root@example.com", "e-mail address \"root@example.com\" is denied by profile printers' names.deny_email"),
        ("email:ROOT@example.com", "e-mail address \"ROOT@example.com\" is denied by profile printers' names.deny_email"),
    ])
    func mailboxesOutsideTheRulesAreRefused(_ san: String, _ reason: String) throws {
        try Self.expectRefused(san, reason: reason)
    }

    @Test func theSubjectEmailAddressIsCheckedAsAnEmailName() throws {
        try Self.expectAllowed("DNS:printers.example.com", subject: "/CN=printers.example.com/emailAddress=ops@example.com")
        try Self.expectRefused("DNS:printers.example.com", subject: "/CN=printers.example.com/emailAddress=ops@attacker.test",
                               reason: "subject e-mail address \"ops@attacker.test\" is outside profile printers' names.email")
    }

    // MARK: URIs

    @Test(arguments: [
        "URI:https://printers.example.com/device/7",
        "URI:HTTPS://Printers.EXAMPLE.com/device/7",   // scheme and host compared in lowercase
        "URI:https://printers.example.com/",
    ])
    func urisInsideThePrefixAreIssued(_ san: String) throws {
        try Self.expectAllowed(san)
    }

    @Test(arguments: [
        ("URI:https://printers.example.com.attacker.test/", "URI \"https://printers.example.com.attacker.test/\" is outside profile printers' names.uri"),
        ("URI:http://printers.example.com/device/7", "URI \"http://printers.example.com/device/7\" is outside profile printers' names.uri"),
        // The path is not the host: it keeps its case.
        ("URI:https://printers.example.com/admin/x", "URI \"https://printers.example.com/admin/x\" is denied by profile printers' names.deny_uri"),
        ("URI:HTTPS://PRINTERS.example.com/admin/x", "URI \"HTTPS://PRINTERS.example.com/admin/x\" is denied by profile printers' names.deny_uri"),
        ("URI:https://ops@printers.example.com/device/7", "URI \"https://ops@printers.example.com/device/7\" carries user information (before an @ in its authority), which profile printers' [names] refuses"),
    ])
    func urisOutsideThePrefixAreRefused(_ san: String, _ reason: String) throws {
        try Self.expectRefused(san, reason: reason)
    }

    // MARK: The subject CN

    @Test func aCNThatIsADNSNameIsCheckedAsOne() throws {
        try Self.expectAllowed("DNS:printers.example.com", subject: "/CN=PRINTERS.example.com")
        try Self.expectRefused("DNS:printers.example.com", subject: "/CN=vpn.example.com",
                               reason: "subject CN \"vpn.example.com\" (a DNS name) is outside profile printers' names.dns")
        // One label is a host name on a LAN, so it is a DNS name too.
        try Self.expectRefused("DNS:printers.example.com", subject: "/CN=printer01",
                               reason: "subject CN \"printer01\" (a DNS name) is outside profile printers' names.dns")
    }

    @Test func aCNThatIsAnIPAddressIsCheckedAsOne() throws {
        try Self.expectAllowed("IP:10.20.0.5", subject: "/CN=10.20.0.5")
        try Self.expectRefused("IP:10.20.0.5", subject: "/CN=10.21.0.5",
                               reason: "subject CN \"10.21.0.5\" (an IP address) is outside profile printers' names.ip")
        try Self.expectRefused("IP:10.20.0.5", subject: "/CN=2001:db8:21::5",
                               reason: "subject CN \"2001:db8:21::5\" (an IP address) is outside profile printers' names.ip")
    }

    @Test func aCNThatIsNoNameNeedsFreeTextCN() throws {
        try Self.expectRefused("DNS:printers.example.com", subject: "/CN=Printer 7, 2nd floor",
                               reason: "subject CN \"Printer 7, 2nd floor\" is neither a DNS name nor an IP address, refused while profile printers' names.free_text_cn = false")
        try Self.expectAllowed("DNS:printers.example.com", subject: "/CN=Printer 7, 2nd floor", policy: Self.printers(freeTextCN: true))
    }

    /// A CN that looks like a host name must be a well-formed one, even with free_text_cn:
    /// otherwise a trailing dot or a U-label would pass the DNS rules as "text".
    @Test(arguments: ["printers.example.com.", "drücker.printers.example.com", "admin_.printers.example.com"])
    func aCNThatLooksLikeAHostNameMustBeAWellFormedOne(_ commonName: String) throws {
        let request = try TestRequests.openssl(subject: "/CN=\(commonName)", san: "DNS:printers.example.com")
        let rejection = NameExpectation.rejected(try Self.issuer(Self.printers(freeTextCN: true)), request, .malformedName)
        #expect(rejection?.reason.hasPrefix("subject CN \"\(commonName)\" looks like a DNS name but is malformed") == true, "\(rejection?.reason ?? "")")
    }

    // MARK: Types without an allow list, and unsupported types

    @Test func aTypeWithoutAnAllowListIsRefused() throws {
        let dnsOnly = try NamePolicy(profile: "web", lists: [.dns: [".example.com"]])
        try Self.expectAllowed("DNS:www.example.com", policy: dnsOnly)
        try Self.expectRefused("DNS:www.example.com,IP:10.20.0.1", policy: dnsOnly,
                               reason: "IP address 10.20.0.1 is outside profile web's names.ip, which is not set: the profile allows no name of this type")
        let empty = try NamePolicy(profile: "web", lists: [.dns: [".example.com"], .ip: []])
        try Self.expectRefused("IP:10.20.0.1", subject: "/CN=www.example.com", policy: empty, reason: "IP address 10.20.0.1 is outside profile web's names.ip")
    }

    @Test(arguments: [
        ("otherName:1.3.6.1.4.1.311.20.2.3;UTF8:ops@example.com", "otherName"),
        ("dirName:dir_sect", "directoryName"),
        ("RID:1.2.3.4", "registeredID"),
    ])
    func otherSANTypesAreRefusedUnderAPolicy(_ san: String, _ type: String) throws {
        let request = try TestRequests.openssl(subject: "/CN=printers.example.com", san: "DNS:printers.example.com," + san)
        let rejection = NameExpectation.rejected(try Self.issuer(Self.printers()), request, .nameNotAllowed)
        #expect(rejection?.reason.hasPrefix("Subject Alternative Name \(type) ") == true, "\(rejection?.reason ?? "")")
        #expect(rejection?.reason.hasSuffix("is refused by profile printers' [names], which allows only DNS names, IP addresses, e-mail addresses and URIs") == true, "\(rejection?.reason ?? "")")
        // Without a name policy the same request is issued: the type alone is no defect.
        try NameExpectation.issued(try Fixtures.issuer(), request)
    }

    @Test func withoutANamePolicyEveryWellFormedNameIsIssued() throws {
        try NameExpectation.issued(try Fixtures.issuer(), TestRequests.openssl(subject: "/CN=Printer 7", san: "DNS:vpn.example.com,IP:10.99.0.1,email:root@example.com,URI:https://user@x.test/"))
    }

    @Test func thePolicyNamesTheDefaultProfileToo() throws {
        let policy = try NamePolicy(profile: "default", lists: [.dns: ["a.example.com"]])
        try Self.expectRefused("DNS:b.example.com", subject: "/O=Example Corp", policy: policy,
                               reason: "DNS name \"b.example.com\" is outside profile default's names.dns")
    }
}
