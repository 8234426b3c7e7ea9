import Testing

@testable import DropCA

@Suite("Configuration template")
struct ConfigurationTemplateTests {
    typealias Fixture = ConfigurationFixture

    @Test func theTemplateParsesBackToTheValuesGiven() throws {
        let text = Configuration.template(
            caCertificate: "/etc/dropca/ca.pem",
            caKey: "/etc/dropca/ca.key",
            inbox: "/srv/sftp/inbox",
            outbox: "/srv/sftp/outbox",
            failed: "/srv/sftp/failed",
            stateDirectory: "/var/lib/dropca-test"
        )
        let configuration = try Fixture.parse(text)

        let expected = Configuration(
            spool: .init(inbox: "/srv/sftp/inbox", outbox: "/srv/sftp/outbox", failed: "/srv/sftp/failed"),
            state: .init(directory: "/var/lib/dropca-test"),
            ca: .init(certificate: "/etc/dropca/ca.pem", key: .file("/etc/dropca/ca.key"))
        )
        #expect(configuration == expected)
    }

    /// `dropca init` writes relative paths so its folder can be moved as a whole.
    @Test func relativePathsInTheTemplateResolveAgainstTheFilesFolder() throws {
        let text = Configuration.template(
            caCertificate: "ca.pem",
            caKey: "ca.key",
            inbox: "inbox",
            outbox: "outbox",
            failed: "failed",
            stateDirectory: "state"
        )
        let configuration = try Configuration.parse(text: text, file: "dropca.toml", baseDirectory: "/home/op/dropca-dev")

        #expect(configuration.ca.certificate == "/home/op/dropca-dev/ca.pem")
        #expect(configuration.ca.key == .file("/home/op/dropca-dev/ca.key"))
        #expect(configuration.spool.inbox == "/home/op/dropca-dev/inbox")
        #expect(configuration.spool.outbox == "/home/op/dropca-dev/outbox")
        #expect(configuration.spool.failed == "/home/op/dropca-dev/failed")
        #expect(configuration.state.directory == "/home/op/dropca-dev/state")
    }

    @Test func pathsThatNeedEscapingSurviveTheRoundTrip() throws {
        let odd = "/srv/\"quoted\" \\ back\tslash/ünïcode"
        let text = Configuration.template(
            caCertificate: odd + "/ca.pem",
            caKey: "credential:dropca-ca",
            inbox: odd + "/in",
            outbox: odd + "/out",
            failed: odd + "/failed",
            stateDirectory: odd + "/state"
        )
        let configuration = try Fixture.parse(text)

        #expect(configuration.ca.certificate == odd + "/ca.pem")
        #expect(configuration.ca.key == .credential("dropca-ca"))
        #expect(configuration.spool.inbox == odd + "/in")
        #expect(configuration.state.directory == odd + "/state")
    }

    @Test func theTemplateWritesEveryKeyWithACommentAboveIt() {
        let text = Configuration.template(
            caCertificate: "ca.pem", caKey: "ca.key", inbox: "i", outbox: "o", failed: "f", stateDirectory: "s"
        )
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let expectedKeys = [
            "inbox", "outbox", "failed", "settle_seconds", "rescan_seconds",
            "directory",
            "certificate", "key",
            "validity_days", "backdate_seconds", "ca_issuers_url", "ocsp_url", "crl_url",
            "default_extended_key_usage", "rsa_signature",
            "min_rsa_bits", "allowed_curves", "allow_sha1_csr_signature", "max_csr_bytes",
            "directory", "validity_hours", "refresh_hours",
            "workers", "input_budget_mib", "textfile",
        ]
        var writtenKeys: [String] = []
        for (index, line) in lines.enumerated() {
            guard let equals = line.range(of: " = "), !line.hasPrefix("#") else {
                continue
            }
            let key = String(line[..<equals.lowerBound])
            writtenKeys.append(key)
            #expect(index > 0 && lines[index - 1].hasPrefix("# "), "no comment above \(key)")
        }
        #expect(writtenKeys == expectedKeys)
        #expect(lines.filter { $0.hasPrefix("[") } == ["[spool]", "[state]", "[ca]", "[certificate]", "[policy]", "[crl]", "[daemon]", "[metrics]"])
    }

    @Test func theTemplateLeavesTheCAIssuersURLUnset() {
        let text = Configuration.template(
            caCertificate: "ca.pem", caKey: "ca.key", inbox: "i", outbox: "o", failed: "f", stateDirectory: "s"
        )
        #expect(text.contains("ca_issuers_url = \"\"\n"))
        #expect(!text.contains("example.com"))
    }
}
