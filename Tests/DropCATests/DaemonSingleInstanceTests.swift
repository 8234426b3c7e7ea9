import Foundation
import TestSupport
import Testing

/// One `dropca run` per state directory: a second one exits 2 at once and touches nothing,
/// however often it is started and whenever.
@Suite(.serialized) struct DaemonSingleInstanceTests {
    /// Runs a second `dropca run` on the harness's configuration to its end.
    static func secondInstance(_ daemon: DaemonHarness) throws -> ToolResult {
        try DropCABinary.run(["run", "--config", daemon.config, "--log-target", "stderr"])
    }

    @Test func aSecondInstanceExitsTwoWhileTheFirstGoesOn() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        let pid = try #require(daemon.process?.processIdentifier)

        let second = try Self.secondInstance(daemon)
        #expect(second.status == 2, "\(second.output)")
        #expect(second.stderr.contains("another dropca (pid \(pid)) is using "), "\(second.stderr)")
        #expect(second.stderr.contains(daemon.root.replacingOccurrences(of: "//", with: "/") + "/state"), "\(second.stderr)")
        #expect(!second.stderr.contains("dropca started"))

        try daemon.drop("after-second.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["after-second"])
        #expect(try daemon.stop() == 0)

        // The lock goes with the process: the next start takes it, also after a SIGKILL.
        try daemon.start()
        try daemon.kill9()
        try daemon.start()
        try daemon.drop("after-kill.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["after-kill"])
        #expect(try daemon.stop() == 0)
    }

    @Test(.timeLimit(.minutes(10)))
    func secondInstancesStartedMidBurstChangeNothing() throws {
        let daemon = try DaemonHarness()
        let count = 3_000
        for index in 0..<count {
            try daemon.drop("burst-\(index).csr", SampleRequests.p256)
        }
        try daemon.start(waitUntilReady: false)
        try daemon.waitFor("the burst to be under way", timeout: 60) { daemon.names(in: daemon.outbox).count >= 200 }
        var refused = 0
        while daemon.names(in: daemon.inbox).count > 300 {
            let second = try Self.secondInstance(daemon)
            #expect(second.status == 2, "\(second.output)")
            if second.status == 2 { refused += 1 }
        }
        #expect(refused >= 1, "a second instance must have been started while the first was busy")
        try daemon.waitFor("all \(count) certificates", timeout: 120) { daemon.names(in: daemon.inbox).isEmpty }
        #expect(try daemon.stop() == 0)

        #expect(daemon.names(in: daemon.outbox).count == count)
        #expect(daemon.names(in: daemon.failed).isEmpty)
        let ledger = try DaemonBurstTests.ledger(daemon)
        #expect(ledger.count == count, "exactly one issuance per input")
        #expect(Set(ledger.compactMap { $0["serial"] as? String }).count == count)
        #expect(Set(ledger.compactMap { $0["source_file"] as? String }).count == count)
    }
}
