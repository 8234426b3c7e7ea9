import Foundation
import TestSupport
import Testing

/// `dropca init`, `issue` and `check-config` as an operator runs them: the real binary,
/// its exit codes, its messages, and certificates judged by OpenSSL.
@Suite struct CommandLineTests {
    /// A fresh development setup made by `dropca init`.
    struct DevelopmentSetupFixture {
        let directory: TemporaryDirectory
        var root: String { directory.path("dev") }
        var config: String { root + "/dropca.toml" }
        var caCertificate: String { root + "/ca/ca.pem" }

        init() throws {
            directory = try TemporaryDirectory()
            let result = try DropCABinary.run(["init", "--dir", directory.path("dev")])
            guard result.succeeded else { throw ComparisonFailure("dropca init failed: \(result.output)") }
        }
    }

    static func request(_ directory: TemporaryDirectory, name: String, keyArguments: [String] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], subject: String = "/CN=device.example") throws -> String {
        let path = directory.path(name)
        let result = try ExternalTool.run("openssl", ["req", "-new"] + keyArguments + ["-nodes", "-keyout", directory.path(name + ".key"), "-subj", subject, "-out", path])
        guard result.succeeded else { throw ComparisonFailure(result.output) }
        return path
    }

    @Test func initCreatesAUsableDevelopmentSetup() throws {
        let setup = try DevelopmentSetupFixture()
        for folder in ["spool/inbox", "spool/outbox", "spool/failed", "state", "ca"] {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: setup.root + "/" + folder, isDirectory: &isDirectory) && isDirectory.boolValue, "\(folder)")
        }
        let keyMode = try FileManager.default.attributesOfItem(atPath: setup.root + "/ca/ca.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let text = try ExternalTool.run("openssl", ["x509", "-in", setup.caCertificate, "-noout", "-text"]).stdout
        #expect(text.contains("CA:TRUE") && text.contains("Certificate Sign") && text.contains("prime256v1"))

        let check = try DropCABinary.run(["check-config", "--config", setup.config])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("configuration is usable"))
    }

    @Test func initNeverReplacesAnExistingCA() throws {
        let setup = try DevelopmentSetupFixture()
        let before = try Data(contentsOf: URL(fileURLWithPath: setup.root + "/ca/ca.key"))
        let again = try DropCABinary.run(["init", "--dir", setup.root])
        #expect(again.status != 0)
        #expect(again.stderr.contains("already exists"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: setup.root + "/ca/ca.key")) == before)
    }

    @Test func issueWritesVerifiableDERAndExitsZero() throws {
        let setup = try DevelopmentSetupFixture()
        let request = try Self.request(setup.directory, name: "printer.csr")
        let out = setup.directory.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let result = try DropCABinary.run(["issue", "--config", setup.config, "--out-dir", out, request])
        #expect(result.status == 0, "\(result.output)")
        let certificate = out + "/printer.cer"
        let der = try [UInt8](Data(contentsOf: URL(fileURLWithPath: certificate)))
        #expect(der.first == 0x30, "DER, not PEM")
        #expect(try IndependentCheckers.problems(certificateDER: der, caCertificatePath: setup.caCertificate) == [])
    }

    @Test func issueExitsOneWhenAnyIsRejectedAndStillIssuesTheRest() throws {
        let setup = try DevelopmentSetupFixture()
        let good = try Self.request(setup.directory, name: "good.pem")
        let weak = try Self.request(setup.directory, name: "weak.req", keyArguments: ["-newkey", "rsa:1024"])
        let garbage = setup.directory.path("garbage.csr")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: garbage))
        let result = try DropCABinary.run(["issue", "--config", setup.config, "--out-dir", setup.directory.path(""), weak, good, garbage])
        #expect(result.status == 1)
        #expect(result.stderr.contains("weak.req: rejected: RSA key of 1024 bits is below policy.min_rsa_bits = 2048"), "\(result.stderr)")
        #expect(result.stderr.contains("garbage.csr: rejected:"))
        #expect(FileManager.default.fileExists(atPath: setup.directory.path("good.cer")))
        #expect(!FileManager.default.fileExists(atPath: setup.directory.path("weak.cer")))
    }

    @Test func issueToStandardOutput() throws {
        let setup = try DevelopmentSetupFixture()
        let request = try Self.request(setup.directory, name: "a.csr")
        let result = try DropCABinary.run(["issue", "--config", setup.config, "-o", setup.directory.path("x.der"), request])
        #expect(result.status == 0, "\(result.output)")
        let parsed = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-in", setup.directory.path("x.der"), "-noout", "-subject"])
        #expect(parsed.stdout.contains("CN = device.example"))
    }

    @Test func usageAndConfigurationErrorsExitTwo() throws {
        let setup = try DevelopmentSetupFixture()
        let a = try Self.request(setup.directory, name: "a.csr")
        let b = try Self.request(setup.directory, name: "b.csr")
        let twoWithOutput = try DropCABinary.run(["issue", "--config", setup.config, "-o", "x.cer", a, b])
        #expect(twoWithOutput.status == 2, "\(twoWithOutput.output)")
        let noRequests = try DropCABinary.run(["issue", "--config", setup.config])
        #expect(noRequests.status == 2)
        let missingConfig = try DropCABinary.run(["issue", "--config", setup.directory.path("nope.toml"), a])
        #expect(missingConfig.status == 2)
        #expect(missingConfig.stderr.contains("nope.toml"))

        let broken = setup.directory.path("broken.toml")
        let text = try String(contentsOfFile: setup.config, encoding: .utf8).replacingOccurrences(of: "validity_days = 365", with: "validity_days = \"a year\"")
        try text.write(toFile: broken, atomically: true, encoding: .utf8)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("validity_days") }.map { $0 + 1 } ?? -1
        let issue = try DropCABinary.run(["issue", "--config", broken, a])
        #expect(issue.status == 2)
        #expect(issue.stderr.contains("broken.toml:\(line): certificate.validity_days"), "\(issue.stderr)")
        let check = try DropCABinary.run(["check-config", "--config", broken])
        #expect(check.status == 2)
        #expect(check.stderr.contains("broken.toml:\(line): certificate.validity_days"), "\(check.stderr)")
    }

    @Test func checkConfigFindsMissingFoldersAndAForeignKey() throws {
        let setup = try DevelopmentSetupFixture()
        try FileManager.default.removeItem(atPath: setup.root + "/spool/outbox")
        let other = try DevelopmentSetupFixture()
        try FileManager.default.removeItem(atPath: setup.root + "/ca/ca.key")
        try FileManager.default.copyItem(atPath: other.root + "/ca/ca.key", toPath: setup.root + "/ca/ca.key")
        let check = try DropCABinary.run(["check-config", "--config", setup.config])
        #expect(check.status == 2)
        #expect(check.stderr.contains("spool.outbox"), "\(check.stderr)")
        #expect(check.stderr.contains("does not belong"), "\(check.stderr)")
    }

    /// Before anything was issued there is no ledger file: that is an empty list, not an error.
    @Test func listBeforeAnyIssuanceIsEmptyAndExitsZero() throws {
        let setup = try DevelopmentSetupFixture()
        let plain = try DropCABinary.run(["list", "--config", setup.config])
        #expect(plain.status == 0, "\(plain.output)")
        #expect(plain.stdout.isEmpty)
        let json = try DropCABinary.run(["list", "--json", "--config", setup.config])
        #expect(json.status == 0, "\(json.output)")
        #expect(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let show = try DropCABinary.run(["show", "01", "--config", setup.config])
        #expect(show.status == 1, "\(show.output)")
        #expect(show.stderr.contains("no certificate with serial 01"))
        let broken = try DropCABinary.run(["list", "--config", setup.directory.path("nope.toml")])
        #expect(broken.status == 2)
    }

    @Test func checkConfigWarnsWhenTheCRLAndTheCertificatesDoNotPointAtEachOther() throws {
        let setup = try DevelopmentSetupFixture()
        let published = try DropCABinary.run(["check-config", "--config", setup.config])
        #expect(published.status == 0 && published.stdout.contains("but certificate.crl_url is empty"), "\(published.output)")

        let text = try String(contentsOfFile: setup.config, encoding: .utf8)
            .replacingOccurrences(of: "directory = \"public\"", with: "directory = \"\"")
            .replacingOccurrences(of: "crl_url = \"\"", with: "crl_url = \"http://pki.test/ca.crl\"")
        try text.write(toFile: setup.config, atomically: true, encoding: .utf8)
        let unpublished = try DropCABinary.run(["check-config", "--config", setup.config])
        #expect(unpublished.status == 0 && unpublished.stdout.contains("but crl.directory is empty"), "\(unpublished.output)")

        let inverted = text.replacingOccurrences(of: "refresh_hours = 24", with: "refresh_hours = 200")
        try inverted.write(toFile: setup.config, atomically: true, encoding: .utf8)
        let refused = try DropCABinary.run(["check-config", "--config", setup.config])
        #expect(refused.status == 2 && refused.stderr.contains("crl.refresh_hours (200) must be below crl.validity_hours (168)"), "\(refused.output)")
    }

    @Test func configurationComesFromTheEnvironmentWhenNotGiven() throws {
        let setup = try DevelopmentSetupFixture()
        let check = try DropCABinary.run(["check-config"], environment: ["DROPCA_CONFIG": setup.config])
        #expect(check.status == 0, "\(check.output)")
    }
}

struct ComparisonFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
