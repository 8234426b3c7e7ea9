import Foundation
import TestSupport
import Testing

/// The ledger file taken away from a running daemon: deleted, or truncated after a
/// checkpoint. Either ends the run (exit 1, one journal line naming the file), no
/// certificate is published whose record went to the lost file, and the next start refuses
/// until the ledger is restored or `--new-ledger` is given.
@Suite(.serialized) struct DaemonLedgerLossTests {
    static func ledgerPath(_ daemon: DaemonHarness) -> String { daemon.stateDirectory + "/ledger.sqlite" }

    /// The files in the state directory whose names start with `prefix`.
    static func stateFiles(_ daemon: DaemonHarness, prefix: String) -> [String] {
        daemon.names(in: daemon.stateDirectory).filter { $0.hasPrefix(prefix) }.map { daemon.stateDirectory + "/" + $0 }
    }

    /// The text after "cannot start: " in the log's last such line, up to its metadata.
    static func refusal(in log: String) -> String? {
        guard let line = log.split(separator: "\n").last(where: { $0.contains("cannot start: ") }),
              let start = line.range(of: "cannot start: ") else { return nil }
        let rest = line[start.upperBound...]
        return String(rest.range(of: " message_id=").map { rest[..<$0.lowerBound] } ?? rest)
    }

    /// Requests for a burst, every 150th one a weak RSA key that is refused.
    static func burst(_ count: Int, prefix: String) -> (all: [String], rejected: Set<String>) {
        let names = (0..<count).map { "\(prefix)-\($0).csr" }
        return (names, Set(names.enumerated().filter { $0.offset % 150 == 7 }.map(\.element)))
    }

    static func drop(_ daemon: DaemonHarness, _ burst: (all: [String], rejected: Set<String>)) throws {
        for name in burst.all {
            try daemon.drop(name, burst.rejected.contains(name) ? SampleRequests.rsa1024 : SampleRequests.p256)
        }
    }

    @Test(.timeLimit(.minutes(10)))
    func aLedgerDeletedDuringABurstEndsTheRunAndIsRefusedUntilNewLedger() throws {
        let daemon = try DaemonHarness()
        let burst = Self.burst(3_000, prefix: "burst")
        try Self.drop(daemon, burst)
        try daemon.start()
        try daemon.waitFor("the burst to be under way", timeout: 60) { daemon.names(in: daemon.outbox).count >= 300 }
        let ledger = Self.ledgerPath(daemon)
        for suffix in ["", "-wal", "-shm"] { try FileManager.default.removeItem(atPath: ledger + suffix) }

        #expect(try daemon.waitForExit(timeout: 30) == 1)
        let log = daemon.logText
        #expect(log.contains("the ledger \(ledger) was deleted or moved away"), "\(log.suffix(2000))")
        let lostLines = log.split(separator: "\n").filter { $0.contains("the ledger is lost") }
        #expect(lostLines.count == 1, "one journal line: \(lostLines)")
        let published = daemon.names(in: daemon.outbox).count
        #expect(published < burst.all.count, "the deletion must land mid-burst")
        #expect(!daemon.names(in: daemon.inbox).isEmpty, "what was not issued waits in the inbox")

        // The ledger the daemon had open was saved; every certificate in the outbox has its
        // published row there: nothing was published whose record went nowhere.
        let rescued = try #require(Self.stateFiles(daemon, prefix: "ledger.sqlite.rescued-").first)
        #expect(lostLines.first?.contains("saved as \(rescued)") == true, "\(lostLines)")
        let saved = try LedgerReconciliation(ledgers: [rescued])
        for name in daemon.names(in: daemon.outbox) {
            let input = String(name.dropLast(".cer".count)) + ".csr"
            let serial = try LedgerReconciliation.serial(ofCertificate: try #require(daemon.certificate(String(name.dropLast(4)))))
            #expect(saved.certificates[input]?.contains { $0.published && $0.serial == serial } == true, "\(name) has no published row")
        }

        // Refused at the next start, with one line that says why; check-config says the same.
        try daemon.start(waitUntilReady: false)
        #expect(try daemon.waitForExit(timeout: 20) == 2)
        let reason = try #require(Self.refusal(in: daemon.logText))
        #expect(reason.hasPrefix("the ledger \(ledger) is missing, but \(daemon.stateDirectory)/ledger.id says ledger "), "\(reason)")
        let check = try DropCABinary.run(["check-config", "--config", daemon.config])
        #expect(check.status == 2 && check.stderr.contains("error: \(reason)"), "\(check.output)")
        #expect(!FileManager.default.fileExists(atPath: ledger), "a refused start makes no ledger")

        try daemon.start(arguments: ["--new-ledger"])
        #expect(daemon.logText.contains("started a new ledger"))
        try daemon.waitFor("the rest of the burst", timeout: 180) { daemon.names(in: daemon.inbox).isEmpty }
        #expect(try daemon.stop() == 0)
        let account = try LedgerReconciliation(ledgers: [rescued, ledger])
        let problems = try account.problems(daemon, inputs: burst.all, rejected: burst.rejected)
        #expect(problems.isEmpty, "\(problems.prefix(10))")
    }

    @Test(.timeLimit(.minutes(10)))
    func aLedgerTruncatedAfterACheckpointEndsTheRun() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        for index in 0..<20 { try daemon.drop("first-\(index).csr", SampleRequests.p256) }
        try daemon.waitForCertificates((0..<20).map { "first-\($0)" })
        #expect(try daemon.stop() == 0)
        let ledger = Self.ledgerPath(daemon)
        let checkpointed = try #require(try FileManager.default.attributesOfItem(atPath: ledger)[.size] as? Int)
        #expect(checkpointed > 4096, "the clean stop moved the ledger into its main file")

        try daemon.start()
        #expect(truncate(ledger, 0) == 0)
        try daemon.drop("after.csr", SampleRequests.p256)
        #expect(try daemon.waitForExit(timeout: 20) == 1)
        #expect(daemon.logText.contains("the ledger \(ledger) was truncated from \(checkpointed) to 0 bytes"), "\(daemon.logText.suffix(2000))")
        #expect(daemon.certificate("after") == nil, "never published on a record in a truncated file")
        #expect(daemon.names(in: daemon.inbox) == ["after.csr"])

        try daemon.start(waitUntilReady: false)
        #expect(try daemon.waitForExit(timeout: 20) == 2)
        let reason = try #require(Self.refusal(in: daemon.logText))
        #expect(reason.hasPrefix("the ledger \(ledger) is empty (0 bytes), but "), "\(reason)")

        try daemon.start(arguments: ["--new-ledger"])
        try daemon.waitForCertificates(["after"])
        #expect(try daemon.stop() == 0)
        let kept = try #require(Self.stateFiles(daemon, prefix: "ledger.sqlite.old-").first { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") })
        #expect((try FileManager.default.attributesOfItem(atPath: kept)[.size] as? Int) == 0, "the truncated file is kept as it was")
        #expect(FileManager.default.fileExists(atPath: kept + "-wal"), "with its log")
        // The first twenty were recorded only in the truncated file: their certificates are
        // in the outbox and no ledger has them. The account holds for what came after.
        let problems = try LedgerReconciliation(ledgers: [ledger]).problems(
            daemon, inputs: ["after.csr"], lostWithTheLedger: Set((0..<20).map { "first-\($0).cer" }))
        #expect(problems.isEmpty, "\(problems)")
    }

    /// Only the -wal deleted: the records since the last checkpoint live in the open,
    /// unlinked log. The run ends (exit 1), the log is moved into the main file first, and
    /// the next start takes the ledger as it is: nothing was lost.
    @Test(.timeLimit(.minutes(10)))
    func aDeletedLogEndsTheRunAndLosesNothing() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        let names = (0..<10).map { "logged-\($0)" }
        for name in names { try daemon.drop(name + ".csr", SampleRequests.p256) }
        try daemon.waitForCertificates(names)
        let ledger = Self.ledgerPath(daemon)
        try FileManager.default.removeItem(atPath: ledger + "-wal")
        #expect(try daemon.waitForExit(timeout: 20) == 1)
        #expect(daemon.logText.contains("\(ledger)-wal, part of the open ledger, was deleted; the transactions in the open -wal were moved into \(ledger)"), "\(daemon.logText.suffix(1500))")
        #expect(daemon.logText.contains("the ledger is whole, and the next start takes it"))

        try daemon.start()
        try daemon.drop("after.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["after"])
        #expect(try daemon.stop() == 0)
        let problems = try LedgerReconciliation(ledgers: [ledger]).problems(daemon, inputs: names.map { $0 + ".csr" } + ["after.csr"])
        #expect(problems.isEmpty, "\(problems)")
    }
}
