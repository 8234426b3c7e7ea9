import Foundation
import TestSupport
import Testing

/// `dropca run` speaking systemd's languages: the notification protocol on a socket of
/// the test's own, and structured records in a real journald (README, "Follow it in the journal").
@Suite(.serialized) struct DaemonSystemdTests {
    /// Datagrams from the daemon with the time they arrived, gathered on a thread.
    final class NotifyRecorder: @unchecked Sendable {
        let socket: NotifySocketFixture
        private let lock = NSLock()
        private var received: [(at: Date, message: String)] = []
        private var running = true

        init() throws {
            socket = try NotifySocketFixture()
            Thread { [self] in
                while lock.withLock({ running }) {
                    if let message = socket.receive() {
                        lock.withLock { received.append((Date(), message)) }
                    }
                }
            }.start()
        }

        var messages: [(at: Date, message: String)] { lock.withLock { received } }

        func stop() { lock.withLock { running = false } }

        func waitFor(_ what: String, timeout: TimeInterval = 10, _ matches: (String) -> Bool) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while !messages.contains(where: { matches($0.message) }) {
                if Date() > deadline { throw HarnessError("no \(what) in \(messages.map(\.message))") }
                usleep(20_000)
            }
        }
    }

    @Test func notificationProtocol() throws {
        let recorder = try NotifyRecorder()
        defer { recorder.stop() }
        let daemon = try DaemonHarness()
        let watchdogMicroseconds = 1_000_000
        try daemon.start(environment: ["NOTIFY_SOCKET": recorder.socket.path, "WATCHDOG_USEC": "\(watchdogMicroseconds)"])
        try recorder.waitFor("READY=1") { $0.split(separator: "\n").contains("READY=1") }
        try daemon.drop("one.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["one"])
        try recorder.waitFor("a STATUS= with the issued count", timeout: 10) { $0.hasPrefix("STATUS=issued 1,") }

        // Let the watchdog run for a few intervals, then check every gap.
        Thread.sleep(forTimeInterval: 3)
        let pets = recorder.messages.filter { $0.message == "WATCHDOG=1" }.map(\.at)
        #expect(pets.count >= 5, "WATCHDOG=1 sent \(pets.count) times in about 3.5 s")
        let gaps = zip(pets.dropFirst(), pets).map { $0.timeIntervalSince($1) }
        #expect((gaps.max() ?? 99) <= Double(watchdogMicroseconds) / 2_000_000, "longest gap \(gaps.max() ?? -1) s")

        let beforeReload = recorder.messages.count
        daemon.signal(SIGHUP)
        try recorder.waitFor("READY=1 after the reload") { _ in
            recorder.messages.dropFirst(beforeReload).contains { $0.message.split(separator: "\n").contains("READY=1") }
        }
        let afterReload = recorder.messages.dropFirst(beforeReload).map(\.message)
        let reloading = afterReload.firstIndex { $0.split(separator: "\n").contains("RELOADING=1") }
        let ready = afterReload.firstIndex { $0.split(separator: "\n").contains("READY=1") }
        #expect(reloading != nil && ready != nil && reloading! < ready!, "RELOADING=1 then READY=1: \(afterReload)")
        if let reloading {
            #expect(afterReload[reloading].contains("MONOTONIC_USEC="), "RELOADING=1 carries MONOTONIC_USEC")
        }

        #expect(try daemon.stop() == 0)
        try recorder.waitFor("STOPPING=1") { $0.split(separator: "\n").contains("STOPPING=1") }
    }

    @Test func issuedAndRejectedFilesAreStructuredJournalRecords() async throws {
        try await JournaldFixture.ensureRunning()
        let daemon = try DaemonHarness()
        let run = UUID().uuidString.prefix(8).lowercased()
        try daemon.start(waitUntilReady: false, logTarget: "journal")
        try daemon.drop("good-\(run).csr", SampleRequests.p256)
        try daemon.drop("weak-\(run).csr", SampleRequests.rsa1024)
        try daemon.waitForCertificates(["good-\(run)"])
        try daemon.waitFor("the rejection", timeout: 20) { daemon.names(in: daemon.failed).contains("weak-\(run).csr.reason") }
        #expect(try daemon.stop() == 0)

        let catalog = try MessageCatalog.load()
        let known = Set(catalog.entries.map(\.id))
        var issued: JournaldFixture.Entry?
        var rejected: JournaldFixture.Entry?
        for _ in 0..<50 {
            issued = try JournaldFixture.readEntries(matching: "DROPCA_FILE=good-\(run).csr").first
            rejected = try JournaldFixture.readEntries(matching: "DROPCA_FILE=weak-\(run).csr").first
            if issued != nil && rejected != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let good = try #require(issued, "no journal record for the issued file")
        let weak = try #require(rejected, "no journal record for the rejected file")

        #expect(good["PRIORITY"] == "6")
        #expect(good["SYSLOG_IDENTIFIER"] == "dropca")
        #expect(good["DROPCA_SUBJECT"] == "CN=appliance.example")
        #expect(good["DROPCA_SERIAL"]?.count ?? 0 >= 16)
        #expect(good["DROPCA_NOT_AFTER"] != nil)
        #expect(good["DROPCA_CSR_SHA256"] == Self.sha256(SampleRequests.p256))
        #expect(good["MESSAGE"]?.contains("issued good-\(run).csr") == true)
        #expect(known.contains(good["MESSAGE_ID"] ?? ""), "MESSAGE_ID \(good["MESSAGE_ID"] ?? "none") is in dropca.catalog")

        #expect(weak["PRIORITY"] == "4")
        #expect(weak["DROPCA_REASON"] == "RSA key of 1024 bits is below policy.min_rsa_bits = 2048")
        #expect(known.contains(weak["MESSAGE_ID"] ?? ""))
        #expect(weak["MESSAGE_ID"] != good["MESSAGE_ID"])
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        let result = try? ExternalTool.run("openssl", ["dgst", "-sha256", "-r"], stdin: bytes)
        return String(result?.stdout.prefix(64) ?? "")
    }
}
