import Foundation
import Testing
import Issuance

@testable import DropCA

@Suite("Configuration values")
struct ConfigurationTests {
    typealias Fixture = ConfigurationFixture

    @Test func onlyTheCASectionIsNeededAndEverythingElseTakesTheDesignDefaults() throws {
        let configuration = try Fixture.parse(Fixture.caSection)

        #expect(configuration.spool.inbox == "/var/spool/dropca/inbox")
        #expect(configuration.spool.outbox == "/var/spool/dropca/outbox")
        #expect(configuration.spool.failed == "/var/spool/dropca/failed")
        #expect(configuration.spool.settleSeconds == 2)
        #expect(configuration.spool.rescanSeconds == 60)
        #expect(configuration.state.directory == "/var/lib/dropca")
        #expect(configuration.ca.certificate == "/etc/dropca/ca.pem")
        #expect(configuration.ca.key == .file("/etc/dropca/ca.key"))
        #expect(configuration.certificate.validityDays == 365)
        #expect(configuration.certificate.backdateSeconds == 3600)
        #expect(configuration.certificate.ocspURL == nil)
        #expect(configuration.certificate.crlURL == nil)
        #expect(configuration.certificate.defaultExtendedKeyUsage == [])
        #expect(configuration.certificate.rsaSignature == .sha256)
        #expect(configuration.policy.minRSABits == 2048)
        #expect(configuration.policy.allowedCurves == [.p256, .p384, .p521])
        #expect(configuration.policy.allowSHA1CSRSignature == false)
        #expect(configuration.policy.maxCSRBytes == 65536)
        #expect(configuration.daemon.workers == 0)
    }

    /// An example host as a default would leak into every certificate.
    @Test func caIssuersURLIsNotSetByDefault() throws {
        let configuration = try Fixture.parse(Fixture.caSection)
        #expect(configuration.certificate.caIssuersURL == nil)
    }

    /// `""` is how the file says "leave it out": the same as not writing the key.
    @Test func anEmptyURLMeansNotSet() throws {
        let configuration = try Fixture.parse(
            Fixture.caSection + "[certificate]\nca_issuers_url = \"\"\nocsp_url = \"\"\ncrl_url = \"\"\n"
        )
        #expect(configuration.certificate == CertificateProfile())
    }

    @Test func everyKeyIsRead() throws {
        let configuration = try Fixture.parse(
            """
            [spool]
            inbox = "/data/in"
            outbox = "/data/out"
            failed = "/data/bad"
            settle_seconds = 0.5
            rescan_seconds = 0

            [state]
            directory = "/data/state"

            [ca]
            certificate = "/pki/ca.crt"
            key = "credential:dropca-ca"

            [certificate]
            validity_days = 90
            backdate_seconds = 0
            ca_issuers_url = "http://pki.corp.test/ca.cer"
            ocsp_url = "https://ocsp.corp.test"
            crl_url = "ldap://ldap.corp.test/cn=CA?certificateRevocationList"
            default_extended_key_usage = ["clientAuth", "1.3.6.1.5.5.7.3.17"]
            rsa_signature = "pss-sha256"

            [policy]
            min_rsa_bits = 3072
            allowed_curves = ["P-384", "brainpoolP256r1", "secp256k1"]
            allow_sha1_csr_signature = true
            max_csr_bytes = 4096

            [daemon]
            workers = 3
            """
        )

        let expected = Configuration(
            spool: .init(inbox: "/data/in", outbox: "/data/out", failed: "/data/bad", settleSeconds: 0.5, rescanSeconds: 0),
            state: .init(directory: "/data/state"),
            ca: .init(certificate: "/pki/ca.crt", key: .credential("dropca-ca")),
            certificate: .init(
                validityDays: 90,
                backdateSeconds: 0,
                caIssuersURL: "http://pki.corp.test/ca.cer",
                ocspURL: "https://ocsp.corp.test",
                crlURL: "ldap://ldap.corp.test/cn=CA?certificateRevocationList",
                defaultExtendedKeyUsage: ["clientAuth", "1.3.6.1.5.5.7.3.17"],
                rsaSignature: .pssSHA256
            ),
            policy: .init(
                minRSABits: 3072,
                allowedCurves: [.p384, .brainpoolP256r1, .secp256k1],
                allowSHA1CSRSignature: true,
                maxCSRBytes: 4096
            ),
            daemon: .init(workers: 3)
        )
        #expect(configuration == expected)
    }

    @Test(arguments: RSASignatureScheme.allCases)
    func everyRSASignatureNameIsAccepted(signature: RSASignatureScheme) throws {
        let configuration = try Fixture.parse(Fixture.caSection + "[certificate]\nrsa_signature = \"\(signature.rawValue)\"\n")
        #expect(configuration.certificate.rsaSignature == signature)
    }

    @Test func aWholeNumberIsAcceptedWhereSecondsMayHaveFractions() throws {
        let configuration = try Fixture.parse(Fixture.caSection + "[spool]\nsettle_seconds = 7\n")
        #expect(configuration.spool.settleSeconds == 7.0)
    }

    @Test func emptyListsAreAllowed() throws {
        let configuration = try Fixture.parse(
            Fixture.caSection + "[policy]\nallowed_curves = []\n[certificate]\ndefault_extended_key_usage = []\n"
        )
        #expect(configuration.policy.allowedCurves.isEmpty)
        #expect(configuration.certificate.defaultExtendedKeyUsage.isEmpty)
    }

    @Test func extendedKeyUsageNamesMapToTheirOIDs() throws {
        let configuration = try Fixture.parse(
            Fixture.caSection + "[certificate]\ndefault_extended_key_usage = [\"serverAuth\", \"OCSPSigning\", \"1.2.3\"]\n"
        )
        let oids = configuration.certificate.defaultExtendedKeyUsage.map(ExtendedKeyUsage.oid(for:))
        #expect(oids == ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.9", "1.2.3"])
    }

    /// The configuration and the certificate builder read one table and one OID check:
    /// whatever the file accepts, the builder can encode, and what it refuses, the builder
    /// would too.
    @Test(arguments: ["1.2", "2.999.1", "0.39", "1.3.6.1.4.1.311.20.2.2"])
    func oidsTheConfigurationAcceptsAreOnesTheBuilderMaps(oid: String) throws {
        let configuration = try Fixture.parse(Fixture.caSection + "[certificate]\ndefault_extended_key_usage = [\"\(oid)\"]\n")
        #expect(configuration.certificate.defaultExtendedKeyUsage == [oid])
        #expect(ExtendedKeyUsage.oid(for: oid) == oid)
    }

    @Test(arguments: ["1.40", "3.1", "1.02", "1..2", "1"])
    func oidsTheConfigurationRefusesAreOnesTheBuilderRefuses(oid: String) throws {
        #expect(throws: ConfigurationError.self) {
            _ = try Fixture.parse(Fixture.caSection + "[certificate]\ndefault_extended_key_usage = [\"\(oid)\"]\n")
        }
        #expect(ExtendedKeyUsage.oid(for: oid) == nil)
    }

    @Test func sectionsMayBeWrittenAsDottedKeysOrInlineTables() throws {
        let configuration = try Fixture.parse(
            """
            ca = { certificate = "/pki/ca.crt", key = "/pki/ca.key" }
            certificate.validity_days = 30
            """
        )
        #expect(configuration.ca.certificate == "/pki/ca.crt")
        #expect(configuration.certificate.validityDays == 30)
    }

    // MARK: Paths

    @Test func relativePathsAreTakenFromTheConfigFilesFolder() throws {
        let configuration = try Fixture.parse(
            """
            [spool]
            inbox = "spool/inbox"
            outbox = "./spool/outbox"
            failed = "../common/failed"
            [state]
            directory = "state"
            [ca]
            certificate = "ca.pem"
            key = "private/ca.key"
            """
        )
        #expect(configuration.spool.inbox == "/srv/dropca/spool/inbox")
        #expect(configuration.spool.outbox == "/srv/dropca/spool/outbox")
        #expect(configuration.spool.failed == "/srv/dropca/../common/failed")
        #expect(configuration.state.directory == "/srv/dropca/state")
        #expect(configuration.ca.certificate == "/srv/dropca/ca.pem")
        #expect(configuration.ca.key == .file("/srv/dropca/private/ca.key"))
    }

    @Test func absolutePathsStayAsWritten() throws {
        let configuration = try Fixture.parse(
            """
            [spool]
            inbox = "/mnt/sftp/inbox/"
            [ca]
            certificate = "/pki//ca.pem"
            key = "/pki/ca.key"
            """
        )
        #expect(configuration.spool.inbox == "/mnt/sftp/inbox/")
        #expect(configuration.ca.certificate == "/pki//ca.pem")
    }

    @Test func loadReadsTheFileAndResolvesPathsAgainstItsFolder() throws {
        let folder = try Fixture.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("dropca.toml").path
        try """
            [spool]
            inbox = "inbox"
            [ca]
            certificate = "ca.pem"
            key = "ca.key"
            """.write(toFile: path, atomically: true, encoding: .utf8)

        let configuration = try Configuration.load(path: path, environment: [:])

        #expect(configuration.spool.inbox == folder.path + "/inbox")
        #expect(configuration.ca.certificate == folder.path + "/ca.pem")
        #expect(configuration.ca.key == .file(folder.path + "/ca.key"))
    }

    @Test func aRelativeConfigPathIsMadeAbsoluteFromTheCurrentDirectory() {
        #expect(ConfigurationPath.folder(of: "dropca-dev/dropca.toml", currentDirectory: "/home/op") == "/home/op/dropca-dev")
        #expect(ConfigurationPath.folder(of: "dropca.toml", currentDirectory: "/home/op") == "/home/op")
        #expect(ConfigurationPath.folder(of: "./dropca.toml", currentDirectory: "/home/op/") == "/home/op")
        #expect(ConfigurationPath.folder(of: "/etc/dropca/dropca.toml", currentDirectory: "/home/op") == "/etc/dropca")
        #expect(ConfigurationPath.folder(of: "/dropca.toml", currentDirectory: "/home/op") == "/")
    }

    // MARK: Where the file is

    @Test func configPathComesFromTheFlagThenTheEnvironmentThenEtc() {
        let environment = ["DROPCA_CONFIG": "/opt/dropca.toml"]
        #expect(Configuration.defaultPath(explicit: "/opt/site/x.toml", environment: environment) == "/opt/site/x.toml")
        #expect(Configuration.defaultPath(explicit: nil, environment: environment) == "/opt/dropca.toml")
        #expect(Configuration.defaultPath(explicit: nil, environment: [:]) == "/etc/dropca/dropca.toml")
        #expect(Configuration.defaultPath(explicit: "", environment: ["DROPCA_CONFIG": ""]) == "/etc/dropca/dropca.toml")
    }

    // MARK: Workers

    @Test func zeroWorkersMeansOnePerCPU() {
        #expect(Configuration.DaemonSettings(workers: 0).effectiveWorkers == ProcessInfo.processInfo.activeProcessorCount)
        #expect(Configuration.DaemonSettings(workers: 5).effectiveWorkers == 5)
    }
}
