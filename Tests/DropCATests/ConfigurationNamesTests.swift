import Foundation
import Issuance
import Testing

@testable import DropCA

/// `[names]`, `policy.allowed_key_types` and `policy.allowed_extended_key_usage` as the
/// file writes them: what is read, and every rule that is not one, on its own line.
@Suite("Configuration names and policy keys")
struct ConfigurationNamesTests {
    typealias Fixture = ConfigurationFixture

    @Test func everyNamesKeyIsRead() throws {
        let configuration = try Fixture.parse(Fixture.caSection + """
            [names]
            dns = ["printers.corp.test", ".printers.corp.test"]
            ip = ["10.20.0.0/16", "2001:db8:20::/48", "192.0.2.7"]
            email = ["corp.test", ".corp.test", "ops@corp.example"]
            uri = ["https://printers.corp.test/"]
            deny_dns = ["admin.printers.corp.test"]
            deny_ip = ["10.20.99.0/24"]
            deny_email = ["root@corp.test"]
            deny_uri = ["https://printers.corp.test/admin/"]
            allow_wildcards = true
            free_text_cn = true
            """)
        let names = try #require(configuration.names)
        let expected = try NamePolicy(profile: "default", lists: [
            .dns: ["printers.corp.test", ".printers.corp.test"],
            .ip: ["10.20.0.0/16", "2001:db8:20::/48", "192.0.2.7"],
            .email: ["corp.test", ".corp.test", "ops@corp.example"],
            .uri: ["https://printers.corp.test/"],
            .denyDNS: ["admin.printers.corp.test"],
            .denyIP: ["10.20.99.0/24"],
            .denyEmail: ["root@corp.test"],
            .denyURI: ["https://printers.corp.test/admin/"],
        ], allowWildcards: true, freeTextCN: true)
        #expect(names == expected)
    }

    /// The keys of [names] are the engine's list names, one for one.
    @Test func theNamesKeysAreTheEnginesLists() {
        #expect(NamePolicy.List.allCases.map { Configuration.NamesKey($0).rawValue } == NamePolicy.List.allCases.map(\.rawValue))
        #expect(Set(Configuration.NamesKey.allCases.map(\.rawValue)).subtracting(NamePolicy.List.allCases.map(\.rawValue)) == ["allow_wildcards", "free_text_cn"])
    }

    @Test func anEmptyNamesTableAllowsNoName() throws {
        let names = try #require(try Fixture.parse(Fixture.caSection + "[names]\n").names)
        #expect(names.lists.isEmpty && !names.allowWildcards && !names.freeTextCN)
    }

    @Test(arguments: [
        ("dns = [\"*.corp.test\"]", "names.dns: \"*.corp.test\" is not a DNS name, or .name for the names below it: write .example.com for the names below example.com; wildcards are not rules"),
        ("dns = [\"printers.corp.test.\"]", "names.dns: \"printers.corp.test.\" is not a DNS name, or .name for the names below it: it ends in a dot; write it without the trailing dot"),
        ("dns = [\"drücker.corp.test\"]", "names.dns: \"drücker.corp.test\" is not a DNS name, or .name for the names below it: it is not ASCII; write an internationalised name as its A-label (xn--…)"),
        ("ip = [\"10.20.1.0/16\"]", "names.ip: \"10.20.1.0/16\" is not an IP address range in CIDR form (10.20.0.0/16, 2001:db8::/48) or one address: it has bits set after its first 16; did you mean 10.20.0.0/16?"),
        ("ip = [\"2001:db8:20::1/48\"]", "names.ip: \"2001:db8:20::1/48\" is not an IP address range in CIDR form (10.20.0.0/16, 2001:db8::/48) or one address: it has bits set after its first 48; did you mean 2001:db8:20::/48?"),
        ("ip = [\"10.20.0.0/33\"]", "names.ip: \"10.20.0.0/33\" is not an IP address range in CIDR form (10.20.0.0/16, 2001:db8::/48) or one address: the prefix length after / must be a number from 0 to 32"),
        ("ip = [\"010.20.0.0/16\"]", "names.ip: \"010.20.0.0/16\" is not an IP address range in CIDR form (10.20.0.0/16, 2001:db8::/48) or one address: \"010.20.0.0\" is not an IPv4 or IPv6 address"),
        ("email = [\"ops@@corp.test\"]", "names.email: \"ops@@corp.test\" is not a mail domain, .domain for the domains below it, or one address: it has more than one @"),
        ("uri = [\"https://printers.corp.test\"]", "names.uri: \"https://printers.corp.test\" is not an absolute URI prefix (https://host.example/path/): end it with / after the host (or port), so that it cannot match a longer host name"),
        ("uri = [\"https://ops@printers.corp.test/\"]", "names.uri: \"https://ops@printers.corp.test/\" is not an absolute URI prefix (https://host.example/path/): it holds user information (before an @), which no allowed URI may carry"),
        ("uri = [\"printers.corp.test/\"]", "names.uri: \"printers.corp.test/\" is not an absolute URI prefix (https://host.example/path/): it has no scheme (such as https:); only absolute URIs are allowed"),
        ("deny_dns = [\"a.corp.test\", \"A.Corp.Test\"]", "names.deny_dns: \"A.Corp.Test\" is the same rule as \"a.corp.test\""),
        ("ip = [\"10.0.0.0/8\", \"10.0.0.0/8\"]", "names.ip: \"10.0.0.0/8\" is listed twice"),
        ("dns = \"corp.test\"", "names.dns: expected a list of strings, found a string (\"corp.test\")"),
        ("allow_wildcards = \"yes\"", "names.allow_wildcards: expected true or false, found a string (\"yes\")"),
        ("dnss = []", "names.dnss: unknown key (known keys in [names]: dns, ip, email, uri, deny_dns, deny_ip, deny_email, deny_uri, allow_wildcards, free_text_cn)"),
    ])
    func aRuleThatIsNoRuleIsReportedOnItsLine(_ line: String, _ problem: String) {
        #expect(Fixture.problems(Fixture.caSection + "[names]\n" + line + "\n") == ["dropca.toml:5: " + problem])
    }

    @Test func eachBadRuleOfAMultiLineListIsReportedOnItsOwnLine() {
        let text = Fixture.caSection + """
            [names]
            dns = [
                "good.corp.test",
                "bad..corp.test",
                ".also-good.corp.test",
                "-bad.corp.test",
            ]
            """
        let problems = Fixture.problems(text)
        #expect(problems.count == 2)
        #expect(problems.first?.hasPrefix("dropca.toml:7: names.dns: \"bad..corp.test\"") == true, "\(problems)")
        #expect(problems.last?.hasPrefix("dropca.toml:9: names.dns: \"-bad.corp.test\"") == true, "\(problems)")
    }

    @Test func aProfilesBadRuleIsReportedUnderItsPath() {
        let text = Fixture.caSection + ConfigurationProfileTests.printersFolders + "[profiles.printers.names]\nip = [\"10.1.2.3/8\"]\n"
        #expect(Fixture.problems(text) == [
            "dropca.toml:9: profiles.printers.names.ip: \"10.1.2.3/8\" is not an IP address range in CIDR form (10.20.0.0/16, 2001:db8::/48) or one address: it has bits set after its first 8; did you mean 10.0.0.0/8?",
        ])
    }

    // MARK: policy.allowed_key_types

    @Test func allowedKeyTypesAreRead() throws {
        let configuration = try Fixture.parse(Fixture.caSection + "[policy]\nallowed_key_types = [\"RSA\", \"P-256\", \"P-384\", \"Ed25519\"]\n")
        #expect(configuration.policy.allowedKeyTypes == ["RSA", "P-256", "P-384", "Ed25519"])
        #expect(try Fixture.parse(Fixture.caSection).policy.allowedKeyTypes == nil)
    }

    @Test(arguments: [
        ("allowed_key_types = [\"p256\"]", "dropca.toml:5: policy.allowed_key_types: \"p256\" is not a key type (RSA, RSA-PSS, P-256, P-384, P-521, secp256k1, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1, Ed25519, Ed448); did you mean P-256?"),
        ("allowed_key_types = [\"prime256v1\"]", "dropca.toml:5: policy.allowed_key_types: \"prime256v1\" is not a key type (RSA, RSA-PSS, P-256, P-384, P-521, secp256k1, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1, Ed25519, Ed448); did you mean P-256?"),
        ("allowed_key_types = [\"RSA\", \"RSA\"]", "dropca.toml:5: policy.allowed_key_types: \"RSA\" is listed twice"),
        ("allowed_key_types = [\"secp256k1\"]", "dropca.toml:5: policy.allowed_key_types: \"secp256k1\" is not in policy.allowed_curves (P-256, P-384, P-521), so no such key could be accepted; add it there too"),
    ])
    func badKeyTypesAreReported(_ line: String, _ problem: String) {
        #expect(Fixture.problems(Fixture.caSection + "[policy]\n" + line + "\n") == [problem])
    }

    /// A profile that narrows allowed_curves below an inherited allowed_key_types is told so
    /// on its allowed_curves line.
    @Test func aProfilesCurvesMustStillHoldTheInheritedKeyTypes() {
        let text = Fixture.caSection + "[policy]\nallowed_key_types = [\"P-384\"]\n" + ConfigurationProfileTests.printersFolders
            + "[profiles.printers.policy]\nallowed_curves = [\"P-256\"]\n"
        #expect(Fixture.problems(text) == [
            "dropca.toml:11: profiles.printers.policy.allowed_curves: \"P-384\" is not in policy.allowed_curves (P-256), so no such key could be accepted; add it there too",
        ])
    }

    // MARK: policy.allowed_extended_key_usage

    @Test func allowedExtendedKeyUsagesAreRead() throws {
        let configuration = try Fixture.parse(Fixture.caSection + "[policy]\nallowed_extended_key_usage = [\"serverAuth\", \"1.3.6.1.5.5.7.3.17\"]\n")
        #expect(configuration.policy.allowedExtendedKeyUsage == ["serverAuth", "1.3.6.1.5.5.7.3.17"])
        #expect(try Fixture.parse(Fixture.caSection + "[policy]\nallowed_extended_key_usage = []\n").policy.allowedExtendedKeyUsage == [])
        #expect(try Fixture.parse(Fixture.caSection).policy.allowedExtendedKeyUsage == nil)
    }

    @Test func badExtendedKeyUsagesAreReportedFromTheOneTable() {
        #expect(Fixture.problems(Fixture.caSection + "[policy]\nallowed_extended_key_usage = [\"serverauth\", \"1.40\"]\n") == [
            "dropca.toml:5: policy.allowed_extended_key_usage: \"serverauth\" is neither a known usage (serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning) nor a dotted OID; did you mean serverAuth?",
            "dropca.toml:5: policy.allowed_extended_key_usage: \"1.40\": under arc 1 the second arc is at most 39",
        ])
    }

    /// Requests without an EKU get the default one; it must be one the policy allows.
    @Test func theDefaultUsageMustBeAllowed() {
        let text = Fixture.caSection + "[certificate]\ndefault_extended_key_usage = [\"clientAuth\", \"codeSigning\"]\n[policy]\nallowed_extended_key_usage = [\"clientAuth\"]\n"
        #expect(Fixture.problems(text) == [
            "dropca.toml:5: certificate.default_extended_key_usage: \"codeSigning\" is not in policy.allowed_extended_key_usage (clientAuth), so requests without an Extended Key Usage would get one the policy refuses",
        ])
        // By OID on one side and name on the other, it is the same usage.
        #expect(Fixture.problems(Fixture.caSection + "[certificate]\ndefault_extended_key_usage = [\"clientAuth\"]\n[policy]\nallowed_extended_key_usage = [\"1.3.6.1.5.5.7.3.2\"]\n") == [])
    }
}
