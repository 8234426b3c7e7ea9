import Foundation
import Issuance
import TestSupport
import Testing

/// The CA's dates and the ledger's file at a clean stop.
@Suite(.serialized) struct DaemonStartAndStopTests {
    /// A CA whose notBefore is still ahead (a wrong clock, a CA made for later) would sign
    /// certificates valid before their issuer: refused at start and by check-config.
    @Test func aCAThatIsNotValidYetIsRefused() throws {
        let daemon = try DaemonHarness()
        let future = try DevelopmentCA.generate(commonName: "future CA", now: Date().addingTimeInterval(2 * 86_400))
        try future.certificatePEM.write(toFile: daemon.root + "/ca/ca.pem", atomically: true, encoding: .utf8)
        try future.privateKeyPEM.write(toFile: daemon.root + "/ca/ca.key", atomically: true, encoding: .utf8)
        let check = try DropCABinary.run(["check-config", "--config", daemon.config])
        #expect(check.status == 2 && check.stderr.contains("is not valid before"), "\(check.output)")
        try daemon.start(waitUntilReady: false)
        #expect(try daemon.waitForExit(timeout: 20) == 2)
        #expect(daemon.logText.contains("is not valid before"), "\(daemon.logText)")
    }

    @Test func aCleanStopLeavesTheWholeLedgerInItsMainFile() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try daemon.drop("one.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["one"])
        #expect(try daemon.stop() == 0)
        let wal = daemon.root + "/state/ledger.sqlite-wal"
        let walSize = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
        #expect(walSize == 0, "the -wal file still holds \(walSize) bytes")
        // The main file alone is a complete ledger: a copy of it lists the certificate.
        let copy = try TemporaryDirectory(prefix: "dropca-ledger-copy")
        try FileManager.default.copyItem(atPath: daemon.root + "/state/ledger.sqlite", toPath: copy.path("ledger.sqlite"))
        let config = try String(contentsOfFile: daemon.config, encoding: .utf8)
            .replacingOccurrences(of: "directory = \"state\"", with: "directory = \"\(copy.url.path)\"")
        try config.write(toFile: copy.path("dropca.toml"), atomically: true, encoding: .utf8)
        let listed = try DropCABinary.run(["list", "--config", copy.path("dropca.toml")])
        #expect(listed.status == 0 && listed.stdout.contains("one.csr"), "\(listed.output)")
    }

    /// A CA that runs out while the daemon runs rejects nothing: requests wait in the inbox
    /// and are issued once a reload brings a valid CA.
    @Test(.timeLimit(.minutes(10)))
    func requestsWaitWhileTheCAIsExpiredAndAreIssuedAfterAReload() throws {
        let daemon = try DaemonHarness()
        // A CA that ends in 6 seconds: made "3650 days ago".
        let validity: TimeInterval = 6
        let ending = try DevelopmentCA.generate(commonName: "ending CA", validityDays: 3650,
                                                now: Date().addingTimeInterval(validity - 3650 * 86_400))
        try ending.certificatePEM.write(toFile: daemon.root + "/ca/ca.pem", atomically: true, encoding: .utf8)
        try ending.privateKeyPEM.write(toFile: daemon.root + "/ca/ca.key", atomically: true, encoding: .utf8)
        try daemon.start()
        let started = Date()
        try daemon.drop("before.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["before"])
        Thread.sleep(until: started.addingTimeInterval(validity + 1))

        try daemon.drop("after.csr", SampleRequests.p256)
        try daemon.waitFor("the CA problem in the log", timeout: 10) { daemon.logText.contains("the CA cannot sign") }
        Thread.sleep(forTimeInterval: 2)
        #expect(daemon.names(in: daemon.inbox) == ["after.csr"], "the request waits in the inbox")
        #expect(daemon.names(in: daemon.failed).isEmpty, "nothing is rejected for an expired CA")

        let renewed = try DevelopmentCA.generate(commonName: "renewed CA")
        try renewed.certificatePEM.write(toFile: daemon.root + "/ca/ca.pem", atomically: true, encoding: .utf8)
        try renewed.privateKeyPEM.write(toFile: daemon.root + "/ca/ca.key", atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try daemon.waitForCertificates(["after"], timeout: 20)
        #expect(daemon.names(in: daemon.failed).isEmpty)
        #expect(try daemon.stop() == 0)
    }
}

/// Inputs a failure left in the inbox come back without a rescan setting.
@Suite(.serialized) struct DaemonRetryTests {
    /// The outbox on a real, full filesystem (a 64 KiB tmpfs filled up): the certificate
    /// cannot be published, the request stays in the inbox; once there is room again it is
    /// published within seconds, although `rescan_seconds = 0` turns the periodic scan off.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"), .timeLimit(.minutes(10)))
    func aFullOutboxIsRetriedWithoutThePeriodicRescan() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.5", "rescan_seconds": "0"])
        let mount = try ExternalTool.run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", daemon.outbox])
        try #require(mount.succeeded, "\(mount.output)")
        defer { _ = try? ExternalTool.run("umount", ["-l", daemon.outbox]) }
        let filler = daemon.outbox + "/.filler"
        _ = try ExternalTool.run("dd", ["if=/dev/zero", "of=\(filler)", "bs=4096"])
        try daemon.start()
        try daemon.drop("waits.csr", SampleRequests.p256)
        try daemon.waitFor("the failed publication", timeout: 15) { daemon.logText.contains("cannot publish") }
        #expect(daemon.names(in: daemon.inbox) == ["waits.csr"], "the request stays in the inbox")
        #expect(daemon.names(in: daemon.failed).isEmpty)

        try FileManager.default.removeItem(atPath: filler)
        try daemon.waitForCertificates(["waits"], timeout: 40)
        try daemon.waitFor("the input to go", timeout: 10) { daemon.names(in: daemon.inbox).isEmpty }
        #expect(try daemon.stop() == 0)
        let ledger = try DaemonBurstTests.ledger(daemon)
        #expect(ledger.count == 1, "published from its record, not issued twice: \(ledger.count) rows")
    }
}
