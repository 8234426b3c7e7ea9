import Foundation
import TestSupport
import Testing

/// The CA key on a real SoftHSM2 token (``SoftHSMToken``), served by the real daemon:
/// certificates and CRLs signed through the token pass the three independent checkers, as
/// with key files; every way the token can be wrong stops `check-config` and `run` with one
/// line and never shows the PIN; a token that stops signing mid-burst holds the requests in
/// the inbox, and they are issued once it is back, none rejected.
///
/// No time limits: every wait here is bounded on its own, and Swift Testing's limit clock
/// runs while the suite's long package tests keep the runner's threads (see
/// LedgerReadingTests).
@Suite(.serialized, .enabled(if: SoftHSMToken.isAvailable, "needs softhsm2, opensc and libengine-pkcs11-openssl (scripts/setup installs them)"))
struct DaemonTokenTests {
    static func daemon(with token: SoftHSMToken) throws -> DaemonHarness {
        let daemon = try DaemonHarness()
        try token.configure(daemon)
        return daemon
    }

    @Test(arguments: SoftHSMToken.KeyType.allCases)
    func certificatesAndCRLsSignedOnTheTokenPassTheCheckers(_ keyType: SoftHSMToken.KeyType) throws {
        let token = try SoftHSMToken(keyType: keyType)
        let daemon = try Self.daemon(with: token)
        let check = try DropCABinary.run(["check-config", "--config", daemon.config], environment: token.environment)
        #expect(check.status == 0 && check.stdout.contains("on the token \(token.label)"), "\(check.output)")

        try daemon.start(environment: token.environment)
        let stems = (0..<6).map { "device-\($0)" }
        for (index, stem) in stems.enumerated() {
            try daemon.drop("\(stem).csr", index % 2 == 0 ? SampleRequests.p256 : SampleRequests.rsa2048)
        }
        try daemon.waitForCertificates(stems)
        for stem in stems {
            let der = try #require(daemon.certificate(stem))
            #expect(try IndependentCheckers.problems(certificateDER: der, caCertificatePath: token.caCertificate) == [], "\(keyType) \(stem)")
        }

        // A CRL signed on the token, with one of them revoked.
        let serial = try DaemonRevocationTests.serial(of: stems[0], in: daemon)
        let revoked = try DropCABinary.run(["revoke", "--config", daemon.config, serial], environment: token.environment)
        #expect(revoked.status == 0, "\(revoked.output)")
        let crl = try #require(DaemonRevocationTests.crl(daemon))
        #expect(try CRLCheckers.problems(crlDER: crl, caCertificatePath: token.caCertificate) == [], "\(keyType) CRL")
        let refused = try CRLCheckers.verify(certificateDER: try #require(daemon.certificate(stems[0])), caCertificatePath: token.caCertificate, crlDER: crl)
        #expect(!refused.succeeded && refused.output.contains("certificate revoked"), "\(refused.output)")
        #expect(try daemon.stop() == 0)

        // The key was made on the token and can never leave it; nothing dropca wrote holds
        // a private key or the PIN.
        let objects = try token.objects()
        let privateKey = try #require(objects.components(separatedBy: "Private Key Object").dropFirst().first, "\(objects)")
        #expect(privateKey.contains("never extractable") && privateKey.contains("sensitive"), "\(privateKey)")
        for folder in [daemon.root + "/state", daemon.outbox, daemon.root + "/public"] {
            for name in daemon.names(in: folder) {
                let bytes = FileManager.default.contents(atPath: folder + "/" + name) ?? Data()
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(!text.contains("PRIVATE KEY") && !text.contains(token.pin), "\(folder)/\(name)")
            }
        }
        #expect(!daemon.logText.contains(token.pin) && !check.output.contains(token.pin))
    }

    /// A reload makes a new CA on the same token (a second key object of one module, while
    /// the first still exists) and goes on signing. A wrong PIN in a reload cannot be tried:
    /// Cryptoki keeps one login per process, and the running CA holds it. The reload line
    /// says so, and `check-config`, a process of its own, refuses the PIN.
    @Test
    func aReloadSignsOnTheTokenAndSaysWhenItCouldNotTryThePIN() throws {
        let token = try SoftHSMToken(keyType: .p256)
        let daemon = try Self.daemon(with: token)
        try daemon.start(environment: token.environment)
        try daemon.drop("before.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["before"])
        for round in 1...2 {
            let reloads = daemon.logText.components(separatedBy: "configuration reloaded").count
            daemon.signal(SIGHUP)
            try daemon.waitFor("reload \(round)", timeout: 20) { daemon.logText.components(separatedBy: "configuration reloaded").count > reloads }
            try daemon.drop("after-\(round).csr", SampleRequests.p256)
            try daemon.waitForCertificates(["after-\(round)"])
        }
        let wrongPIN = token.directory.path("wrong-pin")
        try "0000-0000\n".write(toFile: wrongPIN, atomically: true, encoding: .utf8)
        var text = try String(contentsOfFile: daemon.config, encoding: .utf8)
        text = text.replacingOccurrences(of: "pin = \"\(token.pinFile)\"", with: "pin = \"\(wrongPIN)\"")
        try text.write(toFile: daemon.config, atomically: true, encoding: .utf8)
        let reloads = daemon.logText.components(separatedBy: "configuration reloaded").count
        daemon.signal(SIGHUP)
        try daemon.waitFor("the reload", timeout: 20) { daemon.logText.components(separatedBy: "configuration reloaded").count > reloads }
        let lastReload = daemon.logText.components(separatedBy: "\n").last { $0.contains("configuration reloaded") } ?? ""
        #expect(lastReload.contains("logged in already, so ca.pin was not tried: dropca check-config tries it"), "\(lastReload)")
        let check = try DropCABinary.run(["check-config", "--config", daemon.config], environment: token.environment)
        #expect(check.status == 2 && check.stderr.contains("refused the PIN in ca.pin"), "\(check.output)")
        try daemon.drop("kept.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["kept"])
        #expect(try daemon.stop() == 0)
        for stem in ["before", "after-1", "after-2", "kept"] {
            #expect(try IndependentCheckers.problems(certificateDER: try #require(daemon.certificate(stem)), caCertificatePath: token.caCertificate) == [], "\(stem)")
        }
        #expect(daemon.names(in: daemon.failed).isEmpty)
        #expect(!daemon.logText.contains(token.pin) && !daemon.logText.contains("0000-0000"))
    }

    /// Each way the token setting can be wrong: one line on standard error, exit 2, from
    /// `check-config` and from `run` alike, and the PIN in neither. (A URI naming a token
    /// other than those present is a wrong setting; no token present at all may be one not
    /// plugged in yet, which `run` exits 1 for: SFTPEndToEndTests+Token.)
    @Test
    func aWrongTokenSettingStopsCheckConfigAndRunWithOneLine() throws {
        let token = try SoftHSMToken(keyType: .p256)
        let wrongPIN = token.directory.path("wrong-pin")
        try "0000-0000\n".write(toFile: wrongPIN, atomically: true, encoding: .utf8)
        let cases: [(what: String, key: String?, module: String?, pin: String?, says: String)] = [
            ("wrong PIN", nil, nil, wrongPIN, "refused the PIN in ca.pin (CKR_PIN_INCORRECT)"),
            ("missing token", "pkcs11:token=elsewhere;object=ca;type=private", nil, nil, "no token matches pkcs11:token=elsewhere"),
            ("missing module", nil, "/usr/lib/softhsm/libnosuch.so", nil, "the PKCS#11 module /usr/lib/softhsm/libnosuch.so (ca.pkcs11_module) does not exist"),
            ("not a module", nil, "/usr/lib/x86_64-linux-gnu/libc.so.6", nil, "is not a PKCS#11 module"),
            ("unknown object", "pkcs11:token=\(token.label);object=other;type=private", nil, nil, "no private key matches pkcs11:token=\(token.label);object=other"),
            ("no PIN file", nil, nil, token.directory.path("no-such-pin"), "ca.pin"),
        ]
        for item in cases {
            let daemon = try DaemonHarness()
            try token.configure(daemon, key: item.key, module: item.module, pin: item.pin)
            let check = try DropCABinary.run(["check-config", "--config", daemon.config], environment: token.environment)
            #expect(check.status == 2, "\(item.what): \(check.output)")
            let errors = check.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
            #expect(errors.count == 1 && errors[0].contains(item.says), "\(item.what): \(check.stderr)")
            let run = try DropCABinary.run(["run", "--config", daemon.config, "--log-target", "stderr"], environment: token.environment)
            #expect(run.status == 2, "\(item.what): \(run.output)")
            #expect(run.stderr.contains(item.says), "\(item.what): \(run.stderr)")
            for output in [check.output, run.output] {
                #expect(!output.contains(token.pin) && !output.contains("0000-0000"), "\(item.what): the PIN is in the output")
            }
        }
        // A PIN in the URI is refused where it is written, not used.
        let daemon = try DaemonHarness()
        try token.configure(daemon, key: token.uri + "?pin-value=\(token.pin)")
        let check = try DropCABinary.run(["check-config", "--config", daemon.config], environment: token.environment)
        #expect(check.status == 2 && check.stderr.contains("carries a PIN (pin-value)"), "\(check.output)")
    }

    /// The token disappears in the middle of a burst (SoftHSM2 then answers
    /// CKR_OBJECT_HANDLE_INVALID, as for a token pulled out) and comes back: the requests
    /// wait in the inbox, one line says why, and every one ends as a certificate. Two ways:
    /// the whole token store goes (the module cannot even initialize while it is away), or
    /// only this token's folder in it (the module initializes, but finds no such token).
    @Test(arguments: ["store", "token folder"])
    func aTokenThatStopsSigningMidBurstHoldsRequestsUntilItIsBack(_ what: String) throws {
        let token = try SoftHSMToken(keyType: .p256)
        let daemon = try Self.daemon(with: token)
        try daemon.configure(["settle_seconds": "0", "rescan_seconds": "0"])
        try daemon.start(environment: token.environment)
        let total = 400
        let away = token.directory.path("tokens.away")
        if what == "token folder" {
            let folders = try FileManager.default.contentsOfDirectory(atPath: token.tokenStore)
            try #require(folders.count == 1, "\(folders)")
            token.movedFolder = "/" + folders[0]
        }
        var moved = false
        for index in 0..<total {
            try daemon.drop("burst-\(index).csr", SampleRequests.p256)
            if !moved && daemon.names(in: daemon.outbox).filter({ $0.hasSuffix(".cer") }).count >= 20 {
                try FileManager.default.moveItem(atPath: token.tokenStore + token.movedFolder, toPath: away)
                moved = true
            }
        }
        if !moved {
            try daemon.waitFor("some certificates before the token goes", timeout: 20) { daemon.names(in: daemon.outbox).count >= 20 }
            try FileManager.default.moveItem(atPath: token.tokenStore + token.movedFolder, toPath: away)
        }
        try daemon.waitFor("the daemon to say the CA cannot sign", timeout: 20) { daemon.logText.contains("the CA cannot sign") }
        // While the token is gone nothing is issued and nothing is rejected.
        Thread.sleep(forTimeInterval: 3)
        let issuedWhileAway = daemon.names(in: daemon.outbox).filter { $0.hasSuffix(".cer") }.count
        Thread.sleep(forTimeInterval: 2)
        #expect(daemon.names(in: daemon.outbox).filter { $0.hasSuffix(".cer") }.count == issuedWhileAway)
        #expect(issuedWhileAway < total, "the token went after the burst was done")
        #expect(daemon.names(in: daemon.failed).isEmpty)

        try FileManager.default.moveItem(atPath: away, toPath: token.tokenStore + token.movedFolder)
        try daemon.waitFor("every request issued", timeout: 60) {
            daemon.names(in: daemon.outbox).filter { $0.hasSuffix(".cer") }.count == total
        }
        #expect(daemon.names(in: daemon.inbox).isEmpty)
        #expect(daemon.names(in: daemon.failed).isEmpty, "\(daemon.names(in: daemon.failed).prefix(3))")
        #expect(try DaemonFaultTests.count(daemon, "issuance") == total)
        #expect(try DaemonFaultTests.count(daemon, "rejection") == 0)
        let log = daemon.logText
        #expect(log.components(separatedBy: "the CA cannot sign").count - 1 == 1, "one line for the outage:\n\(log.suffix(2000))")
        #expect(log.contains("requests wait in the inbox until the token signs again (tried every 2 s)"), "\(log.suffix(2000))")
        #expect(log.contains("the CA can sign again"))
        #expect(try daemon.stop() == 0)
        for stem in ["burst-0", "burst-\(total - 1)"] {
            #expect(try IndependentCheckers.problems(certificateDER: try #require(daemon.certificate(stem)), caCertificatePath: token.caCertificate) == [])
        }
    }

    /// A token that comes back with another PIN refuses dropca's: dropca stops trying (every
    /// try could bring the PIN closer to being locked) and says so in a second line, which
    /// now tells the operator to act; with ca.pin corrected, a reload issues what waited.
    @Test
    func aTokenBackWithAnotherPINIsNotTriedAgainUntilAReload() throws {
        let token = try SoftHSMToken(keyType: .p256)
        let daemon = try Self.daemon(with: token)
        try daemon.configure(["settle_seconds": "0", "rescan_seconds": "0"])
        try daemon.start(environment: token.environment)
        try daemon.drop("before.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["before"])

        let away = token.directory.path("tokens.away")
        try FileManager.default.moveItem(atPath: token.tokenStore, toPath: away)
        try daemon.drop("waiting.csr", SampleRequests.p256)
        try daemon.waitFor("the outage line", timeout: 20) { daemon.logText.contains("until the token signs again") }
        // The PIN changed while the token was away (its store seen through a configuration of its own).
        let awayConfiguration = token.directory.path("away.conf")
        try "directories.tokendir = \(away)\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: awayConfiguration, atomically: true, encoding: .utf8)
        let newPIN = "2222-3333"
        let changed = try ExternalTool.run("pkcs11-tool", ["--module", SoftHSMToken.module, "--token-label", token.label, "--login",
                                                           "--pin", token.pin, "--change-pin", "--new-pin", newPIN],
                                           environment: ["SOFTHSM2_CONF": awayConfiguration])
        try #require(changed.succeeded, "\(changed.output)")
        try FileManager.default.moveItem(atPath: away, toPath: token.tokenStore)

        try daemon.waitFor("the line that dropca stopped trying", timeout: 20) { daemon.logText.contains("dropca stops trying") }
        Thread.sleep(forTimeInterval: 5)
        let log = daemon.logText
        #expect(log.components(separatedBy: "the CA cannot sign").count - 1 == 2, "the outage, then the refused PIN:\n\(log.suffix(2000))")
        let refusedLine = log.components(separatedBy: "\n").last { $0.contains("the CA cannot sign") } ?? ""
        #expect(refusedLine.contains("until ca.pin is corrected and dropca reloaded"), "\(refusedLine)")
        #expect(daemon.names(in: daemon.inbox) == ["waiting.csr"])
        #expect(daemon.names(in: daemon.failed).isEmpty)

        try (newPIN + "\n").write(toFile: token.pinFile, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try daemon.waitForCertificates(["waiting"])
        #expect(try daemon.stop() == 0)
        #expect(try IndependentCheckers.problems(certificateDER: try #require(daemon.certificate("waiting")), caCertificatePath: token.caCertificate) == [])
        #expect(daemon.names(in: daemon.failed).isEmpty)
        #expect(!daemon.logText.contains(token.pin) && !daemon.logText.contains(newPIN))
    }
}
