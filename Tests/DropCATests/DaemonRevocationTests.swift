import Foundation
import TestSupport
import Testing

/// `dropca revoke` against the real daemon, and the CRL it keeps fresh: checked by OpenSSL,
/// GnuTLS and pkilint, through restarts and kills.
@Suite(.serialized) struct DaemonRevocationTests {
    static func crl(_ daemon: DaemonHarness) -> [UInt8]? {
        FileManager.default.contents(atPath: daemon.root + "/public/ca.crl").map { [UInt8]($0) }
    }

    /// CRL Number and nextUpdate as `openssl crl -text` prints them.
    static func crlFields(_ der: [UInt8]) throws -> (number: Int, nextUpdate: String, text: String) {
        let text = try CRLCheckers.text(der)
        guard let range = text.range(of: #"CRL Number: ?\n\s*(\d+)"#, options: .regularExpression) else {
            throw HarnessError("no CRL Number in:\n\(text)")
        }
        let number = Int(text[range].split(whereSeparator: { !$0.isNumber }).last ?? "") ?? -1
        let next = text.split(separator: "\n").first { $0.contains("Next Update:") }.map(String.init) ?? ""
        return (number, next, text)
    }

    static func serial(of stem: String, in daemon: DaemonHarness) throws -> String {
        let out = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-noout", "-serial"], stdin: daemon.certificate(stem))
        return String(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("serial=".count))
    }

    static func revoke(_ daemon: DaemonHarness, _ arguments: [String], stdin: [UInt8]? = nil) throws -> ToolResult {
        try DropCABinary.run(["revoke", "--config", daemon.config] + arguments, stdin: stdin)
    }

    @Test func aRevocationReachesTheRunningDaemonsCRLAndTheCRLRefusesTheCertificate() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try daemon.waitFor("the first CRL", timeout: 10) { Self.crl(daemon) != nil }
        let first = try Self.crlFields(try #require(Self.crl(daemon)))
        #expect(first.text.contains("No Revoked Certificates"), "\(first.text)")

        try daemon.drop("firewall.csr", SampleRequests.p256)
        try daemon.drop("printer.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["firewall", "printer"])
        let firewall = try Self.serial(of: "firewall", in: daemon)
        let printer = try Self.serial(of: "printer", in: daemon)

        let revoked = try Self.revoke(daemon, ["--reason", "keyCompromise", firewall])
        #expect(revoked.status == 0, "\(revoked.output)")
        #expect(revoked.stdout.lowercased().contains("\(firewall.lowercased()): revoked (keycompromise)"), "\(revoked.stdout)")
        #expect(revoked.stderr.contains("published in CRL number"), "\(revoked.stderr)")

        // The command returned only after the CRL was in place.
        let crl = try #require(Self.crl(daemon))
        let caPath = daemon.root + "/ca/ca.pem"
        #expect(try CRLCheckers.problems(crlDER: crl, caCertificatePath: caPath) == [])
        let refused = try CRLCheckers.verify(certificateDER: try #require(daemon.certificate("firewall")), caCertificatePath: caPath, crlDER: crl)
        #expect(!refused.succeeded && refused.output.contains("certificate revoked"), "\(refused.output)")
        let accepted = try CRLCheckers.verify(certificateDER: try #require(daemon.certificate("printer")), caCertificatePath: caPath, crlDER: crl)
        #expect(accepted.succeeded, "\(accepted.output)")
        #expect(try Self.crlFields(crl).number > first.number)
        // ca.cer beside it is the CA certificate, DER.
        let published = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-in", daemon.root + "/public/ca.cer", "-noout", "-fingerprint", "-sha256"])
        let configured = try ExternalTool.run("openssl", ["x509", "-in", caPath, "-noout", "-fingerprint", "-sha256"])
        #expect(published.succeeded && published.stdout == configured.stdout, "\(published.output)")

        // Again: nothing changes, and it says so.
        let again = try Self.revoke(daemon, [firewall])
        #expect(again.status == 0 && again.stdout.contains("already revoked"), "\(again.output)")

        // Unknown next to a valid serial: exit 1 and the valid one is not revoked either.
        let unknown = try Self.revoke(daemon, [printer, "0123456789abcdef"])
        #expect(unknown.status == 1, "\(unknown.output)")
        #expect(unknown.stdout.contains("0123456789abcdef: no such certificate"), "\(unknown.stdout)")
        #expect(unknown.stdout.lowercased().contains("\(printer.lowercased()): not revoked"), "\(unknown.stdout)")
        let malformed = try Self.revoke(daemon, ["not-a-serial"])
        #expect(malformed.status == 2 && malformed.stderr.contains("is not a serial number"), "\(malformed.output)")
        let badReason = try Self.revoke(daemon, ["--reason", "lostIt", printer])
        #expect(badReason.status == 2 && badReason.stderr.contains("unknown reason"), "\(badReason.output)")

        let list = try DropCABinary.run(["list", "--json", "--status", "revoked", "--config", daemon.config])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(objects.count == 1)
        #expect(objects.first?["revocation_reason"] as? String == "keyCompromise")
        #expect(objects.first?["status"] as? String == "revoked")
        let valid = try DropCABinary.run(["list", "--status", "valid", "--config", daemon.config])
        #expect(valid.stdout.contains(printer.lowercased()) && !valid.stdout.contains(firewall.lowercased()), "\(valid.stdout)")
        let shown = try DropCABinary.run(["show", firewall, "--config", daemon.config])
        #expect(shown.stdout.contains("status:      revoked") && shown.stdout.contains("reason:      keyCompromise"), "\(shown.stdout)")
        try daemon.waitFor("the revocation in the log", timeout: 10) { daemon.logText.contains("revoked serial") }
        #expect(try daemon.stop() == 0)
    }

    @Test(.timeLimit(.minutes(10)))
    func theCRLNumberOnlyGoesUpThroughRefreshesReloadsAndRestarts() throws {
        // Re-signed every 3.6 s, valid for 36 s.
        // Valid for 3 minutes, re-signed every 3.6 s: the checkers at the end still see a
        // current CRL on a slow machine.
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.5", "rescan_seconds": "0", "validity_hours": "0.05", "refresh_hours": "0.001"])
        var numbers: [Int] = []
        var nextUpdates: [String] = []
        func record() throws {
            let fields = try Self.crlFields(try #require(Self.crl(daemon)))
            numbers.append(fields.number)
            nextUpdates.append(fields.nextUpdate)
        }
        try daemon.start()
        try daemon.waitFor("the first CRL", timeout: 10) { Self.crl(daemon) != nil }
        try record()
        // A refresh with nothing revoked.
        let before = numbers.last ?? 0
        try daemon.waitFor("a refreshed CRL", timeout: 20) { ((try? Self.crlFields(Self.crl(daemon) ?? [])).map(\.number) ?? 0) > before }
        try record()
        daemon.signal(SIGHUP)
        try daemon.waitFor("the reload", timeout: 10) { daemon.logText.contains("configuration reloaded") }
        try daemon.waitFor("a CRL after the reload", timeout: 20) { ((try? Self.crlFields(Self.crl(daemon) ?? [])).map(\.number) ?? 0) > numbers.last! }
        try record()
        #expect(try daemon.stop() == 0)
        try daemon.start()
        try daemon.waitFor("a CRL after the restart", timeout: 20) { ((try? Self.crlFields(Self.crl(daemon) ?? [])).map(\.number) ?? 0) > numbers.last! }
        try record()
        try daemon.kill9()
        try daemon.start()
        try daemon.waitFor("a CRL after SIGKILL", timeout: 20) { ((try? Self.crlFields(Self.crl(daemon) ?? [])).map(\.number) ?? 0) > numbers.last! }
        try record()
        #expect(try daemon.stop() == 0)

        #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 }, "\(numbers)")
        #expect(Set(nextUpdates).count > 1, "nextUpdate moves with no revocation: \(nextUpdates)")
        #expect(try CRLCheckers.problems(crlDER: try #require(Self.crl(daemon)), caCertificatePath: daemon.root + "/ca/ca.pem") == [])
    }

    @Test func aRevocationWhileTheDaemonIsDownIsInTheFirstCRLAtStartAndSurvivesASigkill() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try daemon.drop("a.csr", SampleRequests.p256)
        try daemon.drop("b.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["a", "b"])
        #expect(try daemon.stop() == 0)
        let a = try Self.serial(of: "a", in: daemon)
        let b = try Self.serial(of: "b", in: daemon)

        let offline = try Self.revoke(daemon, ["--reason", "cessationOfOperation", a])
        #expect(offline.status == 0, "\(offline.output)")
        #expect(offline.stderr.contains("not running"), "\(offline.stderr)")
        try daemon.start()
        let caPath = daemon.root + "/ca/ca.pem"
        try daemon.waitFor("a CRL listing the revocation", timeout: 10) {
            (try? CRLCheckers.verify(certificateDER: daemon.certificate("a") ?? [], caCertificatePath: caPath, crlDER: Self.crl(daemon) ?? []))?.output.contains("certificate revoked") == true
        }

        // Revoked from stdin, then the daemon killed the moment the command returns; the
        // CRL the next start publishes (a higher number) still lists it.
        let online = try Self.revoke(daemon, ["--from", "-"], stdin: Array("# one serial a line\n\(b)\n".utf8))
        #expect(online.status == 0, "\(online.output)")
        try daemon.kill9()
        let beforeRestart = try Self.crlFields(try #require(Self.crl(daemon))).number
        try daemon.start()
        try daemon.waitFor("a new CRL after the restart", timeout: 10) {
            ((try? Self.crlFields(Self.crl(daemon) ?? [])).map(\.number) ?? 0) > beforeRestart
        }
        let afterRestart = try CRLCheckers.verify(certificateDER: daemon.certificate("b") ?? [], caCertificatePath: caPath, crlDER: Self.crl(daemon) ?? [])
        #expect(afterRestart.output.contains("certificate revoked"), "\(afterRestart.output)")
        #expect(try daemon.stop() == 0)
    }

    /// A CRL folder that cannot be made is an error in the log, retried, and never stops
    /// issuance.
    @Test func aCRLFolderThatCannotBeMadeDoesNotStopIssuance() throws {
        let daemon = try DaemonHarness()
        let config = try String(contentsOfFile: daemon.config, encoding: .utf8)
            .replacingOccurrences(of: "directory = \"public\"", with: "directory = \"no/such/parent/public\"")
        try config.write(toFile: daemon.config, atomically: true, encoding: .utf8)
        try daemon.start()
        try daemon.drop("still.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["still"])
        try daemon.waitFor("the CRL error", timeout: 10) { daemon.logText.contains("cannot publish a CRL") }
        #expect(try daemon.stop() == 0)
    }

    /// The CRL folder renamed away and made anew (or a link re-pointed): the next CRL goes
    /// to the folder the path names now, not to the one opened at start.
    @Test(.timeLimit(.minutes(10)))
    func aReplacedCRLFolderGetsTheNextCRL() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.5", "rescan_seconds": "0", "validity_hours": "0.05", "refresh_hours": "0.001"])
        try daemon.start()
        try daemon.waitFor("the first CRL", timeout: 10) { Self.crl(daemon) != nil }
        try FileManager.default.moveItem(atPath: daemon.root + "/public", toPath: daemon.root + "/public.old")
        try FileManager.default.createDirectory(atPath: daemon.root + "/public", withIntermediateDirectories: false)
        try daemon.waitFor("a CRL in the new folder", timeout: 20) { Self.crl(daemon) != nil }
        #expect(try CRLCheckers.problems(crlDER: try #require(Self.crl(daemon)), caCertificatePath: daemon.root + "/ca/ca.pem") == [])
        #expect(try daemon.stop() == 0)
    }

    @Test func revokingBySourceTakesEveryValidCertificateOfThatName() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try daemon.drop("lb.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["lb"])
        let first = try Self.serial(of: "lb", in: daemon)
        try FileManager.default.removeItem(atPath: daemon.outbox + "/lb.cer")
        try daemon.drop("lb.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["lb"])
        let second = try Self.serial(of: "lb", in: daemon)
        #expect(first != second)

        let listed = try DropCABinary.run(["list", "--json", "--config", daemon.config])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let renewal = objects.first { ($0["serial"] as? String)?.lowercased() == second.lowercased() }
        #expect((renewal?["supersedes"] as? [String])?.map { $0.lowercased() } == [first.lowercased()], "\(objects)")

        let bySource = try Self.revoke(daemon, ["--source", "lb.csr", "--reason", "superseded"])
        #expect(bySource.status == 0, "\(bySource.output)")
        #expect(bySource.stdout.split(separator: "\n").count == 2, "\(bySource.stdout)")
        // Again: both already revoked, nothing changes, exit 0; a name never used: exit 1.
        let again = try Self.revoke(daemon, ["--source", "lb.csr"])
        #expect(again.status == 0 && again.stdout.components(separatedBy: "already revoked").count == 3, "\(again.output)")
        let none = try Self.revoke(daemon, ["--source", "never.csr"])
        #expect(none.status == 1, "\(none.output)")
        // A list saved on another system: a byte-order mark and CRLF line ends.
        let windows = try Self.revoke(daemon, ["--from", "-"], stdin: [0xEF, 0xBB, 0xBF] + Array("\(first)\r\n\(second)\r\n".utf8))
        #expect(windows.status == 0 && windows.stdout.components(separatedBy: "already revoked").count == 3, "\(windows.output)")
        let empty = try Self.revoke(daemon, ["--from", "-"], stdin: Array("# nothing\n".utf8))
        #expect(empty.status == 2 && empty.stderr.contains("names no serial"), "\(empty.output)")
        let badLine = try Self.revoke(daemon, ["--from", "-"], stdin: Array("\(first)\nsecret-looking text\n".utf8))
        #expect(badLine.status == 2 && badLine.stderr.contains("line 2 of standard input") && !badLine.stderr.contains("secret"), "\(badLine.output)")
        #expect(try daemon.stop() == 0)
    }
}

