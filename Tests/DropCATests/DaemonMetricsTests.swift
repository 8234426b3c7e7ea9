import Foundation
import TestSupport
import Testing

/// The metrics file for node_exporter's textfile collector, judged by Prometheus' own tools:
/// `promtool check metrics` lints it, and a real `prometheus-node-exporter` on 127.0.0.1
/// serves it; the counts it gives are the ledger's.
@Suite(.serialized) struct DaemonMetricsTests {
    static let hasTools = FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus-node-exporter")

    /// `name{labels} value` lines of an exposition text, HELP/TYPE left out.
    static func samples(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            result[String(line[..<space])] = value
        }
        return result
    }

    static func ledgerCount(_ daemon: DaemonHarness, _ table: String) throws -> Int {
        try DaemonFaultTests.count(daemon, table)
    }

    final class NodeExporter {
        let process = Process()
        let port: UInt16

        init(textfileDirectory: String) throws {
            port = try SFTPTestServer.freePort()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-node-exporter")
            process.arguments = [
                "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults",
                "--collector.textfile", "--collector.textfile.directory=\(textfileDirectory)",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func scrape() throws -> String {
            let result = try ExternalTool.run("curl", ["-sf", "http://127.0.0.1:\(port)/metrics"])
            guard result.succeeded else { throw HarnessError("curl: \(result.output)") }
            return result.stdout
        }

        deinit {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
    }

    @Test(.enabled(if: hasTools, "needs promtool and prometheus-node-exporter (scripts/setup installs them)"),
          .timeLimit(.minutes(10)))
    func aBurstIsCountedAsTheLedgerCountsIt() throws {
        let textfiles = try TemporaryDirectory(prefix: "dropca-textfile")
        let path = textfiles.path("dropca.prom")
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.5", "rescan_seconds": "0", "textfile": "\"\(path)\""])
        try daemon.start()
        let exporter = try NodeExporter(textfileDirectory: textfiles.url.path)
        let good = 40, bad = 6
        for index in 0..<good { try daemon.drop("m-\(index).csr", SampleRequests.p256) }
        for index in 0..<bad { try daemon.drop("weak-\(index).csr", SampleRequests.rsa1024) }
        try daemon.waitFor("every input", timeout: 30) { daemon.names(in: daemon.inbox).isEmpty }

        // Read back through node_exporter once a rewrite (every 15 s) has the whole burst.
        var served: [String: Double] = [:]
        try daemon.waitFor("the burst in node_exporter's output", timeout: 40) {
            served = (try? Self.samples(exporter.scrape())) ?? [:]
            return served["dropca_certificates_issued_total{profile=\"default\"}"] == Double(good)
        }
        #expect(try Self.ledgerCount(daemon, "issuance") == good)
        let rejected = served.filter { $0.key.hasPrefix("dropca_requests_rejected_total{") }.values.reduce(0, +)
        #expect(rejected == Double(bad), "\(served.filter { $0.key.contains("rejected") })")
        #expect(try Self.ledgerCount(daemon, "rejection") == bad)
        // node_exporter puts labels in alphabetical order.
        #expect(served["dropca_requests_rejected_total{code=\"rsaKeyTooSmall\",profile=\"default\"}"] == Double(bad),
                "rejections carry their profile and code: \(served.keys.filter { $0.contains("rejected") })")
        #expect(served["dropca_publish_latency_seconds_count"] == Double(good))
        #expect(served["dropca_inputs_waiting"] == 0)
        #expect((served["dropca_last_issuance_timestamp_seconds"] ?? 0) > Date().timeIntervalSince1970 - 120)
        #expect((served["dropca_crl_number"] ?? 0) >= 1)
        #expect((served["dropca_crl_next_update_timestamp_seconds"] ?? 0) > Date().timeIntervalSince1970)
        #expect(served["dropca_certificates_expiring_30d"] == 0)
        #expect(served.keys.contains { $0.hasPrefix("dropca_build_info{version=") })
        // The CA's notAfter, as openssl reads it from the CA certificate.
        let caEnd = try ExternalTool.run("openssl", ["x509", "-in", daemon.root + "/ca/ca.pem", "-noout", "-enddate", "-dateopt", "iso_8601"])
        let endText = caEnd.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "notAfter=", with: "")
            .replacingOccurrences(of: " ", with: "T")
        let notAfter = try #require(ISO8601DateFormatter().date(from: endText), "\(caEnd.output)")
        #expect(served["dropca_ca_not_after_timestamp_seconds"] == notAfter.timeIntervalSince1970)

        #expect(try daemon.stop() == 0)
        // The file written at stop passes Prometheus' own lint.
        let lint = try ExternalTool.run("promtool", ["check", "metrics"], stdin: Array(try String(contentsOfFile: path, encoding: .utf8).utf8))
        #expect(lint.succeeded && lint.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool: \(lint.output)")
        let hidden = try FileManager.default.contentsOfDirectory(atPath: textfiles.url.path).filter { $0 != "dropca.prom" }
        #expect(hidden.isEmpty, "temporaries left: \(hidden)")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o644)
    }

    @Test func aTextfileMustEndInProm() throws {
        let daemon = try DaemonHarness()
        try daemon.configure(["textfile": "\"/tmp/dropca-metrics.txt\""])
        let check = try DropCABinary.run(["check-config", "--config", daemon.config])
        #expect(check.status == 2 && check.stderr.contains("metrics.textfile must name a file ending in .prom"), "\(check.output)")
    }
}
