import Foundation
import TestSupport
import Testing

/// `dropca issue --profile NAME` issues with a profile's rules and writes its outputs;
/// `check-config` warns when one profile's uploaders could reach another's folders.
@Suite struct ProfileIssueTests {
    typealias Setup = CommandLineTests.DevelopmentSetupFixture

    static func withPrinters(_ setup: Setup, outputs: String = "[\"der\", \"pem\", \"pem-chain\", \"p7b\"]") throws -> String {
        for folder in ["in", "out", "failed"] {
            try FileManager.default.createDirectory(atPath: setup.root + "/printers/\(folder)", withIntermediateDirectories: true)
        }
        return try ProfileCommandTests.write(setup) {
            $0 + """

            [profiles.printers]
            outputs = \(outputs)
            [profiles.printers.spool]
            inbox = "printers/in"
            outbox = "printers/out"
            failed = "printers/failed"
            [profiles.printers.names]
            dns = [".printers.example"]

            """
        }
    }

    @Test func issueWithAProfileUsesItsRulesAndWritesItsOutputs() throws {
        let setup = try Setup()
        let config = try Self.withPrinters(setup)
        let out = setup.directory.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let laser = try CommandLineTests.request(setup.directory, name: "laser.csr", subject: "/CN=laser.printers.example")
        let issued = try DropCABinary.run(["issue", "--config", config, "--profile", "printers", "--out-dir", out, laser])
        #expect(issued.status == 0, "\(issued.output)")
        #expect(ProfileFixtures.outputs(in: out) == ["laser.cer", "laser.chain.pem", "laser.p7b", "laser.pem"])
        // No ca.chain: pem-chain and p7b hold the certificate and the (root) CA.
        let caSubject = try ExternalTool.run("openssl", ["x509", "-in", setup.caCertificate, "-noout", "-subject"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let problems = try ProfileFixtures.outputProblems(folder: out, stem: "laser", outputs: DaemonProfileTests.allOutputs,
                                                          anchor: setup.caCertificate, untrusted: nil, chain: [caSubject])
        #expect(problems == [], "\(problems)")

        // The profile's names, not the top level's (which has none): refused.
        let device = try CommandLineTests.request(setup.directory, name: "device.csr")
        let refused = try DropCABinary.run(["issue", "--config", config, "--profile", "printers", "--out-dir", out, device])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is outside profile printers' names.dns"), "\(refused.stderr)")
        // Without --profile, the default profile's rules and its one output.
        let plain = try DropCABinary.run(["issue", "--config", config, "--out-dir", out, device])
        #expect(plain.status == 0, "\(plain.output)")
        #expect(ProfileFixtures.outputs(in: out).contains("device.cer") && !ProfileFixtures.outputs(in: out).contains("device.pem"))
    }

    @Test func issueRefusesAnUnknownProfileAndOneFileForSeveralOutputs() throws {
        let setup = try Setup()
        let config = try Self.withPrinters(setup)
        let laser = try CommandLineTests.request(setup.directory, name: "laser.csr", subject: "/CN=laser.printers.example")
        let unknown = try DropCABinary.run(["issue", "--config", config, "--profile", "cameras", "-o", "-", laser])
        #expect(unknown.status == 2 && unknown.stderr.contains("has no profile cameras (profiles: default, printers)"), "\(unknown.output)")
        let several = try DropCABinary.run(["issue", "--config", config, "--profile", "printers", "-o", setup.directory.path("x"), laser])
        #expect(several.status == 2 && several.stderr.contains("use --out-dir"), "\(several.output)")
        // One output, one file: -o writes it in that format.
        let pemOnly = try Self.withPrinters(setup, outputs: "[\"pem\"]")
        let pem = try DropCABinary.run(["issue", "--config", pemOnly, "--profile", "printers", "-o", setup.directory.path("laser.pem"), laser])
        #expect(pem.status == 0, "\(pem.output)")
        #expect(try String(contentsOfFile: setup.directory.path("laser.pem"), encoding: .utf8).hasPrefix("-----BEGIN CERTIFICATE-----"))
    }

    /// One group that may write the default inbox and read the printers' outbox: its
    /// appliances could fetch the printers' certificates.
    @Test func checkConfigWarnsWhenOneProfilesUploadersReachAnothersFolders() throws {
        let setup = try Setup()
        let config = try Self.withPrinters(setup)
        let separate = try DropCABinary.run(["check-config", "--config", config])
        #expect(separate.status == 0, "\(separate.output)")
        #expect(!separate.output.contains("the uploaders of profile"), "\(separate.output)")

        chmod(setup.root + "/spool/inbox", 0o2770)
        chmod(setup.root + "/printers/out", 0o2750)
        let shared = try DropCABinary.run(["check-config", "--config", config])
        #expect(shared.status == 0, "a warning, not an error: \(shared.output)")
        #expect(shared.output.contains("the uploaders of profile default (group "), "\(shared.output)")
        #expect(shared.output.contains("could read profile printers' outbox /") && shared.output.contains("/dev/printers/out (group root, mode 2750: its group may)"), "\(shared.output)")
    }
}
