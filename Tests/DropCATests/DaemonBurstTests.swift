import Foundation
import TestSupport
import Testing

/// Bursts, crashes, reloads and the ledger commands against the real daemon.
@Suite(.serialized) struct DaemonBurstTests {
    /// The ledger as `dropca list --json` prints it.
    static func ledger(_ daemon: DaemonHarness) throws -> [[String: Any]] {
        let listed = try DropCABinary.run(["list", "--json", "--config", daemon.config])
        guard listed.succeeded, let array = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] else {
            throw HarnessError("dropca list --json: \(listed.output)")
        }
        return array
    }

    @Test(.timeLimit(.minutes(10)))
    func twentyThousandFilesWhileFrozenAreAllIssued() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        daemon.signal(SIGSTOP)
        let count = 20_000
        for index in 0..<count {
            try daemon.drop("burst-\(index).csr", SampleRequests.p256)
        }
        daemon.signal(SIGCONT)
        try daemon.waitFor("\(count) certificates", timeout: 240) { daemon.names(in: daemon.outbox).count == count }
        #expect(daemon.names(in: daemon.inbox).isEmpty)
        #expect(daemon.names(in: daemon.failed).isEmpty)
        #expect(daemon.logText.contains("overflowed"), "the burst must have overflowed the kernel's event queue")
        #expect(try daemon.stop() == 0)
        let ledger = try Self.ledger(daemon)
        #expect(ledger.count == count)
        #expect(Set(ledger.compactMap { $0["serial"] as? String }).count == count)
    }

    @Test(.timeLimit(.minutes(10)))
    func killedThreeTimesDuringABurstEveryInputEndsExactlyOnce() throws {
        let daemon = try DaemonHarness()
        let count = 3_000
        for index in 0..<count {
            try daemon.drop("crash-\(index).csr", SampleRequests.p256)
        }
        var previous = 0
        for round in 1...3 {
            try daemon.start()
            let target = previous + 300
            try daemon.waitFor("progress in round \(round)", timeout: 60) { daemon.names(in: daemon.outbox).count >= target }
            try daemon.kill9()
            previous = daemon.names(in: daemon.outbox).count
            #expect(previous < count, "the kill must land mid-burst")
        }
        try daemon.start()
        try daemon.waitFor("all \(count) certificates", timeout: 120) { daemon.names(in: daemon.inbox).isEmpty }
        #expect(try daemon.stop() == 0)

        let outbox = daemon.names(in: daemon.outbox)
        #expect(outbox.count == count)
        #expect(daemon.names(in: daemon.failed).isEmpty)
        let ledger = try Self.ledger(daemon)
        #expect(ledger.count == count, "exactly one issuance per input")
        let serials = ledger.compactMap { $0["serial"] as? String }
        #expect(Set(serials).count == serials.count, "no serial twice")
        let sources = ledger.compactMap { $0["source_file"] as? String }
        #expect(Set(sources).count == count)
        #expect(ledger.allSatisfy { !($0["published_at"] is NSNull) })
        // Each published certificate is the one the ledger holds for its input.
        for record in ledger.prefix(50) {
            guard let serial = record["serial"] as? String, let source = record["source_file"] as? String else { continue }
            let stem = String(source.dropLast(".csr".count))
            let shown = try DropCABinary.run(["show", serial, "--pem", "--config", daemon.config])
            let fromLedger = try ExternalTool.run("openssl", ["x509", "-noout", "-serial"], stdin: Array(shown.stdout.utf8))
            let fromOutbox = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-noout", "-serial"], stdin: daemon.certificate(stem))
            #expect(fromLedger.stdout == fromOutbox.stdout && !fromOutbox.stdout.isEmpty, "\(source)")
        }
    }

    @Test func reloadRefusesABrokenConfigAndTakesAGoodOne() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        let good = try String(contentsOfFile: daemon.config, encoding: .utf8)
        try (good + "\n[bogus]\nx = 1\n").write(toFile: daemon.config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try daemon.waitFor("the refused reload", timeout: 10) { daemon.logText.contains("reload refused") }
        try daemon.drop("still.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["still"])

        try good.replacingOccurrences(of: "validity_days = 365", with: "validity_days = 30").write(toFile: daemon.config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try daemon.waitFor("the reload", timeout: 10) { daemon.logText.contains("configuration reloaded") }
        try daemon.drop("after.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["after"])
        let dates = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-noout", "-enddate", "-dateopt", "iso_8601"], stdin: daemon.certificate("after"))
        let expected = Date().addingTimeInterval(30 * 86_400).formatted(.iso8601.year().month().day())
        #expect(dates.stdout.contains(expected), "\(dates.stdout) should end on \(expected)")
        #expect(try daemon.stop() == 0)
    }

    @Test func listAndShowReadTheLedger() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try daemon.drop("one.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["one"])
        #expect(try daemon.stop() == 0)
        let ledger = try Self.ledger(daemon)
        let record = try #require(ledger.first)
        for key in ["serial", "subject", "sans", "not_before", "not_after", "source_file", "csr_sha256", "issued_at"] {
            #expect(record[key] != nil, "list --json lacks \(key)")
        }
        #expect(record["source_file"] as? String == "one.csr")
        #expect(record["subject"] as? String == "CN=appliance.example")
        let serial = try #require(record["serial"] as? String)
        let outboxSerial = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-noout", "-serial"], stdin: daemon.certificate("one"))
        #expect(outboxSerial.stdout.lowercased().contains(serial))
        let shown = try DropCABinary.run(["show", serial.uppercased(), "--config", daemon.config])
        #expect(shown.status == 0 && shown.stdout.contains("one.csr"))
        let der = try DropCABinary.run(["show", serial, "--der", "--config", daemon.config])
        #expect(der.status == 0)
        let missing = try DropCABinary.run(["show", "00", "--config", daemon.config])
        #expect(missing.status == 1)
    }
}
