import Foundation
import Issuance
import Testing

@testable import DropCA

/// `[profiles.NAME]`: what a profile inherits, what it must set itself, and the names,
/// folders and keys it may not have.
@Suite("Configuration profiles")
struct ConfigurationProfileTests {
    typealias Fixture = ConfigurationFixture

    static let printersFolders = """
        [profiles.printers.spool]
        inbox = "/srv/printers/in"
        outbox = "/srv/printers/out"
        failed = "/srv/printers/failed"

        """

    @Test func aConfigurationWithoutProfilesHasOnlyTheDefaultOne() throws {
        let configuration = try Fixture.parse(Fixture.caSection)
        #expect(configuration.profiles.map(\.name) == ["default"])
        #expect(configuration.namedProfiles.isEmpty)
        #expect(configuration.defaultProfile == Configuration.Profile(name: "default"))
        #expect(configuration.names == nil)
        #expect(configuration.outputs == [.der])
        #expect(configuration.ca.chain == nil)
        // The default profile is the top-level sections, through the old properties too.
        #expect(configuration.profile(named: "default")?.spool == configuration.spool)
        #expect(configuration.profile(named: "default")?.policy == configuration.policy)
        #expect(configuration.profile(named: "default")?.certificate == configuration.certificate)
    }

    @Test func aProfileInheritsEveryKeyItDoesNotSetButItsFolders() throws {
        let configuration = try Fixture.parse(
            """
            outputs = ["der", "pem"]
            [spool]
            settle_seconds = 5
            [ca]
            certificate = "/etc/dropca/ca.pem"
            key = "/etc/dropca/ca.key"
            [certificate]
            validity_days = 90
            backdate_seconds = 60
            crl_url = "http://pki.corp.test/ca.crl"
            [policy]
            min_rsa_bits = 3072
            allowed_key_types = ["RSA", "P-256"]
            [names]
            dns = [".corp.test"]
            ip = ["10.0.0.0/8"]
            allow_wildcards = true

            [profiles.printers]
            outputs = ["pem-chain"]
            [profiles.printers.spool]
            inbox = "printers/in"
            outbox = "printers/out"
            failed = "printers/failed"
            rescan_seconds = 0
            [profiles.printers.certificate]
            validity_days = 30
            crl_url = ""
            [profiles.printers.names]
            dns = [".printers.corp.test"]
            """
        )
        let printers = try #require(configuration.profile(named: "printers"))
        #expect(configuration.profiles.map(\.name) == ["default", "printers"])
        #expect(printers.spool == .init(inbox: "/srv/dropca/printers/in", outbox: "/srv/dropca/printers/out", failed: "/srv/dropca/printers/failed",
                                        settleSeconds: 5, rescanSeconds: 0))
        #expect(printers.certificate == CertificateProfile(validityDays: 30, backdateSeconds: 60, crlURL: nil))
        #expect(printers.policy == configuration.policy)
        #expect(printers.policy.allowedKeyTypes == ["RSA", "P-256"])
        #expect(printers.outputs == [.pemChain])
        #expect(configuration.outputs == [.der, .pem])
        // names: dns replaced, ip and allow_wildcards inherited, under the profile's own name.
        let names = try #require(printers.names)
        #expect(names.profile == "printers")
        #expect(names.lists == [.dns: [".printers.corp.test"], .ip: ["10.0.0.0/8"]])
        #expect(names.allowWildcards)
        #expect(configuration.names?.profile == "default")
        #expect(configuration.names?.lists == [.dns: [".corp.test"], .ip: ["10.0.0.0/8"]])
    }

    @Test func aProfileWithoutNamesTakesTheTopLevelPolicyUnderItsOwnName() throws {
        let configuration = try Fixture.parse(Fixture.caSection + "[names]\ndns = [\"a.corp.test\"]\n" + Self.printersFolders)
        let names = try #require(configuration.profile(named: "printers")?.names)
        #expect(names.profile == "printers")
        #expect(names.lists == [.dns: ["a.corp.test"]])
        #expect(names.forProfile("default") == configuration.names)
    }

    @Test func aProfileMayHaveNamesWhenTheTopLevelHasNone() throws {
        let configuration = try Fixture.parse(Fixture.caSection + Self.printersFolders + "[profiles.printers.names]\nuri = [\"https://p.corp.test/\"]\n")
        #expect(configuration.names == nil)
        #expect(configuration.profile(named: "printers")?.names?.lists == [.uri: ["https://p.corp.test/"]])
    }

    @Test func profilesComeInFileOrder() throws {
        var text = Fixture.caSection
        for name in ["zeta", "alpha", "m-1"] {
            text += "[profiles.\(name).spool]\ninbox = \"/srv/\(name)/in\"\noutbox = \"/srv/\(name)/out\"\nfailed = \"/srv/\(name)/failed\"\n"
        }
        #expect(try Fixture.parse(text).profiles.map(\.name) == ["default", "zeta", "alpha", "m-1"])
    }

    @Test func aProfileMustSetItsOwnFolders() {
        let text = Fixture.caSection + "\n[profiles.printers]\noutputs = [\"der\"]\n[profiles.printers.spool]\ninbox = \"/srv/printers/in\"\n"
        #expect(Fixture.problems(text) == [
            "dropca.toml:7: profiles.printers.spool.outbox: required key is missing: every profile has its own inbox, outbox and failed folders",
            "dropca.toml:7: profiles.printers.spool.failed: required key is missing: every profile has its own inbox, outbox and failed folders",
        ])
        #expect(Fixture.error(text)?.code == .missingKey)
        // Without a spool table at all, the profile's own header is the line.
        #expect(Fixture.problems(Fixture.caSection + "[profiles.scanners]\noutputs = [\"der\"]\n").first
                == "dropca.toml:4: profiles.scanners.spool.inbox: required key is missing: every profile has its own inbox, outbox and failed folders")
    }

    @Test func noTwoProfilesShareAFolder() {
        let text = Fixture.caSection + Self.printersFolders + """
            [profiles.scanners.spool]
            inbox = "/srv/scanners/in"
            outbox = "/srv/printers/out/"
            failed = "/var/spool/dropca/failed"
            """
        #expect(Fixture.problems(text) == [
            "dropca.toml:10: profiles.scanners.spool.outbox: must be a different folder from profiles.printers.spool.outbox (both are /srv/printers/out/)",
            "dropca.toml:11: profiles.scanners.spool.failed: must be a different folder from spool.failed (both are /var/spool/dropca/failed)",
        ])
    }

    @Test(arguments: ["Printers", "default", "a.b", "-lead", "_lead", "ümlaut", String(repeating: "p", count: 33), ""])
    func aProfileNameMustBeSafe(_ name: String) {
        let text = Fixture.caSection + "[profiles.\"\(name)\".spool]\ninbox = \"/a\"\noutbox = \"/b\"\nfailed = \"/c\"\n"
        let problems = Fixture.problems(text)
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.hasPrefix("dropca.toml:4: profiles.\(name): ") == true, "\(problems)")
        #expect(Fixture.error(text)?.code == .invalidValue)
    }

    @Test(arguments: ["printers", "p", "0day", "printers-2_b", String(repeating: "p", count: 32)])
    func safeProfileNamesAreTaken(_ name: String) throws {
        let text = Fixture.caSection + "[profiles.\(name).spool]\ninbox = \"/a\"\noutbox = \"/b\"\nfailed = \"/c\"\n"
        #expect(try Fixture.parse(text).profile(named: name) != nil)
    }

    @Test func unknownKeysInAProfileAreReportedWithTheirPath() {
        let text = Fixture.caSection + Self.printersFolders + "inboxx = \"/x\"\n[profiles.printers]\ncolour = \"red\"\n[profiles.printers.crl]\ndirectory = \"\"\n"
        #expect(Fixture.problems(text) == [
            "dropca.toml:8: profiles.printers.spool.inboxx: unknown key (known keys in [profiles.printers.spool]: inbox, outbox, failed, settle_seconds, rescan_seconds)",
            "dropca.toml:10: profiles.printers.colour: unknown key (known keys in [profiles.printers]: spool, certificate, policy, names, outputs)",
            "dropca.toml:11: profiles.printers.crl: unknown key (known keys in [profiles.printers]: spool, certificate, policy, names, outputs)",
        ])
    }

    @Test func aProfileKeyOfTheWrongTypeIsReported() {
        #expect(Fixture.problems("profiles = 3\n" + Fixture.caSection) == ["dropca.toml:1: profiles: expected tables ([profiles.NAME]), found an integer (3)"])
        let problems = Fixture.problems(Fixture.caSection + Self.printersFolders + "[profiles.printers]\ncertificate = 30\n")
        #expect(problems == ["dropca.toml:9: profiles.printers.certificate: expected a table ([profiles.printers.certificate]), found an integer (30)"])
    }

    @Test func aProfilesValuesAreCheckedLikeTheTopLevelOnes() {
        let text = Fixture.caSection + Self.printersFolders + "[profiles.printers.certificate]\nvalidity_days = 0\n[profiles.printers.policy]\nallowed_curves = [\"P-224\"]\n"
        #expect(Fixture.problems(text) == [
            "dropca.toml:9: profiles.printers.certificate.validity_days: must be between 1 and 36500 days, found 0",
            "dropca.toml:11: profiles.printers.policy.allowed_curves: \"P-224\" is not a supported curve (P-256, P-384, P-521, secp256k1, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1)",
        ])
    }

    // MARK: outputs

    @Test func outputsAreReadInOrder() throws {
        let configuration = try Fixture.parse("outputs = [\"p7b\", \"der\", \"pem-chain\", \"pem\"]\n" + Fixture.caSection)
        #expect(configuration.outputs == [.p7b, .der, .pemChain, .pem])
    }

    @Test(arguments: [
        ("outputs = [\"pem_chain\"]", "dropca.toml:1: outputs: \"pem_chain\" is not an output format (der, pem, pem-chain, p7b); did you mean pem-chain?"),
        ("outputs = [\"der\", \"der\"]", "dropca.toml:1: outputs: \"der\" is listed twice"),
        ("outputs = []", "dropca.toml:1: outputs: must name at least one format (der, pem, pem-chain, p7b)"),
        ("outputs = \"der\"", "dropca.toml:1: outputs: expected a list of strings, found a string (\"der\")"),
    ])
    func badOutputsAreReported(_ line: String, _ problem: String) {
        #expect(Fixture.problems(line + "\n" + Fixture.caSection) == [problem])
    }

    // MARK: ca.chain

    @Test func theChainPathIsResolvedLikeTheOtherCAFiles() throws {
        let configuration = try Fixture.parse("[ca]\ncertificate = \"ca.pem\"\nkey = \"ca.key\"\nchain = \"ca-chain.pem\"\n")
        #expect(configuration.ca.chain == "/srv/dropca/ca-chain.pem")
        #expect(Fixture.problems("[ca]\ncertificate = \"ca.pem\"\nkey = \"ca.key\"\nchain = \"\"\n") == ["dropca.toml:4: ca.chain: must not be empty; give a path"])
    }
}
