import Foundation
import TestSupport
import Testing

/// The new configuration as the commands see it today: the top-level `[names]` applies to
/// `dropca issue`, and `check-config` checks every profile's folders and issuer and the
/// `ca.chain` file.
@Suite struct ProfileCommandTests {
    typealias Setup = CommandLineTests.DevelopmentSetupFixture

    static func write(_ setup: Setup, _ edit: (String) -> String) throws -> String {
        // Beside the original: its relative paths are relative to its folder.
        let path = setup.root + "/edited.toml"
        try edit(try String(contentsOfFile: setup.config, encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theTopLevelNamePolicyDecidesWhatIssueSigns() throws {
        let setup = try Setup()
        let request = try CommandLineTests.request(setup.directory, name: "device.csr", subject: "/CN=device.example")
        let out = setup.directory.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        let refusing = try Self.write(setup) { $0 + "\n[names]\ndns = [\"printer.example\"]\n" }
        let refused = try DropCABinary.run(["issue", "--config", refusing, "--out-dir", out, request])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.stderr.contains("subject CN \"device.example\" (a DNS name) is outside profile default's names.dns"), "\(refused.stderr)")

        let allowing = try Self.write(setup) { $0 + "\n[names]\ndns = [\"device.example\"]\n" }
        let issued = try DropCABinary.run(["issue", "--config", allowing, "--out-dir", out, request])
        #expect(issued.status == 0, "\(issued.output)")
        let problems = try IndependentCheckers.problems(certificateDER: [UInt8](Data(contentsOf: URL(fileURLWithPath: out + "/device.cer"))),
                                                        caCertificatePath: setup.caCertificate)
        #expect(problems == [], "\(problems)")
    }

    @Test func checkConfigChecksEveryProfilesFolders() throws {
        let setup = try Setup()
        let missing = setup.directory.path("printers")
        let config = try Self.write(setup) {
            $0 + "\n[profiles.printers.spool]\ninbox = \"\(missing)/in\"\noutbox = \"\(missing)/out\"\nfailed = \"\(missing)/failed\"\n"
        }
        let check = try DropCABinary.run(["check-config", "--config", config])
        #expect(check.status == 2, "\(check.output)")
        for folder in ["inbox", "outbox", "failed"] {
            #expect(check.stderr.contains("profiles.printers.spool.\(folder) = \(missing)/"), "\(check.stderr)")
        }
        for folder in ["in", "out", "failed"] {
            try FileManager.default.createDirectory(atPath: "\(missing)/\(folder)", withIntermediateDirectories: true)
        }
        let fixed = try DropCABinary.run(["check-config", "--config", config])
        #expect(fixed.status == 0, "\(fixed.output)")
    }

    @Test func checkConfigRefusesAChainThatIsNoChain() throws {
        let setup = try Setup()
        let chain = setup.directory.path("chain.pem")
        try FileManager.default.copyItem(atPath: setup.root + "/ca/ca.key", toPath: chain)
        let withKey = try Self.write(setup) { $0.replacingOccurrences(of: "[ca]\n", with: "[ca]\nchain = \"\(chain)\"\n") }
        let check = try DropCABinary.run(["check-config", "--config", withKey])
        #expect(check.status == 2, "\(check.output)")
        #expect(check.stderr.contains("\(chain): ca.chain block 1 is a "), "\(check.stderr)")
        #expect(check.stderr.contains("PRIVATE KEY, not a CERTIFICATE"), "\(check.stderr)")

        // The development CA is a root: nothing is above it, so its own certificate is refused too.
        try FileManager.default.removeItem(atPath: chain)
        try FileManager.default.copyItem(atPath: setup.caCertificate, toPath: chain)
        let itself = try DropCABinary.run(["check-config", "--config", withKey])
        #expect(itself.status == 2)
        #expect(itself.stderr.contains("is the issuing CA certificate itself"), "\(itself.stderr)")
    }
}
